"""Event arguments across the bus: JSON, with bytes carried as base64 attachments, as
python-socketio's pub/sub managers carry them."""

from __future__ import annotations

import base64
from typing import Any

from socketio.packet import Packet


def encode_args(args: tuple[Any, ...]) -> dict[str, Any]:
    """``args`` of an emit or a server-side event, ready for JSON."""
    data: Any = list(args)
    if not Packet.data_is_binary(data):
        return {"data": data}
    data, attachments = Packet.deconstruct_binary(data)
    return {"data": data, "attachments": [base64.b64encode(a).decode() for a in attachments]}


def decode_args(encoded: Any) -> list[Any]:
    """The argument list :func:`encode_args` encoded; ValueError if malformed."""
    if not isinstance(encoded, dict) or not isinstance(encoded.get("data"), list):
        raise ValueError("malformed event arguments")
    attachments = encoded.get("attachments")
    if not attachments:
        return list(encoded["data"])
    binary = [base64.b64decode(attachment) for attachment in attachments]
    return list(Packet.reconstruct_binary(encoded["data"], binary))


def as_emit_data(args: list[Any]) -> Any:
    """python-socketio sends a tuple as several arguments, anything else as one."""
    return args[0] if len(args) == 1 else tuple(args)
