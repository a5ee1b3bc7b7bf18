"""The README's example runs: ``sockd start examples/chat`` under the installed script.

Started the way the README starts it (the console script, from the repository root), so a
broken example shows up here first: the middleware, the controllers, the router, the login
route of its HTTP side and the page a person opens in a browser (which
tests/e2e/test_chat_browser.py drives in Chromium).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.harness import (
    ECHO_APP,
    REPO_ROOT,
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    open_clients,
    wait_until,
)

CHAT = "examples/chat"


#: The chat's recovery window, shortened for the tests of the module's chat: python-socketio's
#: client closes its WebSocket before its DISCONNECT leaves, so its leaving is a lost
#: transport, told to the room once the window is over.
WINDOW = "2"


@pytest.fixture(scope="module")
def chat(sockd_module: SockdLauncher) -> SockdProcess:
    """One single-worker chat for the tests that need no fresh one."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", WINDOW)
        return sockd_module(app=CHAT, workers=1)


def presence(client: Client, event: str) -> list[dict[str, Any]]:
    return [
        args[0] for name, args in client.events if name == "presence" and args[0]["event"] == event
    ]


def test_chat_room_messages_reach_everyone_once(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """Six named clients on two workers join a room; each ``say`` reaches all of them once."""
    proc = sockd(app=CHAT, workers=2, sticky=True, console_script=True)

    async def scenario() -> None:
        sources = source_addresses(6)
        clients = [
            Client(
                proc.port,
                ip,
                ["polling"] if i < 3 else ["polling", "websocket"],
                auth={"name": f"user{i}"},
            )
            for i, ip in enumerate(sources)
        ]
        try:
            await asyncio.gather(*(c.connect() for c in clients))
            first_ack = await clients[0].call("join", "lobby")
            acks = [
                first_ack,
                *await asyncio.gather(*(c.call("join", "lobby") for c in clients[1:])),
            ]
            assert {ack["room"] for ack in acks} == {"lobby"}
            assert [ack["id"] for ack in acks] == [c.sid for c in clients]
            assert len({ack["worker"] for ack in acks}) == 2, "both workers serve the room"
            texts = [f"hi {uuid.uuid4()}", f"bye {uuid.uuid4()}"]
            for speaker, text in zip((clients[0], clients[-1]), texts, strict=True):
                assert await speaker.call("say", {"room": "lobby", "text": text}) is True

            def got(text: str) -> list[int]:
                return [sum(1 for m in c.messages if m.get("text") == text) for c in clients]

            await wait_until(
                lambda: all(n >= 1 for t in texts for n in got(t)), 10.0, "chat messages"
            )
            await asyncio.sleep(0.2)  # bounded look for duplicates
            assert [got(t) for t in texts] == [[1] * len(clients)] * 2
            first = next(m for m in clients[1].messages if m["text"] == texts[0])
            assert first.pop("at") >= acks[0]["at"], "a message carries the server's time"
            assert first == {"room": "lobby", "text": texts[0], "from": "user0"}
            refused = await clients[0].call("say", {"room": "lobby", "text": "  "})
            assert "1 to 500 characters" in refused["error"]
            # The first to join saw the five others join, each once, across workers.
            joined = presence(clients[0], "joined")
            await wait_until(lambda: len(presence(clients[0], "joined")) >= 5, 10.0, "joins")
            assert sorted(p["name"] for p in joined) == [f"user{i}" for i in range(1, 6)]
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


async def refusal(port: int, auth: Any) -> str:
    """The message of the ``connect_error`` a client with ``auth`` receives."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            f"http://127.0.0.1:{port}", auth=auth, transports=["websocket"], wait_timeout=10
        )
    await client.shutdown()
    assert errors, "no connect_error reached the client"
    return str(errors[0]["message"])


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        (None, "a name is required"),
        ({"name": ""}, "a name is required"),
        ({"name": "    "}, "a name cannot be only spaces"),
        ({"name": "x" * 40}, "a name is at most 32 characters (this one has 40)"),
        ({"name": 42}, "a name is required"),
    ],
)
def test_chat_refuses_a_bad_name_with_the_reason(
    chat: SockdProcess, auth: Any, reason: str
) -> None:
    assert asyncio.run(refusal(chat.port, auth)) == reason


def login(port: int, body: bytes) -> tuple[int, dict[str, Any], str | None]:
    """``POST /login``: status, JSON answer, and the ``session=...`` cookie it set."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, answer, headers = error.code, error.read(), error.headers
    cookie = headers.get("Set-Cookie")
    return status, json.loads(answer), cookie.split(";", 1)[0] if cookie else None


def test_login_sets_the_session_that_the_socket_reads(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """The HTTP side (app/http.py) sets the session; a socket with the cookie is that user."""
    proc = sockd(app=CHAT, workers=2, console_script=True)
    status, answer, cookie = login(proc.port, json.dumps({"name": "  Ada   Lovelace "}).encode())
    assert (status, answer) == (200, {"name": "Ada Lovelace"})
    assert cookie is not None and cookie.startswith("session=")

    async def scenario() -> None:
        # Sockets on two workers, so the session is read where it was not written too.
        clients: list[Client] = []
        workers: set[int] = set()
        try:
            for ip in source_addresses(16):
                client = Client(proc.port, ip, ["polling", "websocket"], headers={"Cookie": cookie})
                clients.append(await client.connect())
                worker = (await client.call("join", "salon"))["worker"]
                if worker not in workers:
                    workers.add(worker)
                elif len(clients) > 1:
                    await clients.pop().close()  # a second socket on a worker already seen
                if len(workers) == 2:
                    break
            assert len(workers) == 2, "16 source addresses all reached one worker"
            assert await clients[0].call("say", {"room": "salon", "text": "hello"}) is True
            await wait_until(lambda: clients[1].messages, 10.0, "the message")
            assert clients[1].messages[0]["from"] == "Ada Lovelace"
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b'{"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}', 400, "a name is at most 32"),
        (b'{"name": "   "}', 400, "a name cannot be only spaces"),
        (b"not json", 400, "send a JSON object"),
        (b'{"name": "' + b"x" * 2000 + b'"}', 413, "too large"),
    ],
)
def test_login_refuses_with_the_reason(
    chat: SockdProcess, body: bytes, status: int, error: str
) -> None:
    got_status, answer, cookie = login(chat.port, body)
    assert (got_status, cookie) == (status, None)
    assert error in answer["error"]


