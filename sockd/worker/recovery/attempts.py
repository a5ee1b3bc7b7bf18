"""What one Socket.IO CONNECT asks of recovery, and whether a disconnect is a recoverable loss.

python-socketio handles a CONNECT in one task (``_handle_connect``: the manager's
``pre_connect``, the app's connect handler, the CONNECT reply, the manager's ``connect``),
and a lost Engine.IO session in one task too (``_handle_eio_disconnect``: each namespace's
disconnect). Context variables carry what sockd decided at the start of each to the
library's later steps in the same task, without changing their signatures.
"""

from __future__ import annotations

import contextvars
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

#: A private session id as sockd makes them (and Node's base64id: 22 characters); what a
#: client claims must look like one, so junk never reaches the store.
PID = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Offsets are short strings (an IPC offset, a stream id).
MAX_OFFSET = 64


@dataclass(frozen=True)
class Claim:
    """A CONNECT's ``{pid, offset}``: the session it was, and the last packet it got."""

    pid: str
    offset: str | None


@dataclass
class Attempt:
    """One CONNECT to a namespace with recovery on."""

    namespace: str
    claim: Claim | None
    #: The private id the CONNECT reply carries (the claim's, once restored).
    pid: str = field(default_factory=lambda: new_pid())
    recovered: bool = False
    #: The restored socket id, once recovered.
    sid: str | None = None
    #: Where the log stood when the socket joined its rooms (a fresh session's start).
    start: str | None = None


def new_pid() -> str:
    """A private session id: 128 random bits."""
    return secrets.token_urlsafe(16)


def split_claim(data: Any) -> tuple[Claim | None, Any]:
    """The claim in a CONNECT's auth, and the auth the app sees (without ``pid``/``offset``).

    Node restores only with a string pid and a string offset; sockd also restores with a
    pid and no offset (a client that had received nothing yet). Anything else is no claim.
    """
    if not isinstance(data, dict) or ("pid" not in data and "offset" not in data):
        return None, data
    auth = {key: value for key, value in data.items() if key not in ("pid", "offset")}
    pid, offset = data.get("pid"), data.get("offset")
    if not isinstance(pid, str) or PID.fullmatch(pid) is None:
        return None, auth
    if offset is not None and not (isinstance(offset, str) and 0 < len(offset) <= MAX_OFFSET):
        return None, auth
    return Claim(pid, offset), auth


_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "sockd_recovery_attempt", default=None
)
_loss: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "sockd_recovery_loss", default=None
)


def current_attempt(namespace: str) -> Attempt | None:
    attempt = _attempt.get()
    return attempt if attempt is not None and attempt.namespace == namespace else None


def begin_attempt(attempt: Attempt) -> contextvars.Token[Attempt | None]:
    return _attempt.set(attempt)


def end_attempt(token: contextvars.Token[Attempt | None]) -> None:
    _attempt.reset(token)


def losing(eio_sid: str, reason: str) -> contextvars.Token[tuple[str, str] | None]:
    """Mark the rest of this task as handling the loss of Engine.IO session ``eio_sid``."""
    return _loss.set((eio_sid, reason))


def end_losing(token: contextvars.Token[tuple[str, str] | None]) -> None:
    _loss.reset(token)


def loss_reason(eio_sid: str | None) -> str | None:
    """python-engineio's reason while Engine.IO session ``eio_sid`` is being lost (its
    sockets' disconnects are losses: the client may come back); None otherwise."""
    loss = _loss.get()
    return loss[1] if loss is not None and loss[0] == eio_sid else None
