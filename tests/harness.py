"""Test harness: real sockd processes and real Socket.IO clients on loopback.

The fixtures in conftest.py build on these helpers; test modules import the helpers from
here (a conftest is not meant to be imported). Every wait has a bound, and every process a
test starts is tracked while it is alive so that teardown can kill it by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import socketio
from starlette.middleware.sessions import SessionMiddleware

REPO_ROOT = Path(__file__).resolve().parent.parent
ECHO_APP = "tests.apps.echo_app:sio"
BROKEN_APP = "tests.apps.broken_app:sio"

READY_RE = re.compile(r"worker (\d+) ready \(pid (\d+)\)")
EXIT_RE = re.compile(r"worker (\d+) \(pid (\d+)\) exited")
MASTER_READY = "master ready"

ALL_TRANSPORTS = (["polling"], ["websocket"], ["polling", "websocket"])


# --------------------------------------------------------------------------- addresses


#: Ports tests listen on: below Linux's ephemeral range (32768-60999), from which the
#: kernel takes the local port of every outgoing connection.
TEST_PORTS = range(20000, 32768)
#: Every port free_port() handed out in this run.
_handed_out_ports: set[int] = set()


def xdist_share() -> tuple[int, int]:
    """(index, count) of this test process among pytest-xdist's (``(0, 1)`` without it):
    ports and loopback networks are split between them, so parallel processes never hand
    out the same one."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0
    return index, max(count, 1)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, never handed out before in this run, from
    this test process's share of :data:`TEST_PORTS` (so parallel test processes never name
    the same port, and no client connection takes it meanwhile as its ephemeral port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    index, count = xdist_share()
    share = TEST_PORTS[index::count]
    for _ in range(200):
        port = random.choice(share)
        if port in _handed_out_ports:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out_ports.add(port)
        return port
    raise AssertionError(f"no new free port on {host} after 200 tries")


def free_port_both(v4: str = "127.0.0.1", v6: str = "::1") -> int:
    """A port free on both an IPv4 and an IPv6 address (bounded number of tries)."""
    for _ in range(50):
        port = free_port(v4)
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
                sock.bind((v6, port))
        except OSError:
            continue
        return port
    raise AssertionError("no port free on both 127.0.0.1 and ::1 after 50 tries")


def has_ipv6_loopback() -> bool:
    """Whether this machine can bind ::1 (IPv6 may be disabled in a container)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def source_addresses(count: int) -> list[str]:
    """``count`` distinct loopback source addresses, so the master sees distinct clients.

    The same ones for every caller: tests take the ``source_addresses`` fixture instead
    (a block of their own); this stays until the tests of open branches have moved to it.
    """
    return [f"127.0.{i // 250}.{2 + i % 250}" for i in range(count)]


#: Where the session's loopback networks start: above 127.0.x.y, which the
#: ``source_addresses`` function below hands out (to tests not converted to the fixture yet).
FIRST_NETWORK = ipaddress.IPv4Network("127.1.0.0/24")
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


class LoopbackNetworks:
    """The session's /24 networks of 127.0.0.0/8, each handed out once."""

    def __init__(self) -> None:
        index, count = xdist_share()
        share = (int(LOOPBACK.broadcast_address) - int(FIRST_NETWORK.network_address)) // count
        start = int(FIRST_NETWORK.network_address) + index * (share // 256) * 256
        self._next = ipaddress.IPv4Network((start, 24))

    def take(self) -> ipaddress.IPv4Network:
        network = self._next
        assert network.subnet_of(LOOPBACK), "the session used up 127.0.0.0/8"
        self._next = ipaddress.IPv4Network((int(network.network_address) + 256, 24))
        return network


class SourceAddresses:
    """One test's loopback source addresses: to the master, each is another client.

    ``source_addresses(n)`` is the first ``n`` of them, the same on every call; no other
    test of the session gets any of them, so two tests never share a client address (and
    so a worker) by accident. ``network()`` is a further /24 of the test's own, for a
    ``--trusted-proxy`` range to connect from.
    """

    #: Hosts .2 to .250 of each /24.
    HOSTS = range(2, 251)

    def __init__(self, networks: LoopbackNetworks) -> None:
        self._networks = networks
        self._addresses: list[str] = []

    def __call__(self, count: int) -> list[str]:
        while len(self._addresses) < count:
            network = self._networks.take()
            self._addresses += [str(network[host]) for host in self.HOSTS]
        return self._addresses[:count]

    def network(self) -> ipaddress.IPv4Network:
        return self._networks.take()


# --------------------------------------------------------------------------- waiting


async def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.02
) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        await asyncio.sleep(interval)


