"""An answer cut into bounded chunks, so that no frame or Redis message grows with the
number of sockets: each chunk holds at most ``MAX_ITEMS`` items and about ``MAX_BYTES``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sockd.worker.cluster.local import LocalAnswer

MAX_ITEMS = 1000
MAX_BYTES = 256 * 1024


def chunks(request_id: str, answer: LocalAnswer) -> Iterator[str]:
    """The answer's chunk bodies, numbered from 0, the last one flagged."""
    batch: list[str] = []
    size = 0
    seq = 0
    for item in answer.items:
        if batch and (len(batch) >= MAX_ITEMS or size + len(item) > MAX_BYTES):
            yield _chunk(request_id, seq, False, batch)
            seq, batch, size = seq + 1, [], 0
        batch.append(item)
        size += len(item) + 1
    head = {"id": request_id, "seq": seq, "last": True, "truncated": answer.truncated}
    if answer.value is not None:
        head["value"] = answer.value
    yield json.dumps(head)[:-1] + ', "items": [' + ",".join(batch) + "]}"


def error_chunk(request_id: str, error: str) -> str:
    return json.dumps({"id": request_id, "seq": 0, "last": True, "error": error})


def _chunk(request_id: str, seq: int, last: bool, items: list[str]) -> str:
    head: dict[str, Any] = {"id": request_id, "seq": seq, "last": last}
    return json.dumps(head)[:-1] + ', "items": [' + ",".join(items) + "]}"
