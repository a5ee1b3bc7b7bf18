"""Packet middleware: refuse empty or oversized chat messages before the controller."""

from __future__ import annotations

from typing import Any


def middleware(app: Any, options: dict[str, Any]):
    max_text = int(options.get("max_text", 500))

    async def filter_messages(ctx, next):
        if ctx.event == "say":
            message = ctx.args[0] if ctx.args and isinstance(ctx.args[0], dict) else {}
            text = str(message.get("text", "")).strip()
            if not text or len(text) > max_text:
                raise ValueError(f"a message needs 1 to {max_text} characters")
        await next()

    return filter_messages
