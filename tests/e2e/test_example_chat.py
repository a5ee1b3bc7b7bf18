"""The README's example runs: ``sockd start examples/chat`` under the installed script.

Started the way the README starts it (the console script, from the repository root), so a
broken example shows up here first: the middleware, the controllers, the router and the
page a person opens in a browser.
"""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.harness import (
    ECHO_APP,
    REPO_ROOT,
    Client,
    SockdLauncher,
    open_clients,
    source_addresses,
    wait_until,
)

CHAT = "examples/chat"


def test_chat_room_messages_reach_everyone_once(sockd: SockdLauncher) -> None:
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
            acks = await asyncio.gather(*(c.call("join", "lobby") for c in clients))
            assert {ack["room"] for ack in acks} == {"lobby"}
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
            assert first == {"room": "lobby", "text": texts[0], "from": "user0"}
            refused = await clients[0].call("say", {"room": "lobby", "text": "  "})
            assert "1 to 500 characters" in refused["error"]
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())


def test_chat_refuses_a_client_without_a_name(sockd: SockdLauncher) -> None:
    proc = sockd(app=CHAT, workers=1)

    async def scenario() -> None:
        client = Client(proc.port, "127.0.8.2", ["websocket"], reconnection=False)
        try:
            with pytest.raises(Exception, match="failed to connect"):
                await client.connect(timeout=10)
        finally:
            await client.close()

    asyncio.run(scenario())


def test_chat_page_and_client_library_are_served(sockd: SockdLauncher) -> None:
    """The page a person opens, and the Socket.IO client it loads, come from the app."""
    proc = sockd(app=CHAT, workers=1)
    with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/", timeout=10) as page:
        html = page.read().decode()
    assert "<title>sockd chat</title>" in html
    assert '<script src="/public/socket.io.min.js">' in html
    with urllib.request.urlopen(
        f"http://127.0.0.1:{proc.port}/public/socket.io.min.js", timeout=10
    ) as script:
        assert b"Socket.IO v4" in script.read(200)


def test_app_dir_imports_the_app_from_another_directory(
    sockd: SockdLauncher, tmp_path: Path
) -> None:
    """--app-dir puts MODULE:ATTR's directory on the workers' path, whatever the cwd."""
    proc = sockd("--app-dir", str(REPO_ROOT), app=ECHO_APP, workers=1, cwd=tmp_path)

    async def scenario() -> None:
        async with open_clients(proc.port, source_addresses(1), ["websocket"]) as (client,):
            assert await client.call("echo", "elsewhere") == "elsewhere"

    asyncio.run(scenario())
