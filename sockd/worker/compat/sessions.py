"""Engine.IO sessions on sockd's session classes.

python-engineio builds each session's ``AsyncSocket`` itself, inside
``AsyncServer._handle_connect``, with no class to choose. :class:`SessionStart` therefore
gives each new session sockd's session classes (composed in the compat list's order) by
class assignment, when the session's connect event fires: the first moment after the
library created the socket and queued its open packet, before anything reads the queue or
the ping cycle runs. Then :meth:`StartedSession.session_started` runs once for that session.

Upstream change that would remove the class assignment: a ``socket_class`` attribute (or
constructor argument) on ``engineio.AsyncServer``.
"""

from __future__ import annotations

from typing import Any, cast

import engineio
from engineio.async_socket import AsyncSocket


class StartedSession(AsyncSocket):
    """The innermost session class: a hook for fixes that act once the session exists."""

    def session_started(self) -> None:
        """Called once, right after the session got sockd's classes."""


class SessionStart(engineio.AsyncServer):
    """Gives each new session the classes in ``session_mixins`` (set by the compat layer)."""

    session_mixins: tuple[type[AsyncSocket], ...] = ()

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect":
            socket = self.sockets[args[0]]
            socket.__class__ = session_class(self.session_mixins, type(socket))
            socket.session_started()
        return await super()._trigger_event(event, *args, **kwargs)


#: Session classes composed so far, by (mixins, library class): built once each.
_composed: dict[tuple[tuple[type, ...], type], type[StartedSession]] = {}


def session_class(mixins: tuple[type, ...], base: type) -> type[StartedSession]:
    """``base`` (the library's session class) behind ``mixins``, in their order."""
    key = (mixins, base)
    if key not in _composed:
        name = f"Sockd{base.__name__}"
        _composed[key] = cast(type[StartedSession], type(name, (*mixins, StartedSession, base), {}))
    return _composed[key]
