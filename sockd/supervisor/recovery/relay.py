"""The master's recovery frames: workers' stored packets and session notes into the store,
numbered packets to every worker, answers, orders and notices back.

A numbered packet goes to every worker that serves (ready or draining), the sender
included, in the order the store numbered it; a restore is answered on the same channel,
so each worker sees the answer in its place among the packets (``sockd/wire/recovery.py``).
When a session is gone for good (expired, evicted, or refused to a client that came back),
one worker runs the app's disconnect hooks for it: the last one that held it, else the one
where its connection started, else any that serves; the worker where it started also hears,
so its connection middleware can unwind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from sockd.config.registry import Settings
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.recovery.sessions import Session
from sockd.supervisor.recovery.store import Bounds, Counters, RecoveryStore, Refused
from sockd.wire.frames import Kind, encode_frame
from sockd.wire.recovery import note, pack, unpack

log = logging.getLogger("sockd.recovery")

#: Seconds between expiry passes, and between the walks that let go of old watermarks
#: and log what the bounds dropped.
EXPIRY_INTERVAL, HOUSEKEEPING_INTERVAL = 1.0, 10.0
SERVING = (WorkerState.READY, WorkerState.DRAINING)


def bounds_of(settings: Settings) -> Bounds:
    recovery, init = settings.io.recovery, settings.io.init
    window = recovery.max_disconnection_duration or 0.0
    return Bounds(
        window,
        window + init.ping_interval + init.ping_timeout,
        recovery.max_sessions,
        recovery.max_buffer_bytes,
        recovery.max_missed_packets,
    )


class RecoveryRelay:
    def __init__(
        self, workers: Callable[[], Iterable[Worker]], settings: Callable[[], Settings]
    ) -> None:
        self._workers = workers
        self._settings = settings
        self.store = RecoveryStore(bounds_of(settings()))
        #: Per worker, the number before the first packet it was sent: a session opened
        #: there before it got any packet starts here.
        self._first_sent: dict[int, int] = {}
        self._next_expiry = self._next_housekeeping = 0.0
        self._logged = Counters()

    def handlers(self) -> dict[Kind, Callable[[Worker, Kind, bytes], None]]:
        """What the slot keeper calls for this module's frame kinds."""
        return {Kind.SEQUENCE: self.on_sequence, Kind.RECOVERY: self.on_note}

    def on_sequence(self, sender: Worker, kind: Kind, payload: bytes) -> None:
        try:
            header, blobs = unpack(payload)
            stored = self.store.sequence(header, blobs, time.monotonic())
        except (ValueError, KeyError, TypeError) as exc:
            log.error("recovery: worker %d sent a bad stored packet: %s", sender.slot, exc)
            return
        frame = encode_frame(Kind.SEQUENCED, stored.payload)
        for worker in self._workers():
            if worker.state in SERVING:
                self._first_sent.setdefault(worker.pid, stored.n - 1)
                worker.send(frame)

    def on_note(self, sender: Worker, kind: Kind, payload: bytes) -> None:
        try:
            header, _ = unpack(payload)
            self._on_note(sender, header, header["op"], header["pid"])
        except (ValueError, KeyError, TypeError) as exc:
            log.error("recovery: worker %d sent a bad note: %s", sender.slot, exc)

    def _on_note(self, sender: Worker, header: dict[str, Any], op: str, pid: str) -> None:
        store, now = self.store, time.monotonic()
        if op == "restore":
            self._restore(sender, header, now)
        elif op == "open":
            start = store.number(header["start"]) if header.get("start") else None
            if start is None:
                start = self._first_sent.get(sender.pid, store.log.last)
            for evicted in store.open(header, sender.pid, start):
                self._ended(evicted, run_hooks=True)
        elif op == "lost":
            store.lost(pid, sender.pid, header["reason"], now)
        elif op == "end":
            ended = store.end(pid, sender.pid)
            if ended is not None:
                self._ended(ended, run_hooks=False)  # its holder ran them
        elif (session := store.owned(pid, sender.pid)) is not None:
            if op == "join":
                session.rooms.add(header["room"])
            elif op == "leave" and header["room"] != session.sid:
                session.rooms.discard(header["room"])
            elif op == "data":
                session.data = header["data"]

    def _restore(self, sender: Worker, header: dict[str, Any], now: float) -> None:
        pid, request = header["pid"], header["id"]
        previous = self.store.sessions.get(pid)
        holder = previous.owner if previous is not None else None
        last = previous.last_owner if previous is not None else None
        result = self.store.restore(pid, header["namespace"], header.get("offset"), sender.pid, now)
        if isinstance(result, Refused):
            log.debug("recovery: session %s not restored: %s", pid, result.reason)
            sender.send(_frame(note("restored", id=request, pid=pid, refused=result.reason)))
            if result.ended is not None:
                self._ended(result.ended, run_hooks=True)
                if holder is not None and holder != sender.pid:
                    self._send_to(holder, _moved(result.ended))
            return
        session = result.session
        answer = {"op": "restored", "id": request, "pid": pid, "sid": session.sid,
                  "rooms": sorted(session.rooms, key=str), "data": session.data}  # fmt: skip
        sender.send(_frame(pack(answer, [packet.payload for packet in result.missed])))
        if last is not None and last != sender.pid:
            self._send_to(last, _moved(session))  # its old transport, or its state there

    def worker_gone(self, worker: Worker) -> None:
        """A worker exited: the sessions it held are lost from now."""
        self.store.worker_gone(worker.pid, time.monotonic())
        self._first_sent.pop(worker.pid, None)

    def tick(self, now: float) -> None:
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRY_INTERVAL
            for session in self.store.expire(now):
                self._ended(session, run_hooks=True)
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_INTERVAL
            self.store.configure(bounds_of(self._settings()))
            self.store.forget_watermarks()
            self._log_drops()

    def _ended(self, session: Session, run_hooks: bool) -> None:
        """Tell the worker that runs the hooks, and the one where it started."""
        fields = {"namespace": session.namespace, "sid": session.sid, "pid": session.pid,
                  "reason": session.reason or "transport close",
                  "rooms": sorted(session.rooms, key=str), "data": session.data}  # fmt: skip
        runner = None
        if run_hooks:
            runner = (
                self._alive(session.last_owner)
                or self._alive(session.origin)
                or next((w for w in self._workers() if w.state is WorkerState.READY), None)
            )
            if runner is not None:
                runner.send(_frame(note("ended", hooks=True, **fields)))
        origin = self._alive(session.origin)
        if origin is not None and origin is not runner:
            origin.send(_frame(note("ended", hooks=False, **fields)))

    def _alive(self, pid: int) -> Worker | None:
        return next((w for w in self._workers() if w.pid == pid and w.state in SERVING), None)

    def _send_to(self, pid: int, frame: bytes) -> None:
        worker = self._alive(pid)
        if worker is not None:
            worker.send(frame)

    def _log_drops(self) -> None:
        counters, logged = asdict(self.store.counters), asdict(self._logged)
        news = {name: counters[name] - logged[name] for name in counters}
        if any(news.values()):
            log.warning(
                "recovery bounds: %d stored packets dropped over [io.recovery] max_buffer_bytes, "
                "%d lost sessions evicted and %d new ones not kept over max_sessions "
                "(last %.0fs)",
                news["packets_over_bytes"], news["sessions_evicted"], news["sessions_refused"],
                HOUSEKEEPING_INTERVAL,
            )  # fmt: skip
            self._logged = Counters(**counters)


def _frame(payload: bytes) -> bytes:
    return encode_frame(Kind.RECOVERY, payload)


def _moved(session: Session) -> bytes:
    return _frame(note("detach", namespace=session.namespace, sid=session.sid, pid=session.pid))
