"""A class controller: one instance per packet, with self.ctx."""

import os

from app.io.middleware._trace import TRACE, record

from sockd.app import Controller


class EchoController(Controller):
    async def ping(self):
        record(self.ctx, "controller")
        return {
            "args": self.ctx.args,
            "trace": list(TRACE.get(self.ctx.socket.id, [])),
            "session": self.ctx.session,
            "client": self.ctx.request.address,
            "header": self.ctx.request.headers.get("x-test"),
            "query": self.ctx.request.query.get("q"),
            "pid": os.getpid(),
            "sid": self.ctx.socket.id,
            "rooms": self.ctx.socket.rooms,
        }

    async def fail(self):
        raise ValueError("controller failed on purpose")
