"""The chat's events: join a room, say something to it, and who is in it.

Every line a page shows carries ``at``, the server's time in epoch milliseconds.

Who is in a room, across workers: ``join`` answers with the room's members, found on every
worker at once (``app.io.of("/").in_(room).fetch_sockets()``, each socket's name in its
``data``), and announces the joiner to the others (``presence`` ``joined``, or
``reconnected`` naming the socket it replaces), who add it to their list.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from app.names import check_room

from sockd.app import Controller

log = logging.getLogger("chat")


def now_ms() -> int:
    return int(time.time() * 1000)


class ChatController(Controller):
    async def join(self) -> dict[str, Any]:
        """``join(room, {previous})``: enter the room; the ack names it, your id and worker.

        ``previous`` is the socket id this page had before a reconnect: the others then
        replace that member instead of listing the same person twice.
        """
        room = check_room(self.ctx.args[0] if self.ctx.args else None)
        options = self.ctx.args[1] if len(self.ctx.args) > 1 else None
        previous = options.get("previous") if isinstance(options, dict) else None
        name, sid = self.ctx.state["name"], self.ctx.socket.id
        await self.ctx.socket.join(room)
        event = "reconnected" if isinstance(previous, str) and previous else "joined"
        log.info("%s %s %s (sid %s, was %s)", name, event, room, sid, previous or "-")
        await self.ctx.socket.to(room).emit(
            "presence", self._presence(room, event, previous=previous)
        )
        return {
            "room": room,
            "id": sid,
            "worker": os.getpid(),
            "at": now_ms(),
            "members": await self._members(room, leaving=previous),
        }

    async def say(self) -> bool:
        """``say({room, text})``: everyone in the room, on any worker, gets ``message``."""
        message = self.ctx.args[0]
        room = str(message.get("room", ""))
        if room not in self.ctx.socket.rooms:
            raise ValueError(f"join {room!r} before you speak in it")
        text = message["text"].strip()
        await self.app.io.server.emit(
            "message",
            {"room": room, "from": self.ctx.state["name"], "text": text, "at": now_ms()},
            to=room,
        )
        return True

    async def where(self) -> dict[str, Any]:
        """``where()``: the worker this socket is on (a recovered page asks: it did not join)."""
        return {"id": self.ctx.socket.id, "worker": os.getpid(), "at": now_ms()}

    async def disconnecting(self) -> None:
        """Tell the rooms this socket was in that it left, and why (Socket.IO's reason)."""
        reason = self.ctx.args[0] if self.ctx.args else None
        name, sid = self.ctx.state["name"], self.ctx.socket.id
        for room in self.ctx.socket.rooms:
            if room == sid:
                continue
            log.info("%s left %s (sid %s): %s", name, room, sid, reason)
            await self.ctx.socket.to(room).emit(
                "presence", self._presence(room, "left", reason=reason)
            )

    async def _members(self, room: str, leaving: Any) -> list[dict[str, Any]]:
        """Who is in the room on any worker (``leaving``: the socket a page replaces, whose
        disconnect may not have been seen yet)."""
        sockets = await self.app.io.of("/").in_(room).fetch_sockets(timeout=3)
        if not sockets.complete:
            log.warning("members of %s: %s", room, sockets.shortfall())
        return [
            {"id": socket.id, "name": socket.data.get("name")}
            for socket in sockets
            if socket.id != leaving and isinstance(socket.data, dict)
        ]

    def _presence(self, room: str, event: str, **details: Any) -> dict[str, Any]:
        """A ``presence`` line about this socket: who, where, what happened, when."""
        return {
            "room": room,
            "event": event,
            "name": self.ctx.state["name"],
            "id": self.ctx.socket.id,
            "at": now_ms(),
            **details,
        }
