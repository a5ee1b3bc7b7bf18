"""Server-side events: ``@cluster.on(sio, event)`` handlers, which the other workers'
``server_side_emit`` calls reach (Node's ``serverSideEmit`` with an acknowledgement).

A handler gets the event's arguments and returns its reply (sync or async). One that
raises is answered as an error naming the exception, so the caller sees which member
failed and why; the traceback stays in this worker's log.
"""

from __future__ import annotations

import inspect
import json
import logging
import weakref
from collections.abc import Callable
from typing import Any

import socketio

from sockd.worker.cluster.local import LocalAnswer, OpError
from sockd.worker.cluster.payload import decode_args, encode_args
from sockd.worker.cluster.query import Query

log = logging.getLogger("sockd.cluster")

Handler = Callable[..., Any]

_handlers: weakref.WeakKeyDictionary[socketio.AsyncServer, dict[tuple[str, str], Handler]] = (
    weakref.WeakKeyDictionary()
)


def on(
    sio: socketio.AsyncServer, event: str, handler: Handler | None = None, *, namespace: str = "/"
) -> Any:
    """Register ``handler`` for server-side ``event`` (as a decorator, or called with it)."""
    if not isinstance(event, str) or not event:
        raise ValueError("a server-side event needs a name")

    def register(function: Handler) -> Handler:
        if not callable(function):
            raise TypeError(f"a server-side event handler must be callable, not {function!r}")
        _handlers.setdefault(sio, {})[(namespace, event)] = function
        return function

    return register(handler) if handler is not None else register


async def server_emit(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    event = query.args.get("event")
    handler = _handlers.get(sio, {}).get((query.namespace, str(event)))
    if handler is None:
        where = f"in namespace {query.namespace!r}"
        raise OpError(f"no handler for server-side event {event!r} {where}")
    try:
        args = decode_args(query.args.get("args"))
    except ValueError as exc:
        raise OpError(str(exc)) from None
    try:
        reply = handler(*args)
        if inspect.isawaitable(reply):
            reply = await reply
    except Exception as exc:
        log.exception("server-side event %r (namespace %s) failed", event, query.namespace)
        raise OpError(f"{type(exc).__name__}: {exc}") from None
    value = encode_args((reply,))
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise OpError(f"the reply is not JSON-serializable: {exc}") from None
    return LocalAnswer(value=value)


def reply_of(value: Any) -> Any:
    """The handler's reply, from what :func:`server_emit` answered."""
    return decode_args(value)[0]
