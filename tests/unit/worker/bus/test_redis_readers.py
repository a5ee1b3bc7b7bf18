"""What each Redis bus keeps of what it reads, and where a stream reader resumes.

No Redis here: the buses are built (their clients connect only when used) and fed what
Redis would answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.exceptions import ResponseError

from sockd.config.io import RedisSettings
from sockd.worker.bus.redis_pubsub import RedisPubSubBus
from sockd.worker.bus.redis_streams import RedisStreamsBus

URL = "redis://127.0.0.1:1/0"


def test_pubsub_numbers_its_messages_and_drops_its_own_and_copies() -> None:
    bus = RedisPubSubBus(URL, RedisSettings())
    mine = json.loads(bus._encode({"method": "emit"}, 1))
    assert mine["sockd_pub"] == bus.host_id and mine["sockd_seq"] == 1
    assert not bus._accepts(mine)
    theirs = {"method": "emit", "sockd_pub": "other", "sockd_seq": 7}
    assert bus._accepts(theirs)
    assert not bus._accepts(dict(theirs))  # the copy of a resend
    assert bus._accepts({"method": "emit", "host_id": "plain python-socketio"})
    assert bus.stats()["duplicates"] == 1


def test_streams_skips_its_own_entries_and_copies_without_parsing_them() -> None:
    bus = RedisStreamsBus(URL, RedisSettings())
    own = {b"h": bus.host_id.encode(), b"s": b"1", b"m": b"{not even json"}
    assert bus._fresh(own) is None
    entry = {b"h": b"other", b"s": b"3", b"m": b'{"method": "emit"}'}
    assert bus._fresh(entry) == b'{"method": "emit"}'
    assert bus._fresh(dict(entry)) is None
    assert bus._fresh({b"h": b"other", b"s": b"6", b"m": b"{}"}) == b"{}"
    assert bus._fresh({b"m": b"{}"}) is None  # not a sockd worker's entry
    assert (bus.stats()["duplicates"], bus.stats()["missed"]) == (1, 2)


class Stream:
    """Answers XINFO STREAM as Redis would, for a stream whose newest id is ``newest``."""

    def __init__(self, newest: bytes | None) -> None:
        self.newest = newest

    async def xinfo_stream(self, name: str) -> dict[str, Any]:
        if self.newest is None:
            raise ResponseError("no such key")
        return {"last-generated-id": self.newest}


@pytest.mark.parametrize(
    ("read_up_to", "newest", "resumes_at"),
    [
        pytest.param(None, b"1700000000000-3", b"1700000000000-3", id="new reader: at the end"),
        pytest.param(None, None, b"0-0", id="new reader, no stream yet: from its start"),
        pytest.param(b"1700000000000-3", b"1700000005000-0", b"1700000000000-3", id="catch up"),
        pytest.param(b"1700000000000-3", None, b"0-0", id="Redis lost the stream"),
        pytest.param(b"1700000000000-3", b"1600000000000-0", b"0-0", id="stream restarted"),
        pytest.param(b"1700000000000-3", b"1700000000000-3", b"1700000000000-3", id="no news"),
    ],
)
def test_where_a_stream_reader_resumes(
    read_up_to: bytes | None, newest: bytes | None, resumes_at: bytes
) -> None:
    bus = RedisStreamsBus(URL, RedisSettings())
    bus.last_id = read_up_to
    asyncio.run(bus._resume(Stream(newest)))  # type: ignore[arg-type]
    assert bus.last_id == resumes_at


def test_the_bus_setting_picks_the_bus() -> None:
    from sockd.worker.bus.managers import redis_bus

    assert isinstance(redis_bus(URL, RedisSettings()), RedisStreamsBus)
    assert isinstance(redis_bus(URL, RedisSettings(bus="pubsub")), RedisPubSubBus)
