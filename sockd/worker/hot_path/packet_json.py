"""python-socketio's packet JSON with its decoder and encoder built once.

Socket.IO packets are decoded with ``engineio.json.loads(text)``, which passes
``parse_int`` (to refuse integers of more than 100 digits), and encoded with
``json.dumps(data, separators=(",", ":"))``. With any keyword argument the standard
library builds a new ``JSONDecoder`` or ``JSONEncoder`` for every call: per received and
per sent message under echo that was 3-4% of a worker's CPU (py-spy). Here both are
built once, with the same settings; any other call goes to the library functions.
"""

from __future__ import annotations

import json
from typing import Any

from engineio import json as engineio_json
from socketio.packet import Packet


def _safe_int(digits: str) -> int:
    """An integer of at most 100 digits, as ``engineio.json`` parses them."""
    if len(digits) > 100:
        raise ValueError("Integer is too large")
    return int(digits)


_DECODER = json.JSONDecoder(parse_int=_safe_int)
_COMPACT = {"separators": (",", ":")}
COMPACT_ENCODER = json.JSONEncoder(**_COMPACT)  # type: ignore[arg-type]


class PacketJson:
    """The ``json`` of python-socketio's packets: ``loads`` and ``dumps`` as the library's."""

    @staticmethod
    def loads(text: Any, **kwargs: Any) -> Any:
        if kwargs or not isinstance(text, str):
            return engineio_json.loads(text, **kwargs)
        return _DECODER.decode(text)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT:
            return COMPACT_ENCODER.encode(obj)
        return json.dumps(obj, **kwargs)


def json_packet_class(base: type[Packet]) -> type[Packet]:
    """``base`` (the server's serializer) with :class:`PacketJson`, unless the app chose its
    own JSON module (then ``base`` itself)."""
    if base.json is not engineio_json:
        return base
    return type(base.__name__, (base,), {"json": PacketJson})