def test_chat_page_icon_and_client_library_are_served(chat: SockdProcess) -> None:
    """The page a person opens, its icon and the Socket.IO client it loads come from the app."""
    base = f"http://127.0.0.1:{chat.port}"
    with urllib.request.urlopen(f"{base}/", timeout=10) as page:
        html = page.read().decode()
    assert "<title>sockd chat</title>" in html
    assert '<script src="/public/socket.io.min.js">' in html
    with urllib.request.urlopen(f"{base}/public/socket.io.min.js", timeout=10) as script:
        assert b"Socket.IO v4" in script.read(200)
    with urllib.request.urlopen(f"{base}/favicon.ico", timeout=10) as icon:
        assert icon.headers["Content-Type"] == "image/x-icon"
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/no-such-page", timeout=10)
    assert missing.value.code == 404


def test_the_log_tells_who_came_and_went_and_why(
    chat: SockdProcess, source_addresses: SourceAddresses
) -> None:
    proc = chat
    mark = proc.line_count()
    [ip] = source_addresses(1)

    async def scenario() -> str | None:
        client = Client(proc.port, ip, ["websocket"], auth={"name": "grace"})
        await client.connect()
        await client.call("join", "lobby")
        refused = await client.call("say", {"room": "elsewhere", "text": "hi"})
        assert refused == {"error": "join 'elsewhere' before you speak in it"}
        sid = client.sid
        await client.close()
        return sid

    sid = asyncio.run(scenario())
    proc.wait_for_line(f"grace connected (sid {sid}, {ip})", 10, mark)
    proc.wait_for_line(f"grace joined lobby (sid {sid}, was -)", 10, mark)
    # python-socketio's client sends its DISCONNECT and closes the WebSocket at once; the
    # close may be seen first (a transport close): the room hears of it when the recovery
    # window ends.
    proc.wait_for_match(
        rf"grace left lobby \(sid {sid}\): (client namespace disconnect|transport close)$",
        10,
        mark,
    )
    proc.wait_for_line(f"grace disconnected (sid {sid}) after", 10, mark)


def test_join_answers_with_the_rooms_members_on_every_worker(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """``join`` returns who is in the room whatever worker holds them (sockd.cluster's
    fetch_sockets); a page that reconnects names the socket it replaces, which is left out
    of its list and which the others replace."""
    proc = sockd(app=CHAT, workers=2)

    async def scenario() -> None:
        addresses = source_addresses(16)
        ada = Client(proc.port, addresses[0], ["websocket"], auth={"name": "ada"})
        opened = [ada]
        try:
            await ada.connect()
            first = await ada.call("join", "lobby")
            assert first["members"] == [{"id": ada.sid, "name": "ada"}]
            for ip in addresses[1:]:  # bob on the other worker
                bob = Client(proc.port, ip, ["websocket"], auth={"name": "bob"})
                opened.append(await bob.connect())
                if (await bob.call("join", "probe"))["worker"] != first["worker"]:
                    break
            else:
                raise AssertionError("15 source addresses all reached ada's worker")
            second = await bob.call("join", "lobby")
            assert sorted(m["name"] for m in second["members"]) == ["ada", "bob"]
            await wait_until(lambda: presence(ada, "joined"), 10.0, "bob's arrival")
            # bob's page comes back on a new socket before the old one is seen to go.
            bob_again = Client(proc.port, addresses[0], ["websocket"], auth={"name": "bob"})
            opened.append(await bob_again.connect())
            again = await bob_again.call("join", ("lobby", {"previous": bob.sid}))
            listed = {m["id"]: m["name"] for m in again["members"]}
            assert listed == {ada.sid: "ada", bob_again.sid: "bob"}, "the old socket left out"
            await wait_until(lambda: presence(ada, "reconnected"), 10.0, "bob's return")
            back = presence(ada, "reconnected")[0]
            assert (back["name"], back["previous"], back["id"]) == ("bob", bob.sid, bob_again.sid)
        finally:
            await asyncio.gather(*(client.close() for client in opened))

    asyncio.run(scenario())


def test_app_dir_imports_the_app_from_another_directory(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    """--app-dir puts MODULE:ATTR's directory on the workers' path, whatever the cwd."""
    proc = sockd("--app-dir", str(REPO_ROOT), app=ECHO_APP, workers=1, cwd=tmp_path)

    async def scenario() -> None:
        async with open_clients(proc.port, source_addresses(1), ["websocket"]) as (client,):
            assert await client.call("echo", "elsewhere") == "elsewhere"

    asyncio.run(scenario())
