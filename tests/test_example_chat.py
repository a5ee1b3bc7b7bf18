"""The README's example runs: examples.chat:sio under the installed ``sockd`` script.

Started the way the README starts it (the console script, from the repository root), so a
missing default app dir or a broken example shows up here first.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from tests.harness import REPO_ROOT, SockdLauncher, open_clients, source_addresses, wait_until


def test_chat_room_messages_reach_everyone_once(sockd: SockdLauncher) -> None:
    """Six clients on two workers join a room; each ``say`` reaches every one of them once."""
    proc = sockd(app="examples.chat:sio", workers=2, sticky=True, console_script=True)

    async def scenario() -> None:
        sources = source_addresses(6)
        async with (
            open_clients(proc.port, sources[:3], ["polling"]) as polling,
            open_clients(proc.port, sources[3:], ["polling", "websocket"]) as upgraded,
        ):
            clients = polling + upgraded
            acks = await asyncio.gather(*(c.call("join", "lobby") for c in clients))
            assert acks == [{"room": "lobby"}] * len(clients)
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
            assert first == {"room": "lobby", "text": texts[0], "from": clients[0].sid}
            assert await clients[0].call("say", {"room": "lobby"}) is False

    asyncio.run(scenario())


def test_app_dir_imports_the_app_from_another_directory(
    sockd: SockdLauncher, tmp_path: Path
) -> None:
    """--app-dir puts the app's directory on the workers' path, whatever the cwd."""
    proc = sockd("--app-dir", str(REPO_ROOT), app="examples.chat:sio", workers=1, cwd=tmp_path)

    async def scenario() -> None:
        async with open_clients(proc.port, source_addresses(1), ["websocket"]) as (client,):
            assert await client.call("join", "elsewhere") == {"room": "elsewhere"}
            assert await client.call("say", {"room": "elsewhere", "text": "hi"}) is True
            await wait_until(lambda: bool(client.messages), 10.0, "the chat message")
            assert client.messages[0]["text"] == "hi"

    asyncio.run(scenario())
