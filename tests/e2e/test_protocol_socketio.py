"""Socket.IO v5 conformance of sockd's workers, spoken raw over WebSocket and long-polling.

A real sockd with 2 workers serves ``tests/apps/protocol_app.py``. The tests named after a
gap fail against plain python-socketio 5.18 (sockd/worker/protocol fixes them); the others
check the basics the specification lists: connect with and without auth, a custom
namespace, events, acks, binary events and binary acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator

import pytest

from sockd.config.cluster import ClusterSettings
from tests.e2e.protocol_wire import Wire, ask, frames_until_closed, receive
from tests.harness import SockdLauncher, SockdProcess, SourceAddresses, run_sockd

PROTOCOL_APP = "tests.apps.protocol_app:sio"
PROMPT = 5.0
IN_FLIGHT = 0.3
#: The connect timeout the cluster runs with once ``sockd start --connect-timeout`` exists.
SHORT_CONNECT_TIMEOUT = 2.0


def _connect_timeout_flag() -> list[str]:
    """``--connect-timeout`` when the CLI has it; until then workers use the default."""
    if "--connect-timeout" in run_sockd("start", "--help").stdout:
        return ["--connect-timeout", str(SHORT_CONNECT_TIMEOUT)]
    return []


@pytest.fixture(scope="module")
def cluster(sockd_module: SockdLauncher) -> tuple[SockdProcess, float]:
    """The 2-worker cluster and the connect timeout its workers enforce."""
    flag = _connect_timeout_flag()
    timeout = SHORT_CONNECT_TIMEOUT if flag else ClusterSettings().connect_timeout
    return sockd_module(*flag, app=PROTOCOL_APP, workers=2, sticky=True), timeout


@pytest.fixture
def wire(cluster: tuple[SockdProcess, float], source_addresses: SourceAddresses) -> Iterator[Wire]:
    """Raw protocol to the cluster from a loopback address of its own (closed by the test)."""
    yield Wire(cluster[0].port, source_addresses(1)[0])


# --------------------------------------------------------------------------- connect


def test_connect_to_the_main_namespace(wire: Wire) -> None:
    async def scenario() -> tuple[str | bytes, list[object]]:
        async with wire:
            ws = await wire.websocket()
            await receive(ws)
            await ws.send("40")
            connected = await receive(ws)
            return connected, await ask(ws, 1, "get_auth")

    connected, auth = asyncio.run(scenario())
    assert isinstance(connected, str) and connected.startswith("40")
    assert set(json.loads(connected[2:])) == {"sid"}
    assert auth == [{}]


def test_connect_with_an_auth_payload(wire: Wire) -> None:
    async def scenario() -> list[object]:
        async with wire:
            ws, _ = await wire.socketio_websocket('40{"token":"123"}')
            return await ask(ws, 1, "get_auth")

    assert asyncio.run(scenario()) == [{"token": "123"}]


def test_connect_to_a_custom_namespace(wire: Wire) -> None:
    async def scenario() -> tuple[str | bytes, list[object]]:
        async with wire:
            ws = await wire.websocket()
            await receive(ws)
            await ws.send('40/custom,{"token":"abc"}')
            connected = await receive(ws)
            return connected, await ask(ws, 7, "get_auth", namespace="/custom")

    connected, auth = asyncio.run(scenario())
    assert isinstance(connected, str) and connected.startswith("40/custom,")
    assert set(json.loads(connected[len("40/custom,") :])) == {"sid"}
    assert auth == [{"token": "abc"}]


def test_an_unknown_namespace_is_refused_as_invalid(wire: Wire) -> None:
    """Gap 6: ``44/<ns>,{"message":"Invalid namespace"}``, not a bare string."""

    async def scenario() -> str | bytes:
        async with wire:
            ws = await wire.websocket()
            await receive(ws)
            await ws.send("40/random,")
            return await receive(ws)

    assert asyncio.run(scenario()) == '44/random,{"message":"Invalid namespace"}'


# --------------------------------------------------------------------------- messages


def test_an_event_reaches_the_handler(wire: Wire) -> None:
    async def scenario() -> str | bytes:
        async with wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send('42["message",1,"2",{"3":[true]}]')
            return await receive(ws)

    assert asyncio.run(scenario()) == '42["message-back",1,"2",{"3":[true]}]'


def test_an_event_with_an_ack(wire: Wire) -> None:
    async def scenario() -> str | bytes:
        async with wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
            return await receive(ws)

    assert asyncio.run(scenario()) == '43456[1,"2",{"3":[false]}]'


def test_event_data_round_trips_as_the_library_encodes_it(wire: Wire) -> None:
    """Integers of up to 100 digits, escapes and floats decode and encode as python-socketio's
    own JSON does (compact, ASCII-only); sockd builds its decoder and encoder once."""
    digits = "9" * 100

    async def scenario() -> str | bytes:
        async with wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send(f'42["message",{digits},"\u00e9\\u2028",1.5e300,{{"a":null}}]')
            return await receive(ws)

    expected = f'42["message-back",{digits},"\\u00e9\\u2028",1.5e+300,{{"a":null}}]'
    assert asyncio.run(scenario()) == expected


def test_a_binary_event_with_attachments(wire: Wire) -> None:
    placeholders = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'

    async def scenario() -> list[str | bytes]:
        async with wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send(f'452-["message",{placeholders}]')
            await ws.send(bytes([1, 2, 3]))
            await ws.send(bytes([4, 5, 6]))
            return [await receive(ws) for _ in range(3)]

    assert asyncio.run(scenario()) == [
        f'452-["message-back",{placeholders}]',
        bytes([1, 2, 3]),
        bytes([4, 5, 6]),
    ]


def test_a_binary_ack(wire: Wire) -> None:
    placeholders = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'

    async def scenario() -> list[str | bytes]:
        async with wire:
            ws, _ = await wire.socketio_websocket()
            await ws.send(f'452-789["message-with-ack",{placeholders}]')
            await ws.send(bytes([1, 2, 3]))
            await ws.send(bytes([4, 5, 6]))
            return [await receive(ws) for _ in range(3)]

    assert asyncio.run(scenario()) == [
        f"462-789[{placeholders}]",
        bytes([1, 2, 3]),
        bytes([4, 5, 6]),
    ]


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param("4abc", id="unknown-type"),
        pytest.param("49", id="type-out-of-range"),
        pytest.param("42{}", id="event-not-an-array"),
        pytest.param('42abc["message-with-ack",1]', id="unparsable"),
        pytest.param("42", id="event-without-payload"),
        pytest.param("4", id="empty"),
        pytest.param('42["connect"]', id="reserved-event"),
        pytest.param('45["message"]', id="binary-without-attachments"),
        pytest.param(f'42["message",{"1" * 101}]', id="integer-over-100-digits"),
    ],
)
def test_a_malformed_packet_closes_the_connection(wire: Wire, packet: str) -> None:
    """A packet the Socket.IO parser rejects ends the connection (the library ignores it)."""

    async def scenario() -> tuple[list[str | bytes], bool]:
        async with wire:
            ws, sid = await wire.socketio_websocket()
            await ws.send(packet)
            frames = await frames_until_closed(ws, PROMPT)
            return frames, await wire.has_session(sid)

    frames, alive = asyncio.run(scenario())
    assert frames == []
    assert not alive


def test_a_malformed_packet_over_polling_ends_the_session(wire: Wire) -> None:
    """As over WebSocket: the pending poll gets the close packet, later ones 400."""

    async def scenario() -> tuple[tuple[int, str], int]:
        async with wire:
            sid = await wire.socketio_polling()
            pending = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(IN_FLIGHT)
            assert (await wire.push(sid, "42{}")).status == 200
            ended = await pending
            return (ended.status, ended.text), (await wire.poll(sid, timeout=PROMPT)).status

    assert asyncio.run(scenario()) == ((200, "1"), 400)


# --------------------------------------------------------------------------- connect timeout


@pytest.mark.timeout(120)
def test_a_client_that_joins_no_namespace_is_closed_after_the_connect_timeout(
    wire: Wire, cluster: tuple[SockdProcess, float]
) -> None:
    """Gap 8: like Node's connectTimeout; a client in a namespace stays connected."""
    _, connect_timeout = cluster

    async def scenario() -> tuple[list[str | bytes], bool, list[object]]:
        async with wire:
            silent = await wire.websocket()
            await receive(silent)
            joined, _ = await wire.socketio_websocket()
            # Both answer pings meanwhile, so only the connect timeout can close one.
            watch_joined = asyncio.ensure_future(frames_until_closed(joined, 2 * connect_timeout))
            frames = await frames_until_closed(silent, connect_timeout + PROMPT)
            joined_open = not watch_joined.done()
            watch_joined.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch_joined
            return frames, joined_open, await ask(joined, 1, "echo", "still here")

    frames, joined_open, echoed = asyncio.run(scenario())
    assert set(frames) <= {"2"}, frames  # pings only: no close packet
    assert joined_open
    assert echoed == ["still here"]
