"""A Socket.IO packet nested deeper than ``--max-json-depth`` is malformed.

Spec: neither the Socket.IO protocol nor Node (whose ``JSON.parse`` nests as deep as V8's
stack allows, thousands of levels) bounds the nesting of a packet's arrays and objects.
python-socketio (5.16-5.18) decodes any depth the ``json`` module reaches (about 1,000 levels
in C), then walks the data with recursive Python functions (binary attachments, and
encoding the answer): an event nested 600 levels deep was decoded, and its ack failed with
``RecursionError``, about 3,000 traceback lines logged for a 1.2 KB packet, while another
client of that worker waited 8.2 s. Here a packet deeper than the limit (100 by default,
the default ``max_nesting`` of Ruby's JSON parser) is refused before it is decoded, as a
malformed packet: the connection is closed (the strict packet class of
:mod:`sockd.worker.protocol.malformed_packets` asks :func:`deeper_than`).

The check is cheap where it matters: a packet with no more brackets than the limit cannot
nest deeper (two ``str.count``), which is every packet of the benchmark. One with more has
its nesting measured on its bracket skeleton, built with bytes operations only (escapes
and strings taken out, then everything but brackets), at about half the cost of decoding
it: each pass over the skeleton removes its innermost level.
"""

from __future__ import annotations

#: Every byte but the brackets and the quotes.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')
#: Objects' braces as arrays' brackets, so that each pass below removes one level.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


def skeleton(text: str) -> bytes:
    """The brackets of the JSON in ``text``, outside its strings, as ``[`` and ``]``."""
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" in data:  # escapes are pairs, left to right: \\ first, then \"
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = data.translate(None, _NOT_STRUCTURE).split(b'"')[::2]
    return b"".join(outside_strings).translate(_AS_BRACKETS)


def deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON in ``text`` nests arrays and objects more than ``limit`` deep."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = skeleton(text)
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # unbalanced: the decoder will refuse it
            return False
        brackets = inner
    return bool(brackets)
