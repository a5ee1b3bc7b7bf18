"""One worker's lifecycle: boot the app, report ready, serve hand-offs, drain, exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from sockd.config.options import WorkerOptions
from sockd.errors import UserError
from sockd.logs import route_library_logs_to_root
from sockd.wire.frames import Kind
from sockd.worker.bus.bus_probe import Prober
from sockd.worker.bus.encoded_broadcast import EncodedBroadcast
from sockd.worker.bus.managers import MasterBusManager, redis_bus
from sockd.worker.bus.redis_bus import RedisBus
from sockd.worker.cluster import admin_ui
from sockd.worker.cluster.attach import attach, refuse
from sockd.worker.cluster.ipc_transport import IpcTransport
from sockd.worker.cluster.redis_transport import RedisTransport
from sockd.worker.cluster.requester import Cluster, Transport
from sockd.worker.compat.guard import check_libraries
from sockd.worker.compat.install import CompatConfig, install, install_engineio
from sockd.worker.hosting.app_loader import LoadedApp, load
from sockd.worker.hosting.counters import WorkerCounters, bus_figures, sessions_by_transport
from sockd.worker.hosting.drain import end_all_sessions
from sockd.worker.hosting.drain_gate import DrainGate
from sockd.worker.hosting.gc_tuning import tune_collector
from sockd.worker.hosting.handoff_intake import HandoffIntake
from sockd.worker.hosting.master_link import MasterLink
from sockd.worker.hosting.request_head import head_limits
from sockd.worker.hosting.sid_owner import SidOwnerGate
from sockd.worker.hosting.uvicorn_adapter import UvicornHost
from sockd.worker.recovery.master_bus import RecoveringMasterBus

HEARTBEAT_INTERVAL = 1.0
#: Drain bound when the master vanished: nobody will kill us, so be quick.
ORPHAN_DRAIN_TIMEOUT = 2.0
#: Share of the drain time spent spreading session closes, and its cap.
SPREAD_SHARE, SPREAD_MAX = 0.25, 1.0
#: Exit code of a worker that could not start (gunicorn's WORKER_BOOT_ERROR).
EXIT_STARTUP_FAILED = 3


class Worker:
    def __init__(self, slot: int, handoff_fd: int, control_fd: int, options: WorkerOptions):
        self.slot = slot
        self.options = options
        self.log = logging.getLogger(f"sockd.worker.{slot}")
        self._handoff = socket.socket(fileno=handoff_fd)
        self._handoff.setblocking(False)
        self._control_fd = control_fd
        self._link: MasterLink
        self._app: LoadedApp
        self._host: UvicornHost | None = None
        self._bus: MasterBusManager | None = None
        self._bus_figures: MasterBusManager | RedisBus | None = None
        self._cluster: Cluster | None = None
        self._gate: DrainGate
        self._intake: HandoffIntake
        self._draining = False
        self._counters = WorkerCounters(timing=options.cluster.metrics is not None)
        self._prober = Prober()

    async def run(self) -> int:
        """Serve until drained; return the process exit code."""
        self._link = await MasterLink.connect(
            self._control_fd,
            on_drain=self.drain,
            on_bus=self._on_bus,
            on_master_lost=self._on_master_lost,
        )
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.drain, self.options.cluster.graceful_timeout)
        try:
            await self._boot()
        except UserError as exc:
            self.log.error("worker %d failed to start: %s", self.slot, exc)
            self._link.send(Kind.FAILED, str(exc).encode())
            await self._link.close()
            return EXIT_STARTUP_FAILED
        host = self._host
        assert host is not None
        self._intake = HandoffIntake(
            self._handoff,
            self.slot,
            self.log,
            report_closes=self.options.cluster.max_per_address is not None,
        )
        loop.add_reader(self._handoff.fileno(), self._receive_handoffs, host)
        heartbeat = loop.create_task(self._heartbeat())
        tune_collector()
        self._link.send_json(Kind.READY, {"pid": os.getpid()})
        if self._draining:  # a stop arrived while the app was starting
            host.shut_down(0)
        await host.wait_closed()
        heartbeat.cancel()
        self._report_stats()  # the final totals, which the master keeps after the exit
        with contextlib.suppress(TimeoutError):
            await self._link.close()
        loop.remove_reader(self._handoff.fileno())
        self._intake.close()
        self._handoff.close()
        return 0

    async def _boot(self) -> None:
        check_libraries()
        self._app = load(self.options)
        route_library_logs_to_root()
        sio, eio = self._app.sio, self._app.eio  # sio None: a bare python-engineio app
        admin = admin_ui.detach(sio) if sio is not None else None  # put back once complete
        if self.options.require_websocket_only and eio.transports != ["websocket"]:
            raise UserError(
                "several workers without --sticky: HTTP long-polling sends each session's "
                "requests on separate connections, which must all reach the worker that "
                "holds the session; add --sticky, or allow only WebSocket with "
                + (
                    '[io.init] transports = ["websocket"] in the app\'s config'
                    if self.options.app.is_directory_app
                    else "socketio.AsyncServer(transports=['websocket'])"
                )
            )
        slot = self.slot if self.options.sid_routing else None
        compat = CompatConfig(
            connect_timeout=self.options.cluster.connect_timeout,
            slot=slot,
            counters=self._counters,
            max_json_depth=self.options.cluster.max_json_depth,
        )
        if sio is None:  # no namespaces, no bus: the Engine.IO entries alone
            install_engineio(eio, compat)
        else:
            install(sio, compat)
            await self._install_bus(sio)
        app = self._app.asgi_app
        if slot is not None:
            app = SidOwnerGate(app, slot, eio.sockets)
        self._gate = DrainGate(app)
        if sio is not None and admin is not None:
            admin_ui.attach(sio, admin, self._cluster)
        host = UvicornHost(
            self._gate,
            log_level=self.options.cluster.log_level,
            access_log=self.options.cluster.access_log,
            graceful_timeout=self.options.cluster.graceful_timeout,
            per_message_deflate=self.options.cluster.per_message_deflate,
            head_limits=head_limits(self.options.cluster),
            keep_alive_timeout=self.options.cluster.keep_alive_timeout,
            ws_max_size=eio.max_http_buffer_size,
            certfile=self.options.cluster.certfile,
            keyfile=self.options.cluster.keyfile,
            ca_certs=self.options.cluster.ca_certs,
        )
        if not await host.start():
            raise UserError("the app's startup (ASGI lifespan) failed; see the log above")
        if sio is not None and isinstance(sio.manager, AsyncPubSubManager):
            # Start reading the bus now, not at the first client: a worker
            # without clients must still take part in remote disconnects.
            sio.manager_initialized = True
            sio.manager.initialize()
        self._host = host

    async def _install_bus(self, sio: socketio.AsyncServer) -> None:
        recovery = self.options.settings.io.recovery
        if type(sio.manager) is not socketio.AsyncManager:
            name = type(sio.manager).__name__
            self.log.info("app brings its own client manager %s", name)
            refuse(sio, f"the app brings its own client manager ({name}), not sockd's bus")
            if recovery.max_disconnection_duration is not None:
                self.log.warning("connection state recovery is off: it needs sockd's bus")
            return
        url = self.options.redis_url
        redis = self.options.settings.io.redis
        ipc = IpcTransport(self._link, self.slot)
        manager: MasterBusManager | RedisBus
        transport: Transport = ipc
        if url and redis:
            # Redis may be down now: the bus connects in the background and says so.
            manager = redis_bus(url, redis, recovery)
            transport = RedisTransport(manager, url, self.slot)
        else:
            on = recovery.max_disconnection_duration is not None
            self._bus = manager = (RecoveringMasterBus if on else MasterBusManager)(self._link)
        self._bus_figures = manager
        sio.manager = manager
        manager.set_server(sio)
        self._cluster = Cluster(sio, transport)
        if transport is not ipc:
            ipc.answer_master(self._cluster)
        attach(sio, self._cluster)
        await transport.started()

    def _on_bus(self, kind: Kind, payload: bytes) -> None:
        if self._bus is not None:
            self._bus.deliver(payload, kind)

    def _receive_handoffs(self, host: UvicornHost) -> None:
        """Serve what the master handed over, or hand it back near the descriptor limit."""
        if not self._intake.receive(host.serve_socket):
            # The master is gone; the control channel reports it too.
            asyncio.get_running_loop().remove_reader(self._handoff.fileno())

    async def _heartbeat(self) -> None:
        """Tell the master the event loop turns; sent from the loop, not a thread.

        Each beat carries the figures ``sockd status`` and the metrics show, so they are at
        most a second old.
        """
        while True:
            self._link.send(Kind.HEARTBEAT)
            self._report_stats()
            manager = getattr(self._app.sio, "manager", None)
            if isinstance(manager, EncodedBroadcast):
                self._prober.tick(manager.send_probe)  # the bus's lag
            await asyncio.sleep(HEARTBEAT_INTERVAL)

    def _report_stats(self) -> None:
        assert self._host is not None
        sockets = self._app.eio.sockets
        self._link.send_json(
            Kind.STATS,
            {
                "connections": self._host.open_connections,
                "sessions": len(sockets),
                "transports": sessions_by_transport(sockets),
                "counters": self._counters.report(),
                "bus": bus_figures(self._bus_figures),
            },
        )

    def drain(self, timeout: float) -> None:
        """End every session so clients reconnect, then let uvicorn finish and exit."""
        if self._draining:
            return
        self._draining = True
        self.log.info("worker %d draining (up to %.0fs)", self.slot, timeout)
        asyncio.get_running_loop().create_task(self._drain(timeout))

    async def _drain(self, timeout: float) -> None:
        if self._host is None:
            return  # still booting: run() stops the server as soon as it exists
        self._gate.draining = True
        deadline = time.monotonic() + timeout
        spread = min(SPREAD_MAX, timeout * SPREAD_SHARE)
        await end_all_sessions(self._app.eio, spread)
        if self._cluster is not None:
            await self._cluster.close()  # its sockets are gone: no more answers
        self._host.shut_down(max(0.0, deadline - time.monotonic()))

    def _on_master_lost(self) -> None:
        if not self._draining:
            self.log.warning("worker %d lost its master: draining and exiting", self.slot)
        self.drain(ORPHAN_DRAIN_TIMEOUT)
