"""The lean queue and event behave as asyncio's own, which every session relies on."""

from __future__ import annotations

import asyncio

import pytest

from sockd.worker.hot_path.lean_queue import LeanEvent, LeanQueue


def test_items_come_out_in_order_to_waiting_and_later_getters() -> None:
    async def scenario() -> list[int]:
        queue = LeanQueue()
        waiting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        for item in range(5):
            queue.put_nowait(item)
        got = [await waiting]
        got += [queue.get_nowait() for _ in range(queue.qsize())]
        assert queue.empty()
        queue.put_nowait(9)
        got.append(await queue.get())
        return got

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4, 9]


def test_a_cancelled_getter_loses_no_item() -> None:
    async def scenario() -> list[int]:
        queue = LeanQueue()
        first = asyncio.ensure_future(queue.get())
        second = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        first.cancel()
        queue.put_nowait(1)
        await asyncio.sleep(0)
        return [await asyncio.wait_for(second, 1.0)]

    assert asyncio.run(scenario()) == [1]


def test_join_waits_for_every_task_done() -> None:
    async def scenario() -> None:
        queue = LeanQueue()
        queue.put_nowait("a")
        queue.put_nowait("b")
        joined = asyncio.ensure_future(queue.join())
        queue.get_nowait()
        queue.task_done()
        await asyncio.sleep(0)
        assert not joined.done()
        queue.get_nowait()
        queue.task_done()
        await asyncio.wait_for(joined, 1.0)

    asyncio.run(scenario())


def test_event_wakes_every_waiter_and_stays_set() -> None:
    async def scenario() -> None:
        event = LeanEvent()
        waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        cancelled = waiters.pop()
        cancelled.cancel()
        event.set()
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1.0) == [True, True]
        assert await event.wait() is True
        event.clear()
        assert not event.is_set()

    asyncio.run(scenario())


def test_the_loop_is_looked_up_at_the_first_wait_only(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        queue, event = LeanQueue(), LeanEvent()
        loop = asyncio.get_running_loop()
        loop.call_soon(queue.put_nowait, 1)
        assert await queue.get() == 1
        loop.call_soon(event.set)
        assert await event.wait()
        monkeypatch.setattr(asyncio.events, "_get_running_loop", lambda: None)
        assert queue._get_loop() is loop and event._get_loop() is loop

    asyncio.run(scenario())
