"""The outbound queue: put never waits, sends in order and in batches, keeps its bound,
and sends a failed batch again, still in order."""

from __future__ import annotations

import asyncio

from sockd.worker.bus.outbound_queue import OutboundQueue, Outgoing


def _items(first: int, count: int, size: int = 1) -> list[Outgoing]:
    return [Outgoing(n, "x" * size) for n in range(first, first + count)]


def _numbers(batches: list[list[Outgoing]]) -> list[list[int]]:
    return [[item.number for item in batch] for batch in batches]


async def _drain(queue: OutboundQueue) -> None:
    while len(queue):
        await asyncio.sleep(0)


def test_messages_queued_meanwhile_go_out_together_in_order() -> None:
    async def scenario() -> list[list[int]]:
        sent: list[list[Outgoing]] = []
        in_flight = asyncio.Event()
        release = asyncio.Event()

        async def send(batch: list[Outgoing]) -> None:
            sent.append(batch)
            if len(sent) == 1:
                in_flight.set()
                await release.wait()

        queue = OutboundQueue(send, limit=100)
        assert queue.put(Outgoing(1, "a"))  # returns at once: nothing was sent yet
        assert sent == []
        await in_flight.wait()
        for item in _items(2, 4):  # queued while the first batch is on its way
            assert queue.put(item)
        release.set()
        await _drain(queue)
        return _numbers(sent)

    assert asyncio.run(scenario()) == [[1], [2, 3, 4, 5]]


def test_batches_are_bounded() -> None:
    async def scenario() -> list[list[int]]:
        sent: list[list[Outgoing]] = []

        async def send(batch: list[Outgoing]) -> None:
            sent.append(batch)

        queue = OutboundQueue(send, limit=100, max_batch=4)
        for item in _items(1, 10):
            queue.put(item)
        await _drain(queue)
        return _numbers(sent)

    assert asyncio.run(scenario()) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


def test_past_the_bound_new_messages_are_dropped_and_counted() -> None:
    async def scenario() -> tuple[list[bool], int, list[list[int]]]:
        sent: list[list[Outgoing]] = []

        async def send(batch: list[Outgoing]) -> None:
            sent.append(batch)

        queue = OutboundQueue(send, limit=3)
        accepted = [queue.put(item) for item in _items(1, 5)]
        await _drain(queue)
        return accepted, queue.dropped, _numbers(sent)

    accepted, dropped, sent = asyncio.run(scenario())
    assert accepted == [True, True, True, False, False]
    assert dropped == 2
    assert sent == [[1, 2, 3]]  # the oldest are kept: the gap is at the end


def test_the_size_bound_counts_bytes() -> None:
    async def scenario() -> tuple[list[bool], int]:
        async def send(batch: list[Outgoing]) -> None:
            return None

        queue = OutboundQueue(send, limit=100, max_bytes=25)
        accepted = [queue.put(item) for item in _items(1, 3, size=10)]
        accepted.append(queue.put(Outgoing(4, "y" * 5)))  # 25 bytes: still fits
        await _drain(queue)
        return accepted, queue.dropped

    assert asyncio.run(scenario()) == ([True, True, False, True], 1)


def test_a_failed_batch_is_sent_again_first_with_what_queued_behind_it() -> None:
    async def scenario() -> tuple[list[list[int]], list[int]]:
        attempts: list[list[Outgoing]] = []
        waits: list[int] = []

        async def send(batch: list[Outgoing]) -> None:
            attempts.append(batch)
            if len(attempts) == 1:
                queue.put(Outgoing(4, "d"))  # arrives while the first try fails
            if len(attempts) <= 2:
                raise ConnectionError("Redis is away")

        def delay(failures: int) -> float:
            waits.append(failures)
            return 0.0

        queue = OutboundQueue(send, limit=100, delay=delay)
        for item in _items(1, 3):
            queue.put(item)
        await _drain(queue)
        return _numbers(attempts), waits

    attempts, waits = asyncio.run(scenario())
    assert attempts == [[1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4]]
    assert waits == [1, 2]  # the backoff grows with the failures in a row


def test_nothing_is_sent_before_ready() -> None:
    async def scenario() -> tuple[list[list[int]], list[list[int]]]:
        sent: list[list[Outgoing]] = []
        subscribed = asyncio.Event()

        async def send(batch: list[Outgoing]) -> None:
            sent.append(batch)

        queue = OutboundQueue(send, limit=100, ready=subscribed.wait)
        for item in _items(1, 3):
            queue.put(item)
        for _ in range(10):
            await asyncio.sleep(0)
        before = _numbers(sent)
        subscribed.set()
        await _drain(queue)
        return before, _numbers(sent)

    assert asyncio.run(scenario()) == ([], [[1, 2, 3]])