def wait_until_sync(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """The blocking twin of :func:`wait_until`, for code outside an event loop."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


async def gather_bounded(aws: Iterable[Awaitable[Any]], limit: int) -> list[Any]:
    """Run awaitables at most ``limit`` at a time; exceptions are returned, not raised."""
    sem = asyncio.Semaphore(limit)

    async def one(aw: Awaitable[Any]) -> Any:
        async with sem:
            return await aw

    return await asyncio.gather(*(one(aw) for aw in aws), return_exceptions=True)


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (an orphan zombie waits for a reaper, it serves nothing)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_processes(procs: Iterable[psutil.Process], timeout: float = 5.0) -> None:
    """SIGKILL each still-running process (create time checked, so no reused pid is hit)."""
    targets = [p for p in procs if alive(p)]
    for proc in targets:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(targets, timeout=timeout)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM a server the test started, then SIGKILL it if it outlives ``timeout``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


# --------------------------------------------------------------------------- sockd process


def sockd_command(console_script: bool = False) -> list[str]:
    """How to run sockd: ``python -m sockd`` (the contract), or the installed console script."""
    if console_script:
        return [str(Path(sys.executable).with_name("sockd"))]
    return [sys.executable, "-m", "sockd"]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class SockdProcess:
    """One running ``sockd start`` master, its log lines and every process it spawned."""

    def __init__(
        self,
        args: Sequence[str],
        port: int,
        cwd: Path = REPO_ROOT,
        console_script: bool = False,
        prefix: Sequence[str] = (),
        command: str = "start",
        env: dict[str, str] | None = None,
    ) -> None:
        self.args = list(args)
        self.port = port
        #: A wrapper such as ``unshare --pid --fork``: then ``pid`` is the wrapper's.
        #: ``command`` is ``start`` or ``dev``.
        self.command = [*prefix, *sockd_command(console_script), command, *self.args]
        self._lines: list[str] = []  # stderr, where the master logs
        self._stdout: list[str] = []
        self._cond = threading.Condition()
        self._tracked: dict[int, psutil.Process] = {}
        self._tracked_lock = threading.Lock()  # readers, the watcher and the test add to it
        self._stop = threading.Event()
        self.proc = subprocess.Popen(
            self.command,
            cwd=cwd,
            env={**_child_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pid = self.proc.pid
        self._track(self.pid)
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stderr, self._lines), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stdout, self._stdout), daemon=True),
            threading.Thread(target=self._watch_children, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # ---- bookkeeping

    def _track(self, pid: int, proc: psutil.Process | None = None) -> None:
        with self._tracked_lock:
            if pid in self._tracked:
                return
            with contextlib.suppress(psutil.Error):
                self._tracked[pid] = proc or psutil.Process(pid)

    def _read(self, stream: Any, into: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            match = READY_RE.search(line)
            if match:
                self._track(int(match.group(2)))
            with self._cond:
                into.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _watch_children(self) -> None:
        """Collect descendants while the master lives, so teardown can kill orphans by pid."""
        while not self._stop.is_set() and self.proc.poll() is None:
            self.descendants()
            self._stop.wait(0.25)

    # ---- what tests read

    def lines(self) -> list[str]:
        """The master's stderr so far (worker output inherited on stderr lands here too)."""
        with self._cond:
            return list(self._lines)

    def line_count(self) -> int:
        """A mark for ``wait_for_*(since=...)``: only lines logged after it are searched."""
        with self._cond:
            return len(self._lines)

    def output_tail(self, count: int = 60) -> str:
        """The last lines of stderr and stdout, for failure messages."""
        with self._cond:
            err = self._lines[-count:]
            out = self._stdout[-count:]
        text = "\n".join(err) or "(nothing)"
        if out:
            text += "\n--- stdout ---\n" + "\n".join(out)
        return text

    def wait_for_match(
        self, pattern: re.Pattern[str] | str, timeout: float = 30.0, since: int = 0
    ) -> re.Match[str]:
        """The first stderr line after ``since`` that matches; fail after ``timeout`` s."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        index = since
        exited_at: float | None = None
        with self._cond:
            while True:
                while index < len(self._lines):
                    match = regex.search(self._lines[index])
                    index += 1
                    if match:
                        return match
                now = time.monotonic()
                if exited_at is None and self.proc.poll() is not None:
                    exited_at = now  # give the readers a moment to drain the pipe
                if exited_at is not None and now - exited_at > 1.0:
                    break
                if now >= deadline:
                    break
                self._cond.wait(min(0.1, deadline - now))
        state = (
            f"sockd exited with {self.proc.returncode}"
            if self.proc.poll() is not None
            else "sockd still running"
        )
        raise AssertionError(
            f"no stderr line matching {regex.pattern!r} within {timeout:.0f}s ({state}); "
            f"output:\n{self.output_tail()}"
        )

    def wait_for_line(self, substring: str, timeout: float = 30.0, since: int = 0) -> str:
        """The first stderr line after ``since`` containing ``substring``."""
        return self.wait_for_match(re.escape(substring), timeout, since).string

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the master logged ``master ready``."""
        self.wait_for_line(MASTER_READY, timeout)

    def slot_pids(self) -> dict[int, int]:
        """slot -> pid of the newest ``worker N ready (pid P)`` line per slot."""
        slots: dict[int, int] = {}
        for line in self.lines():
            match = READY_RE.search(line)
            if match:
                slots[int(match.group(1))] = int(match.group(2))
        return slots

    def worker_pids(self) -> list[int]:
        """The master's live child processes (psutil), tracked for teardown."""
        try:
            children = psutil.Process(self.pid).children()
        except psutil.Error:
            return []
        for child in children:
            self._track(child.pid, child)
        return [c.pid for c in children if alive(c)]

    def descendants(self) -> list[psutil.Process]:
        """Every live process below the master, tracked for teardown."""
        try:
            procs = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []
        for proc in procs:
            self._track(proc.pid, proc)
        return [p for p in procs if alive(p)]

    def tracked(self) -> list[psutil.Process]:
        """Every process ever seen for this sockd: the master, workers, replacements."""
        with self._tracked_lock:
            return list(self._tracked.values())

    # ---- stopping

    def send_signal(self, sig: int) -> None:
        """Signal the master (only while it is ours and running)."""
        if self.proc.poll() is None:
            self.descendants()
            os.kill(self.pid, sig)

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the master and wait up to ``timeout`` s; its exit code, None if still up."""
        self.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_all(self) -> None:
        """Teardown: SIGKILL the master and every process it ever spawned, by pid."""
        self.descendants()
        self._stop.set()
        self._threads[2].join(2.0)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        kill_processes(p for p in self.tracked() if p.pid != self.pid)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class SockdLauncher:
    """Starts sockd masters with the echo app by default and kills them all at ``close``."""

    def __init__(self) -> None:
        self.started: list[SockdProcess] = []
        self._lock = threading.Lock()

    def __call__(
        self,
        *extra: str,
        app: str = ECHO_APP,
        workers: int = 1,
        sticky: bool = True,
        port: int | None = None,
        bind: Sequence[str] = (),
        redis: str | None = None,
        redis_bus: str | None = None,
        env: dict[str, str] | None = None,
        graceful_timeout: float | None = None,
        wait_ready: bool = True,
        ready_timeout: float = 30.0,
        console_script: bool = False,
        cwd: Path = REPO_ROOT,
        prefix: Sequence[str] = (),
        command: str = "start",
    ) -> SockdProcess:
        """Start ``sockd start APP`` (or ``command``) with these options; by default wait for
        ``master ready``. ``redis_bus``: ``[io.redis] bus`` (streams or pubsub); ``env``:
        more environment variables (settings as ``SOCKD_*``)."""
        args = [app, "--workers", str(workers)]
        if sticky:
            args.append("--sticky")
        if bind:
            for address in bind:
                args += ["--bind", address]
            if port is None:
                port = int(bind[0].rsplit(":", 1)[1])
        else:
            port = port if port is not None else free_port()
            args += ["--host", "127.0.0.1", "--port", str(port)]
        if redis:
            args += ["--redis", redis]
        if graceful_timeout is not None:
            args += ["--graceful-timeout", str(graceful_timeout)]
        args += list(extra)
        env = {**(env or {}), **({"SOCKD_IO_REDIS_BUS": redis_bus} if redis_bus else {})}
        proc = SockdProcess(
            args,
            port,
            cwd=cwd,
            console_script=console_script,
            prefix=prefix,
            command=command,
            env=env,
        )
        with self._lock:
            self.started.append(proc)
        if wait_ready:
            proc.wait_ready(ready_timeout)
        return proc

    def close(self) -> None:
        """Kill every master and worker started, and print their logs (shown on failure)."""
        for proc in self.started:
            proc.kill_all()
            print(f"--- sockd {' '.join(proc.args)} (pid {proc.pid}) ---")
            print(proc.output_tail(80))
        self.started.clear()


# --------------------------------------------------------------------------- one-shot runs


@dataclass
class Finished:
    """What a sockd run that is expected to exit by itself left behind."""

    returncode: int
    stdout: str
    stderr: str
    leftovers: list[int] = field(default_factory=list)

    def stderr_lines(self) -> list[str]:
        """The non-empty stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_sockd(
    *args: str, timeout: float = 30.0, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> Finished:
    """Run ``sockd ARGS`` to completion (bounded); kill it and its children if it hangs.

    ``env`` adds variables to the inherited environment.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [*sockd_command(), *args],
            cwd=cwd,
            env={**_child_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        seen: dict[int, psutil.Process] = {}
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(proc.pid).children(recursive=True):
                    seen.setdefault(child.pid, child)
            time.sleep(0.05)
        hung = proc.poll() is None
        if hung:
            proc.kill()
        proc.wait(10)
        # A run that exits must not leave workers behind: give them a bounded moment.
        with contextlib.suppress(AssertionError):
            wait_until_sync(lambda: not any(alive(p) for p in seen.values()), 5.0, "children")
        leftovers = [pid for pid, p in seen.items() if alive(p)]
        kill_processes(seen.values())
        out.seek(0)
        err.seek(0)
        result = Finished(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            leftovers,
        )
    if hung:
        raise AssertionError(
            f"sockd {' '.join(args)} did not exit within {timeout:.0f}s; stderr:\n"
            + result.stderr[-4000:]
        )
    return result


# --------------------------------------------------------------------------- clients


def base_url(port: int, host: str = "127.0.0.1") -> str:
    """``http://host:port`` with IPv6 hosts bracketed."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Client:
    """A python-socketio AsyncClient bound to one source address, recording what it gets.

    It uses its own aiohttp session whose connector binds ``source_ip``, so the master sees
    that address as the peer (python-socketio hands ``http_session`` to engine.io).
    Reconnection is on with short delays, as a browser would retry.
    """

    def __init__(
        self,
        port: int,
        source_ip: str,
        transports: Sequence[str],
        host: str = "127.0.0.1",
        reconnection: bool = True,
        auth: Any = None,
        namespaces: Sequence[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.auth = auth
        self.namespaces = list(namespaces) if namespaces else None
        self.headers = headers or {}
        #: Every event the server emitted to this client, as (event, args).
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.host = host
        self.source_ip = source_ip
        self.transports = list(transports)
        self.reconnection = reconnection
        self.connects = 0
        self.disconnects: list[Any] = []
        #: ``time.time()`` of each disconnect, to set against the master's log timestamps.
        self.disconnected_at: list[float] = []
        self.news: list[Any] = []
        self.messages: list[Any] = []
        self.questions: list[Any] = []
        self.session: aiohttp.ClientSession | None = None
        self.sio: socketio.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"<Client {self.source_ip} {'/'.join(self.transports)} sid={self.sid}>"

    async def connect(self, timeout: float = 20.0) -> Client:
        """Open the session and connect; bounded by ``timeout``."""
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.source_ip, 0))
        )
        self.sio = socketio.AsyncClient(
            http_session=self.session,
            reconnection=self.reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=1.0,
            handle_sigint=False,
            request_timeout=10,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("news", self._on_news)
        self.sio.on("message", self._on_message)
        self.sio.on("question", self._on_question)
        self.sio.on("*", self._on_any)
        await asyncio.wait_for(
            self.sio.connect(
                base_url(self.port, self.host),
                transports=self.transports,
                wait_timeout=15,
                auth=self.auth,
                namespaces=self.namespaces,
                headers=self.headers,
            ),
            timeout,
        )
        return self

    async def _on_any(self, event: str, *args: Any) -> None:
        self.events.append((event, args))

    async def _on_connect(self) -> None:
        self.connects += 1

    async def _on_disconnect(self, *reason: Any) -> None:
        self.disconnects.append(reason[0] if reason else None)
        self.disconnected_at.append(time.time())

    # ``_offset``: with connection state recovery on, a stored event's last argument.
    async def _on_news(self, payload: Any, *_offset: Any) -> None:
        self.news.append(payload)

    async def _on_message(self, payload: Any, *_offset: Any) -> None:
        self.messages.append(payload)

    async def _on_question(self, question: Any) -> dict[str, Any]:
        """Answer a server ``call``: the answer names this client, so the asker can check."""
        self.questions.append(question)
        return {"answer": f"{question}!", "sid": self.sid}

    @property
    def sid(self) -> str | None:
        """The Socket.IO session id of the default namespace, None while disconnected."""
        return self.sio.get_sid() if self.sio is not None else None

    @property
    def connected(self) -> bool:
        """Connected to the default namespace right now."""
        return self.sio is not None and self.sio.connected and self.sid is not None

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        """Emit ``event`` and return the ack; fails after ``timeout`` seconds."""
        assert self.sio is not None, "client not connected"
        return await asyncio.wait_for(self.sio.call(event, data, timeout=timeout), timeout + 1.0)

    async def whoami(self) -> dict[str, Any]:
        """The echo app's view of this client: worker pid, sid, client address."""
        result = await self.call("whoami")
        assert isinstance(result, dict), f"whoami returned {result!r}"
        return result

    async def close(self) -> None:
        """Disconnect (stopping any reconnection) and close the session; bounded.

        A polling client's disconnect waits for its pending long-poll GET, which the server
        answers only at the next ping; closing the session after a short bound aborts it.
        """
        if self.sio is not None:
            self.sio.reconnection = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sio.shutdown(), 1.0)
        if self.session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.session.close(), 5.0)


