"""Engine.IO handshakes per second: sockd (1 worker) against plain uvicorn.

Each handshake is a new TCP connection from a rotating 127.x.y.z source address,
one long-polling open request, the response, and a close: the path where the
master's accept and fd hand-off cost shows. Both systems serve bench/app.py,
start fresh, and run in alternating rounds so drift hits both alike.

    .venv/bin/python -m bench.handshakes [--seconds 5] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST = (
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.app:app", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def start_sockd(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sockd", "start", "bench.app:sio", "--workers", "1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def wait_until_serving(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if await handshake(port, "127.0.0.1"):
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing serves on port {port} after {timeout}s")


async def handshake(port: int, source: str) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(REQUEST)
        response = await asyncio.wait_for(reader.read(), 10)
        return response.startswith(b"HTTP/1.1 200") and b'"sid"' in response
    finally:
        writer.close()


async def drive(port: int, seconds: float, concurrency: int) -> tuple[float, int]:
    """Run closed-loop handshakes; return (handshakes per second, failures)."""
    done = failures = 0
    deadline = time.monotonic() + seconds

    async def client(index: int) -> None:
        nonlocal done, failures
        n = 0
        while time.monotonic() < deadline:
            source = f"127.{10 + index % 200}.{n % 250}.{1 + (n // 250) % 250}"
            n += 1
            try:
                ok = await handshake(port, source)
            except OSError:
                ok = False
            done += ok
            failures += not ok

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return done / (time.monotonic() - started), failures


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def measure(system: str, seconds: float, concurrency: int) -> tuple[float, int]:
    port = free_port()
    process = (start_uvicorn if system == "uvicorn" else start_sockd)(port)
    try:
        asyncio.run(wait_until_serving(port))
        return asyncio.run(drive(port, seconds, concurrency))
    finally:
        stop(process)


def _cpu_seconds() -> float:
    """CPU time of this load generator, so a reader can tell it was not the bottleneck."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"uvicorn": [], "sockd-1": []}
    failures = dict.fromkeys(results, 0)
    cpu_before = _cpu_seconds()
    for _ in range(args.rounds):
        for system in results:
            rate, failed = measure(system, args.seconds, args.concurrency)
            results[system].append(rate)
            failures[system] += failed
    load_cpu = _cpu_seconds() - cpu_before
    baseline = statistics.median(results["uvicorn"])
    header = ("system", "median/s", "min/s", "max/s", "failures", "ratio")
    print("{:<10} {:>10} {:>10} {:>10} {:>9} {:>6}".format(*header))
    for system, rates in results.items():
        median = statistics.median(rates)
        print(
            f"{system:<10} {median:>10.0f} {min(rates):>10.0f} {max(rates):>10.0f} "
            f"{failures[system]:>9} {median / baseline:>6.2f}"
        )
    wall = args.rounds * len(results) * args.seconds
    print(f"load generator CPU: {load_cpu:.1f}s over {wall:.0f}s of load ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
