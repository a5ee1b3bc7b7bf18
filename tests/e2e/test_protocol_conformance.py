"""Engine.IO v4 conformance of sockd's workers, spoken raw (no client library).

A real sockd with 2 workers serves ``tests/apps/protocol_app.py`` (the library's default
ping settings, so a ping timeout never passes for a prompt close) and, for the heartbeat
tests, ``heartbeat_app.py`` (a ping every 0.5 s, 1.5 s to answer). Each test talks from its
own loopback address, so the tests spread over both workers. The tests named after a gap
of issue 7 fail against plain python-engineio 4.15 (sockd/worker/protocol fixes them); the
others check the basics the specification lists, which the library already gets right.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import websockets

from tests.apps.heartbeat_app import PING_INTERVAL, PING_TIMEOUT
from tests.e2e.protocol_wire import (
    RS,
    Wire,
    frames_until_closed,
    open_packet,
    payload,
    receive,
)
from tests.harness import SockdLauncher, SockdProcess, SourceAddresses

PROTOCOL_APP = "tests.apps.protocol_app:sio"
HEARTBEAT_APP = "tests.apps.heartbeat_app:sio"
#: Bound for anything the server must do at once (a close, an answer to a pending poll).
PROMPT = 5.0
#: Time for a request sent in the background to reach the worker before the next one.
IN_FLIGHT = 0.3


@pytest.fixture(scope="module")
def steady(sockd_module: SockdLauncher) -> SockdProcess:
    return sockd_module(app=PROTOCOL_APP, workers=2, sticky=True)


@pytest.fixture(scope="module")
def fast(sockd_module: SockdLauncher) -> SockdProcess:
    return sockd_module(app=HEARTBEAT_APP, workers=2, sticky=True)


@pytest.fixture
def source(source_addresses: SourceAddresses) -> str:
    """A loopback source address of its own for one test."""
    return source_addresses(1)[0]


# --------------------------------------------------------------------------- handshake


def test_polling_handshake_has_exactly_the_spec_keys(steady: SockdProcess, source: str) -> None:
    async def scenario() -> dict[str, object]:
        async with Wire(steady.port, source) as wire:
            return await wire.handshake()

    data = asyncio.run(scenario())
    assert set(data) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert isinstance(data["sid"], str) and data["sid"]
    assert data["upgrades"] == ["websocket"]
    assert (data["pingInterval"], data["pingTimeout"], data["maxPayload"]) == (
        25000,
        20000,
        1_000_000,
    )


def test_websocket_handshake_offers_no_upgrade(steady: SockdProcess, source: str) -> None:
    async def scenario() -> dict[str, object]:
        async with Wire(steady.port, source) as wire:
            return open_packet(await receive(await wire.websocket()))

    data = asyncio.run(scenario())
    assert set(data) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert data["upgrades"] == []


def test_handshake_advertises_a_sub_second_ping_interval(fast: SockdProcess, source: str) -> None:
    """Gap 1: 0.5 s is ``"pingInterval": 500``, not 0 (truncated before multiplying)."""

    async def scenario() -> list[dict[str, object]]:
        async with Wire(fast.port, source) as wire:
            over_ws = open_packet(await receive(await wire.websocket()))
            return [await wire.handshake(), over_ws]

    for data in asyncio.run(scenario()):
        assert data["pingInterval"] == round(PING_INTERVAL * 1000), data
        assert data["pingTimeout"] == round(PING_TIMEOUT * 1000), data


# --------------------------------------------------------------------------- requests


def test_requests_the_protocol_forbids_get_400(steady: SockdProcess, source: str) -> None:
    """Gap 2: no/unknown transport, no/invalid EIO, a handshake not by GET, a PUT: 400."""

    async def scenario() -> list[str]:
        async with Wire(steady.port, source) as wire:
            sid = str((await wire.handshake())["sid"])
            http_cases = [
                ("GET", {"transport": None}),
                ("GET", {"transport": "abc"}),
                ("GET", {"EIO": None}),
                ("GET", {"EIO": "abc"}),
                ("GET", {"EIO": "3"}),
                ("POST", {}),
                ("PUT", {}),
                ("PUT", {"sid": sid}),
                ("GET", {"sid": sid, "EIO": None}),
                ("POST", {"sid": sid, "transport": None}),
            ]
            wrong = []
            for method, query in http_cases:
                reply = await wire.request(method, "40" if method != "GET" else None, **query)
                if reply.status != 400:
                    wrong.append(f"{method} {query}: {reply.status} {reply.text[:60]!r}")
            for query in ({"transport": None}, {"EIO": "3"}, {"EIO": None}):
                if not await wire.refused(**query):
                    wrong.append(f"WebSocket {query}: accepted")
            return wrong

    assert asyncio.run(scenario()) == []


# --------------------------------------------------------------------------- heartbeat


def test_polling_heartbeat_is_a_ping_answered_by_a_pong(fast: SockdProcess, source: str) -> None:
    """Three ping cycles over long-polling; the pongs keep the session alive past the deadline."""

    async def scenario() -> list[tuple[int, str, int]]:
        async with Wire(fast.port, source) as wire:
            sid = str((await wire.handshake())["sid"])
            cycles = []
            for _ in range(3):
                ping = await wire.poll(sid)
                pong = await wire.push(sid, "3")
                cycles.append((ping.status, ping.text, pong.status))
            return cycles

    assert asyncio.run(scenario()) == [(200, "2", 200)] * 3


def test_websocket_heartbeat_is_a_ping_answered_by_a_pong(fast: SockdProcess, source: str) -> None:
    """Six ping cycles, longer than pingInterval + pingTimeout, on one WebSocket.

    The worker writes pings to an idle WebSocket directly (sockd/worker/hot_path), so the
    session's writer sees no packet for longer than its wait bound; the session must stay.
    """
    cycles = 6
    assert cycles * PING_INTERVAL > PING_INTERVAL + PING_TIMEOUT

    async def scenario() -> list[str | bytes]:
        async with Wire(fast.port, source) as wire:
            ws = await wire.websocket()
            await receive(ws)  # open packet
            pings = []
            for _ in range(cycles):
                pings.append(await receive(ws))
                await ws.send("3")
            return pings

    assert asyncio.run(scenario()) == ["2"] * cycles


def test_websocket_session_without_pongs_is_closed_after_interval_plus_timeout(
    fast: SockdProcess, source: str
) -> None:
    """A WebSocket client that never answers a ping is closed at the deadline, not before.

    The worker reads WebSocket messages without a per-read timeout; this is its bound.
    """

    async def scenario() -> tuple[list[str | bytes], float]:
        async with Wire(fast.port, source) as wire:
            opened = time.monotonic()  # before the handshake: the deadline starts after it
            ws = await wire.websocket()
            await receive(ws)  # open packet
            frames: list[str | bytes] = []
            with contextlib.suppress(websockets.ConnectionClosed):
                async with asyncio.timeout(PING_INTERVAL + PING_TIMEOUT + PROMPT):
                    while True:
                        frames.append(await ws.recv())
            return frames, time.monotonic() - opened

    frames, lasted = asyncio.run(scenario())
    assert frames == ["2"], frames
    assert lasted >= PING_INTERVAL + PING_TIMEOUT, f"closed after {lasted:.2f}s"


def test_polling_session_without_pongs_is_gone_after_interval_plus_timeout(
    fast: SockdProcess, source: str
) -> None:
    """Gap 3: a poll after pingInterval + pingTimeout without a pong gets 400, not the ping.

    python-engineio only notices when its monitor task next visits the session (every
    pingTimeout for a lone session); a 1.5 s ping timeout keeps that visit from often
    lining up with the deadline, so without sockd's fix this poll is answered 200 ``2``.
    """

    async def scenario() -> tuple[int, str]:
        async with Wire(fast.port, source) as wire:
            sid = str((await wire.handshake())["sid"])
            await asyncio.sleep(PING_INTERVAL + PING_TIMEOUT)
            reply = await wire.poll(sid, timeout=PROMPT)
            return reply.status, reply.text

    status, text = asyncio.run(scenario())
    assert status == 400, f"{status} {text!r}"


# --------------------------------------------------------------------------- long-polling


def test_polling_post_answers_ok(steady: SockdProcess, source: str) -> None:
    """Gap 7: the body of a successful POST is ``ok``."""

    async def scenario() -> tuple[int, str]:
        async with Wire(steady.port, source) as wire:
            sid = str((await wire.handshake())["sid"])
            reply = await wire.push(sid, "40")
            return reply.status, reply.text

    assert asyncio.run(scenario()) == (200, "ok")


def test_a_payload_carries_several_packets_separated_by_rs(
    steady: SockdProcess, source: str
) -> None:
    async def scenario() -> list[str]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            body = RS.join(f'42["message","{word}"]' for word in ("a", "b", "c"))
            assert (await wire.push(sid, body)).status == 200
            received: list[str] = []
            while len(received) < 3:
                received += payload((await wire.poll(sid)).text)
            return received

    assert asyncio.run(scenario()) == [f'42["message-back","{word}"]' for word in ("a", "b", "c")]


def test_binary_packets_travel_as_base64_over_polling(steady: SockdProcess, source: str) -> None:
    """A binary attachment is ``b<base64>`` in a polling payload, both ways."""
    event = '451-["message",{"_placeholder":true,"num":0}]'

    async def scenario() -> list[str]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            assert (await wire.push(sid, event + RS + "bAQIDBA==")).status == 200
            received: list[str] = []
            while len(received) < 2:
                received += payload((await wire.poll(sid)).text)
            return received

    assert asyncio.run(scenario()) == [
        '451-["message-back",{"_placeholder":true,"num":0}]',
        "bAQIDBA==",
    ]


def test_an_invalid_packet_closes_the_polling_session(steady: SockdProcess, source: str) -> None:
    """Gap 7: a POST that is no packet gets 400 and ends the session (later GET: 400)."""

    async def scenario() -> tuple[int, int]:
        async with Wire(steady.port, source) as wire:
            sid = str((await wire.handshake())["sid"])
            post = await wire.push(sid, "abc")
            return post.status, (await wire.poll(sid, timeout=PROMPT)).status

    assert asyncio.run(scenario()) == (400, 400)


def test_a_second_concurrent_get_closes_the_session(steady: SockdProcess, source: str) -> None:
    """Gap 7: the second GET gets 400, the pending one the close packet, later ones 400."""

    async def scenario() -> tuple[tuple[int, str], int, int]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            first = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(IN_FLIGHT)
            second = await wire.poll(sid, timeout=PROMPT)
            pending = await first
            later = await wire.poll(sid, timeout=PROMPT)
            return (pending.status, pending.text), second.status, later.status

    assert asyncio.run(scenario()) == ((200, "1"), 400, 400)


# --------------------------------------------------------------------------- close


def test_close_packet_ends_the_pending_poll_with_a_noop(steady: SockdProcess, source: str) -> None:
    """Gap 4: POST ``1`` while a GET waits: the GET gets ``6`` at once, later GETs 400."""

    async def scenario() -> tuple[tuple[int, str], tuple[int, str], int]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            pending = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(IN_FLIGHT)
            close = await wire.push(sid, "1")
            ended = await pending
            later = await wire.poll(sid, timeout=PROMPT)
            return (close.status, close.text), (ended.status, ended.text), later.status

    close, ended, later = asyncio.run(scenario())
    assert close[0] == 200
    assert ended == (200, "6")
    assert later == 400


def test_close_packet_over_websocket_closes_the_socket(steady: SockdProcess, source: str) -> None:
    """Gap 4: the server closes the WebSocket on ``1`` (not at the ping timeout)."""

    async def scenario() -> list[str | bytes]:
        async with Wire(steady.port, source) as wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send("1")
            return await frames_until_closed(ws, PROMPT)

    assert asyncio.run(scenario()) == []


# --------------------------------------------------------------------------- upgrade


def test_upgrade_sequence(steady: SockdProcess, source: str) -> None:
    """Probe ``2probe``/``3probe``, the pending poll ends with ``6``, ``5`` completes it."""

    async def scenario() -> tuple[str | bytes, tuple[int, str], str | bytes]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            pending = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(IN_FLIGHT)
            ws = await wire.websocket(sid=sid)
            await ws.send("2probe")
            probe = await receive(ws)
            ended = await pending
            await ws.send("5")
            await ws.send('42["message","over websocket"]')
            return probe, (ended.status, ended.text), await receive(ws)

    probe, ended, echoed = asyncio.run(scenario())
    assert probe == "3probe"
    assert ended == (200, "6")
    assert echoed == '42["message-back","over websocket"]'


def test_after_upgrade_polling_gets_400_and_no_noop_reaches_the_websocket(
    steady: SockdProcess, source: str
) -> None:
    """Gaps 5 and 7: HTTP with the sid is refused, a second WebSocket accepted then closed
    (as Node does, issue 15); no stray ``6``."""

    async def scenario() -> tuple[int, int, int | None, str | bytes]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            ws = await wire.websocket(sid=sid)
            await ws.send("2probe")
            assert await receive(ws) == "3probe"
            await ws.send("5")
            await ws.send('42["message","upgraded"]')
            first_frame = await receive(ws)
            get = await wire.poll(sid, timeout=PROMPT)
            post = await wire.push(sid, '42["message","over polling"]')
            second = await wire.accepted_then_closed(sid=sid)
            await ws.send('42["message","still upgraded"]')
            return get.status, post.status, second, first_frame, await receive(ws)

    get, post, second, first_frame, still = asyncio.run(scenario())
    assert (get, post) == (400, 400)
    assert second == 1000
    assert first_frame == '42["message-back","upgraded"]'
    assert still == '42["message-back","still upgraded"]'


def test_a_second_websocket_during_the_upgrade_is_closed(steady: SockdProcess, source: str) -> None:
    """Gap 5: a WebSocket with the sid of a session being upgraded is accepted, then closed
    (as Node does, issue 15), and the upgrade goes on."""

    async def scenario() -> tuple[int | None, str | bytes]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            ws = await wire.websocket(sid=sid)
            await ws.send("2probe")
            assert await receive(ws) == "3probe"
            second = await wire.accepted_then_closed(sid=sid)
            await ws.send("5")
            await ws.send('42["message","still upgraded"]')
            return second, await receive(ws)

    second, echoed = asyncio.run(scenario())
    assert second == 1000
    assert echoed == '42["message-back","still upgraded"]'


def test_an_invalid_packet_over_websocket_closes_the_session(
    steady: SockdProcess, source: str
) -> None:
    """Gap 7: an undecodable frame closes the socket and ends the session on the worker."""

    async def scenario() -> tuple[list[str | bytes], bool]:
        async with Wire(steady.port, source) as wire:
            ws, sid = await wire.socketio_websocket()
            await ws.send("abc")
            frames = await frames_until_closed(ws, PROMPT)
            return frames, await wire.has_session(sid)

    frames, alive = asyncio.run(scenario())
    assert frames == []
    assert not alive


# --------------------------------------------------------------------------- server close


def test_server_ending_a_websocket_session_closes_it_without_close_packet(
    steady: SockdProcess, source: str
) -> None:
    """Gap 9: ``eio.disconnect(sid)`` closes the WebSocket itself and sends no ``1``."""

    async def scenario() -> list[str | bytes]:
        async with Wire(steady.port, source) as wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send('42["end_transport"]')
            return await frames_until_closed(ws, PROMPT)

    assert asyncio.run(scenario()) == []


def test_server_ending_a_polling_session_ends_the_poll_without_close_packet(
    steady: SockdProcess, source: str
) -> None:
    """Gap 9: the pending poll ends with a noop (not ``1``); the next one gets 400."""

    async def scenario() -> tuple[tuple[int, str], int]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            pending = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(IN_FLIGHT)
            assert (await wire.push(sid, '42["end_transport"]')).status == 200
            ended = await pending
            return (ended.status, ended.text), (await wire.poll(sid, timeout=PROMPT)).status

    ended, later = asyncio.run(scenario())
    assert ended == (200, "6")
    assert later == 400