async def connect_client(
    port: int,
    source_ip: str,
    transports: Sequence[str],
    host: str = "127.0.0.1",
    reconnection: bool = True,
) -> Client:
    """A connected :class:`Client`; the caller closes it (``open_clients`` does that)."""
    client = Client(port, source_ip, transports, host=host, reconnection=reconnection)
    try:
        return await client.connect()
    except BaseException:
        await client.close()
        raise


@contextlib.asynccontextmanager
async def open_clients(
    port: int,
    sources: Sequence[str],
    transports: Sequence[str],
    host: str = "127.0.0.1",
    limit: int = 16,
) -> AsyncIterator[list[Client]]:
    """Connect one client per source address (``limit`` at a time); close all on exit.

    Any connect failure fails the block, naming how many failed and the first error.
    """
    clients = [Client(port, ip, transports, host=host) for ip in sources]
    try:
        results = await gather_bounded((c.connect() for c in clients), limit)
        errors = [
            (c, r) for c, r in zip(clients, results, strict=True) if isinstance(r, BaseException)
        ]
        if errors:
            client, error = errors[0]
            raise AssertionError(
                f"{len(errors)} of {len(clients)} clients failed to connect over "
                f"{transports}; first: {client.source_ip}: {error!r}"
            )
        yield clients
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def by_worker(clients: Sequence[Client]) -> dict[int, list[Client]]:
    """Group clients by the worker pid that serves them (asks each one ``whoami``)."""
    infos = await asyncio.gather(*(c.whoami() for c in clients))
    groups: dict[int, list[Client]] = {}
    for client, info in zip(clients, infos, strict=True):
        groups.setdefault(int(info["pid"]), []).append(client)
    return groups


