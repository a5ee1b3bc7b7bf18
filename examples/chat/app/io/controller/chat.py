"""The chat's events: join a room, say something to it."""

from __future__ import annotations

import os

from sockd.app import Controller


class ChatController(Controller):
    async def join(self) -> dict[str, object]:
        """``join(room)``: enter the room; the ack names it and the worker that serves you."""
        room = str(self.ctx.args[0])
        await self.ctx.socket.join(room)
        await self.ctx.socket.to(room).emit("system", f"{self.ctx.state['name']} joined {room}")
        return {"room": room, "worker": os.getpid()}

    async def say(self) -> bool:
        """``say({room, text})``: everyone in the room, on any worker, gets ``message``."""
        message = self.ctx.args[0]
        await self.app.io.server.emit(
            "message",
            {"room": message["room"], "from": self.ctx.state["name"], "text": message["text"]},
            to=message["room"],
        )
        return True
