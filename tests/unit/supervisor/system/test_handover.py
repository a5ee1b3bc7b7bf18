"""What passes from an old master to a new one: fds named in one variable, the old
environment without what names the old pid, and JSON lines over a socketpair."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sockd.control.protocol import ProtocolError
from sockd.supervisor.system.handover import (
    HANDOVER_VARIABLE,
    HandoverLink,
    Inheritance,
    successor_environment,
    take_inheritance,
)


def test_the_inheritance_travels_in_one_variable_that_the_new_master_removes() -> None:
    sent = Inheritance(parent=10, listeners=[3, 4], owned_paths=["/run/a.sock"], link=7)
    environ = successor_environment(
        {
            "PATH": "/bin",
            "NOTIFY_SOCKET": "/run/systemd/notify",
            "LISTEN_FDS": "1",
            "LISTEN_PID": "10",
            "WATCHDOG_PID": "10",
            "WATCHDOG_USEC": "60000000",
        },
        sent,
    )
    assert environ["PATH"] == "/bin" and environ["NOTIFY_SOCKET"] == "/run/systemd/notify"
    assert environ["WATCHDOG_USEC"] == "60000000"
    assert not {"LISTEN_FDS", "LISTEN_PID", "WATCHDOG_PID"} & set(environ)
    assert take_inheritance(environ) == sent
    assert HANDOVER_VARIABLE not in environ, "workers and later masters must not see it"
    assert take_inheritance(environ) is None


def test_messages_cross_the_link_and_its_end_reads_as_none() -> None:
    async def scenario() -> None:
        left, right = (HandoverLink(s) for s in socket.socketpair())
        await left.send({"event": "ready", "pid": 5})
        await left.send({"event": "serving"})
        assert await right.receive(1.0) == {"event": "ready", "pid": 5}
        assert await right.receive(1.0) == {"event": "serving"}
        left.close()
        assert await right.receive(1.0) is None
        right.close()

    asyncio.run(scenario())


def test_silence_and_garbage_are_errors() -> None:
    async def scenario() -> None:
        raw, other = socket.socketpair()
        link = HandoverLink(other)
        with pytest.raises(TimeoutError):
            await link.receive(0.01)
        raw.sendall(b"not json\n")
        with pytest.raises(ProtocolError):
            await link.receive(1.0)
        raw.close()
        link.close()

    asyncio.run(scenario())


def test_a_failing_master_can_say_so_before_it_has_a_loop() -> None:
    raw, other = socket.socketpair()
    HandoverLink(other).send_now({"event": "failed", "error": "port in use"})
    assert raw.recv(100) == b'{"event":"failed","error":"port in use"}\n'
    raw.close()
    other.close()