def redis_answers(port: int) -> bool:
    """Whether a redis-server on ``port`` answers PING with PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server on one loopback port (no persistence) that a test may stop, pause
    (SIGSTOP: a stalled Redis) and start again on the same port, empty."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / "redis.log"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        """Start it and wait until it answers PING."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.workdir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not redis_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"redis-server on port {self.port} did not answer PING (exit code "
                    f"{self.proc.poll()}):\n{self.log_path.read_text(errors='replace')}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (SIGTERM, by pid; a paused one is woken up first)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGCONT)
            stop_process(self.proc)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze it: connections stay open, nothing is answered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


def starlette_session_cookie(session: dict[str, Any], secret: str) -> str:
    """``session=<value>``: the cookie a Starlette (or FastAPI) app with SessionMiddleware
    and ``secret`` sets for ``session``, made by Starlette itself (in-process)."""
    headers: list[tuple[bytes, bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["session"].update(session)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers.extend(message["headers"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(SessionMiddleware(app, secret_key=secret)(scope, receive, send))
    cookie = next(v.decode() for k, v in headers if k == b"set-cookie")
    return cookie.split(";", 1)[0]


# --------------------------------------------------------------------------- operating a sockd

#: The app of the operations tests: GET /pid names the worker, and it can block or grow.
OPS_APP = "tests.apps.ops_app:app"


@contextlib.contextmanager
def private_runtime_dir(monkeypatch: Any) -> Iterator[Path]:
    """Point ``XDG_RUNTIME_DIR`` (so the control sockets) at a fresh short directory.

    Children inherit it (``_child_env`` copies ``os.environ``), so ``sockd stop`` and friends
    see only this test's sockd. Short, because a socket path holds at most 107 bytes.
    """
    directory = Path(tempfile.mkdtemp(prefix="sockd-rt-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory))
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)  # systemd's would win
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def worker_pid_for(port: int, source_ip: str, timeout: float = 10.0) -> int:
    """The pid of the worker that a new connection from ``source_ip`` reaches (``GET /pid``)."""

    async def ask() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source_ip, 0))
        try:
            writer.write(b"GET /pid HTTP/1.1\r\nHost: sockd\r\nConnection: close\r\n\r\n")
            return await reader.read()
        finally:
            writer.close()

    response = await asyncio.wait_for(ask(), timeout)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), f"GET /pid from {source_ip}: {response[:200]!r}"
    return int(body)


async def worker_map(port: int, sources: Sequence[str], limit: int = 32) -> dict[str, int]:
    """source address -> pid of the worker its new connections reach."""
    pids = await gather_bounded((worker_pid_for(port, ip) for ip in sources), limit)
    failed = [(ip, r) for ip, r in zip(sources, pids, strict=True) if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} of {len(sources)} GET /pid failed; first: {failed[0]!r}"
    return dict(zip(sources, pids, strict=True))


def log_time(line: str) -> float:
    """The epoch time of a sockd log line (its ``asctime`` prefix: local time, ms)."""
    stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})", line)
    assert stamp, f"no timestamp in {line!r}"
    return time.mktime(time.strptime(stamp[1], "%Y-%m-%d %H:%M:%S")) + int(stamp[2]) / 1000


def sockd_status(*selector: str) -> dict[str, Any]:
    """``sockd status --json`` for the sockd that ``selector`` names (e.g. ``--title``, T)."""
    result = run_sockd("status", "--json", *selector)
    assert result.returncode == 0, f"sockd status failed ({result.returncode}): {result.stderr}"
    return json.loads(result.stdout)


class DaemonSockd:
    """A ``sockd start --daemon``: the command returns, the master lives on by itself.

    Its pid file and log file are in ``workdir``. Teardown (``kill_all``) kills the master
    and every worker it was seen with, by pid, if the test left them running.
    """

    def __init__(self, args: Sequence[str], workdir: Path, timeout: float = 90.0) -> None:
        self.pidfile = workdir / "sockd.pid"
        self.log_file = workdir / "sockd.log"
        self.command = [
            *sockd_command(), "start", *args, "--daemon",
            "--pidfile", str(self.pidfile), "--log-file", str(self.log_file),
        ]  # fmt: skip
        self._tracked: dict[int, psutil.Process] = {}
        # Not run_sockd: that one kills whatever the command leaves running.
        launched = subprocess.run(
            self.command,
            cwd=REPO_ROOT,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
        self.start = Finished(
            launched.returncode,
            launched.stdout.decode("utf-8", "replace"),
            launched.stderr.decode("utf-8", "replace"),
        )
        self.pid = int(self.pidfile.read_text()) if launched.returncode == 0 else 0
        self.processes()

    def processes(self) -> list[psutil.Process]:
        """The master and its workers alive now; all of them are tracked for teardown."""
        if not self.pid:
            return []
        with contextlib.suppress(psutil.Error):
            master = psutil.Process(self.pid)
            for proc in [master, *master.children(recursive=True)]:
                self._tracked.setdefault(proc.pid, proc)
        return [p for p in self._tracked.values() if alive(p)]

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def kill_all(self) -> None:
        self.processes()
        kill_processes(self._tracked.values())
