"""Connection state recovery over the master: the frames' payloads, shared by both ends.

A *stored* packet (an EVENT without ack id, in a namespace with recovery on) is not
delivered by the worker that emits it: the worker sends it to the master (``SEQUENCE``),
which numbers it, keeps it, and relays it to every worker, the sender included
(``SEQUENCED``), each of which delivers it to its matching sessions. So every worker
delivers stored packets in one order, and a client's last offset names a prefix of one log.

Payloads are a JSON header, a newline, then raw bytes: the packet's text part (JSON never
holds a raw newline) and its binary attachments, whose lengths the header lists (``a``).
The master splices the offset into the text part as the event's last argument, as Node's
adapter pushes it onto the data array: ``2/ns,["ev",1]`` becomes ``2/ns,["ev",1,"OFFSET"]``.

Session notes and orders (``RECOVERY``) are JSON objects with an ``op``; a restore answer
carries the missed packets after its header the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Separates a payload's header from its body.
SEPARATOR = b"\n"
#: Built once: ``json.dumps`` with arguments builds an encoder per call (the master numbers
#: every stored packet: this halves what the JSON costs it).
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


def pack(header: dict[str, Any], blobs: Sequence[bytes] = ()) -> bytes:
    """A header and the blobs after it, their lengths recorded under ``sizes``."""
    head = _ENCODE({**header, "sizes": [len(blob) for blob in blobs]})
    return head.encode() + SEPARATOR + b"".join(blobs)


def unpack(payload: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The header and blobs :func:`pack` made; a ValueError for anything else."""
    head, separator, body = payload.partition(SEPARATOR)
    if not separator:
        raise ValueError("no header")
    header = _DECODE(head.decode())
    sizes = header.get("sizes") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or sum(sizes) != len(body):
        raise ValueError("blob sizes do not match the body")
    blobs, start = [], 0
    for size in sizes:
        blobs.append(body[start : start + size])
        start += size
    return header, blobs


def stored_packet(
    namespace: str,
    rooms: Sequence[str] | None,
    excluded: Sequence[str],
    text: str,
    attachments: Sequence[bytes] = (),
) -> bytes:
    """A worker's ``SEQUENCE`` payload: where the packet goes, then the packet."""
    header = {"n": namespace, "r": list(rooms) if rooms is not None else None, "x": list(excluded)}
    return pack(header, [text.encode(), *attachments])


def with_offset(text: bytes, offset: str) -> bytes:
    """The packet's text part with ``offset`` as the event's last argument."""
    if not text.endswith(b"]"):
        raise ValueError("not an event packet")
    return text[:-1] + b',"' + offset.encode() + b'"]'


def sequenced(offset: str, header: dict[str, Any], text: bytes, attachments: list[bytes]) -> bytes:
    """The master's ``SEQUENCED`` payload: the numbered packet, as every worker delivers it."""
    return pack({**header, "o": offset}, [with_offset(text, offset), *attachments])


def note(op: str, **fields: Any) -> bytes:
    """A ``RECOVERY`` payload without blobs."""
    return pack({"op": op, **fields})
