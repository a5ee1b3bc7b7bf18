"""Who hears of sessions that end or move away without a disconnect on this worker.

The app model's namespace runtimes register here, on the server (the bus manager, which
receives the store's notices, is installed after the app is built).
"""

from __future__ import annotations

from typing import Any, Protocol

_ATTRIBUTE = "sockd_recovery_listeners"


class RecoveryListener(Protocol):
    def moved(self, sid: str) -> None:
        """Session ``sid`` goes on on another worker: forget it here (without hooks)."""

    def ended(self, sid: str, reason: str, rooms: list[Any], data: Any, run_hooks: bool) -> None:
        """Session ``sid``, lost, is gone for good (or ended elsewhere: ``run_hooks`` is
        False); ``rooms`` and ``data`` are its last."""


def listen(server: Any, namespace: str, listener: RecoveryListener) -> None:
    server.__dict__.setdefault(_ATTRIBUTE, {})[namespace] = listener


def listener_for(server: Any, namespace: str) -> RecoveryListener | None:
    listeners: dict[str, RecoveryListener] = getattr(server, _ATTRIBUTE, {})
    return listeners.get(namespace)
