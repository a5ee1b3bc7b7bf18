"""examples/chat in a real browser: Debian's Chromium, driven by playwright, on 4 workers.

Two people chat both ways from two pages on two workers, one page on long-polling only;
then the worker of one page is killed (SIGKILL) and the whole cluster reloaded, and the test
reads what each page shows: messages, join, leave and reconnect lines, who is in the room,
the connection state. A third page meets the refusals (a name too long, a name of spaces, a
refused re-join). The chat has connection state recovery on: through the kill and the
reload, while a python-socketio client on a third worker says something every 100 ms, each
page must show every one of its messages once and in order, say it recovered, and show no
one leaving or joining again.

Chromium always connects from 127.0.0.1, and the master keys stickiness by the peer address,
so the second page reaches sockd through a relay that connects from another loopback
address (as a NAT gateway would), chosen so that the page lands on another worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.harness import Client, SockdLauncher, SockdProcess, SourceAddresses, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Bound of every wait on a page, in milliseconds.
WAIT_MS = 15_000

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is missing (scripts/test.sh installs Debian's chromium)",
)


class SourceRelay:
    """A TCP relay on 127.0.0.1 that reaches sockd from ``source``, bytes unchanged."""

    def __init__(self, target_port: int, source: str) -> None:
        self.target_port = target_port
        self.source = source
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> SourceRelay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.target_port, local_addr=(self.source, 0)),
                10,
            )
        except (OSError, TimeoutError):
            writer.close()
            return
        self._writers |= {writer, upstream[1]}
        await asyncio.gather(_pipe(reader, upstream[1]), _pipe(upstream[0], writer))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def worker_of(port: int, source: str) -> int:
    """The pid of the worker that a client from ``source`` reaches (joins a side room)."""
    probe = Client(port, source, ["websocket"], auth={"name": "probe"})
    try:
        await probe.connect()
        return int((await probe.call("join", "probes"))["worker"])
    finally:
        await probe.close()


async def open_page(browser: Browser, url: str, problems: list[str]) -> Page:
    """A page in a context of its own (its own cookies), its errors noted in ``problems``."""
    page = await (await browser.new_context()).new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: problems.append(f"{url}: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"{response.status} {response.url}")
        ),
    )
    await page.goto(url)
    return page


async def join(page: Page, name: str, room: str = "lobby") -> None:
    await page.fill("#join input[name=name]", name)
    await page.fill("#join input[name=room]", room)
    await page.click("#join button")


async def send(page: Page, text: str) -> None:
    await page.fill("#say input[name=text]", text)
    await page.click("#say button")


async def log_lines(page: Page) -> list[str]:
    """The chat log, one line each, without the time stamps."""
    lines = await page.locator("#log > div").all_inner_texts()
    return [re.sub(r"^\d\d:\d\d:\d\d\s*", "", line) for line in lines]


async def wait_for_line(page: Page, text: str) -> None:
    await expect(page.locator("#log")).to_contain_text(text)


async def connected_worker(page: Page) -> int:
    state = page.locator("#state")
    await expect(state).to_have_attribute("data-state", "connected")
    return int(await state.get_attribute("data-worker") or 0)


async def wait_for_worker(page: Page, accept: str, pids: set[int]) -> int:
    """Wait until the page is connected to a worker whose pid is (``accept="in"``) or is not
    (``"out"``) in ``pids``; that pid."""
    await page.wait_for_function(
        """([accept, pids]) => {
            const state = document.getElementById("state");
            const known = pids.includes(Number(state.dataset.worker));
            return state.dataset.state === "connected" && known === (accept === "in");
        }""",
        arg=[accept, sorted(pids)],
    )
    return await connected_worker(page)


QUEUE_WHILE_DISCONNECTED = """() => {
    // Atomic in the page: only while disconnected, send a message, then type a draft.
    const state = document.getElementById("state");
    if (state.dataset.state !== "disconnected") return null;
    const say = document.getElementById("say");
    say.elements.text.value = "sent while away";
    say.requestSubmit();
    say.elements.text.value = "draft in progress";
    return {state: state.textContent, outbox: document.getElementById("outbox").textContent,
            sendDisabled: say.elements.send.disabled};
}"""


async def refusals(browser: Browser, port: int, problems: list[str]) -> None:
    """A third page: bad names refused with the reason, and Send disabled after a refusal."""
    page = await open_page(browser, f"http://127.0.0.1:{port}/", problems)
    state, send_button = page.locator("#state"), page.locator("#say button")
    for name, reason in [
        ("x" * 40, "a name is at most 32 characters (this one has 40)"),
        ("     ", "a name cannot be only spaces"),
    ]:
        await join(page, name)
        await expect(state).to_have_attribute("data-state", "refused")
        await expect(state).to_have_text(f"refused: {reason}")
        await expect(send_button).to_be_disabled()
    await join(page, "carol")
    await connected_worker(page)
    await expect(send_button).to_be_enabled()
    await join(page, " ")  # a re-join, refused: carol's connection is gone, Send too
    await expect(state).to_have_text("refused: a name cannot be only spaces")
    await expect(send_button).to_be_disabled()
    await page.context.close()
    # Those 400s were the login's answers, which the page shows; nothing else may fail.
    problems[:] = [p for p in problems if not p.endswith(f"127.0.0.1:{port}/login")]


@pytest.mark.timeout(90)
def test_two_pages_chat_across_workers_through_a_kill_and_a_reload(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app="examples/chat", workers=4)
    asyncio.run(scenario(proc, tmp_path, source_addresses(40)))


async def scenario(proc: SockdProcess, tmp_path: Path, sources: list[str]) -> None:
    ada_worker = await worker_of(proc.port, "127.0.0.1")
    workers = {source: await worker_of(proc.port, source) for source in sources}
    bob_source = next((s for s, pid in workers.items() if pid != ada_worker), None)
    assert bob_source, "40 source addresses all reached the worker of 127.0.0.1"
    others = (ada_worker, workers[bob_source])
    carl_source = next(s for s, pid in workers.items() if pid not in others)
    relay = await SourceRelay(proc.port, bob_source).start()
    problems: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                await chat_session(browser, proc, relay, problems, tmp_path, carl_source)
            finally:
                await browser.close()
    finally:
        await relay.close()


class Producer:
    """carl, a python-socketio client, saying ``m1``, ``m2``, ... every 100 ms; a message
    counts as said when the server acknowledged it (a python client does not recover, so
    after a reconnect it joins again, naming its previous id)."""

    def __init__(self, port: int, source: str) -> None:
        self.client = Client(port, source, ["websocket"], auth={"name": "carl"})
        self.acked: list[int] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.connect()
        await self.client.call("join", "lobby")
        self._task = asyncio.create_task(self._say())

    async def _say(self) -> None:
        n, previous = 0, self.client.sid
        while not self._stop.is_set():
            n += 1
            try:
                said = await self.client.call("say", {"room": "lobby", "text": f"m{n}"}, 3.0)
            except Exception:
                said = None
            if said is True:
                self.acked.append(n)
            else:  # a new connection, not in the room yet
                await wait_until(lambda: self.client.connected, 30.0, "carl to reconnect")
                await self.client.call("join", ("lobby", {"previous": previous}))
                previous = self.client.sid
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await asyncio.wait_for(self._task, 40.0)
        await self.client.close()


async def carls_messages(page: Page) -> list[int]:
    return [
        int(line[len("carl: m") :]) for line in await log_lines(page) if line.startswith("carl: m")
    ]


async def chat_session(
    browser: Browser,
    proc: SockdProcess,
    relay: SourceRelay,
    problems: list[str],
    tmp: Path,
    carl_source: str,
) -> None:
    ada = await open_page(browser, f"http://127.0.0.1:{proc.port}/", problems)
    bob = await open_page(browser, f"http://127.0.0.1:{relay.port}/?transports=polling", problems)
    await join(ada, "ada")
    assert await connected_worker(ada) > 0
    await join(bob, "bob")
    bob_worker = await connected_worker(bob)
    await expect(ada.locator("#state")).to_have_attribute("data-transport", "websocket")
    assert await bob.locator("#state").get_attribute("data-transport") == "polling"
    ada_worker = await connected_worker(ada)
    assert ada_worker != bob_worker and {ada_worker, bob_worker} <= set(proc.slot_pids().values())

    # Both ways, across workers; each sees the other arrive, and both in the room.
    await send(ada, "hello from ada")
    await send(bob, "hi from bob")
    for page in (ada, bob):
        await wait_for_line(page, "ada: hello from ada")
        await wait_for_line(page, "bob: hi from bob")
        await expect(page.locator("#people")).to_have_text("2 in lobby: ada, bob")
    await wait_for_line(ada, "bob joined")
    await refusals(browser, proc.port, problems)
    assert problems == [], "the pages loaded and ran without an error"
    await wait_for_line(ada, "carol left")

    # carl says something every 100 ms from a third worker, through the kill and the reload.
    carl = Producer(proc.port, carl_source)
    await carl.start()
    for page in (ada, bob):
        await expect(page.locator("#people")).to_have_text("3 in lobby: ada, bob, carl")

    # SIGKILL bob's worker: bob's page says so, queues what he sends, keeps his draft, and
    # comes back with its connection recovered; ada sees nothing of it.
    os.kill(bob_worker, signal.SIGKILL)
    queued = await (await bob.wait_for_function(QUEUE_WHILE_DISCONNECTED)).json_value()
    assert queued["state"].startswith("disconnected, retrying…"), queued
    assert queued["outbox"] == "waiting to send: sent while away"
    assert queued["sendDisabled"] is False
    # The slot's restarted worker, or the next one in bob's order if the restart is slow.
    assert await wait_for_worker(bob, "out", {bob_worker}) in proc.slot_pids().values()
    await wait_for_line(bob, "reconnected, nothing missed")
    await expect(bob.locator("#state")).to_contain_text("recovered")
    for page in (ada, bob):
        await wait_for_line(page, "bob: sent while away")
        await expect(page.locator("#people")).to_have_text("3 in lobby: ada, bob, carl")
    assert await bob.input_value("#say input[name=text]") == "draft in progress"
    assert await bob.locator("#outbox").inner_text() == ""

    # A rolling reload replaces every worker; both pages come back, recovered, to new ones.
    pids_before = set(proc.slot_pids().values())
    mark = proc.line_count()
    proc.send_signal(signal.SIGHUP)
    await asyncio.to_thread(proc.wait_for_match, r"reload \d+ finished", 60, mark)
    fresh = await new_pids(proc, pids_before, 4)
    for page in (ada, bob):
        await wait_for_worker(page, "in", fresh)
    await send(bob, "after the reload")
    await send(ada, "welcome back")
    for page in (ada, bob):
        await wait_for_line(page, "bob: after the reload")
        await wait_for_line(page, "ada: welcome back")
        await expect(page.locator("#people")).to_have_text("3 in lobby: ada, bob, carl")

    # Nothing lost: every message carl said reached each page once, in order.
    await carl.stop()
    last = carl.acked[-1]
    for page in (ada, bob):
        await wait_for_line(page, f"carl: m{last}")
        shown = await carls_messages(page)
        assert shown == sorted(set(shown)), f"duplicated or out of order: {shown}"
        assert set(carl.acked) <= set(shown), sorted(set(carl.acked) - set(shown))
    print(f"carl said {len(carl.acked)} messages through the kill and the reload; none lost")
    # No flood: neither page saw the other leave or come again.
    lines = {"ada": await log_lines(ada), "bob": await log_lines(bob)}
    for me, other in (("ada", "bob"), ("bob", "ada")):
        churn = [line for line in lines[me] if line.startswith(f"{other} left")
                 or line in (f"{other} reconnected", f"{other} joined")]  # fmt: skip
        assert churn == ([] if me == "bob" else ["bob joined"]), churn
        assert lines[me].count("reconnected, nothing missed") >= (2 if me == "bob" else 1)
    shots = {name: tmp / f"chat-{name}.png" for name in ("ada", "bob")}
    await ada.screenshot(path=str(shots["ada"]))
    await bob.screenshot(path=str(shots["bob"]))
    print(f"screenshots: {shots['ada']} {shots['bob']}")

    # A stopped server: the pages say they are retrying (failed attempts), not "refused".
    assert await asyncio.to_thread(proc.terminate) == 0
    for page in (ada, bob):
        await expect(page.locator("#state")).to_have_text(
            re.compile(r"^disconnected, retrying… \(attempt ([2-9]|[1-9]\d+)\)$")
        )


async def new_pids(proc: SockdProcess, before: set[int], count: int) -> set[int]:
    """The pids of workers that became ready since ``before``, once ``count`` did."""
    for _ in range(300):
        fresh = set(proc.slot_pids().values()) - before
        if len(fresh) >= count:
            return fresh
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} new workers within 30s: {proc.output_tail()}")
