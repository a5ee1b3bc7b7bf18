"""The options the master serves with now, and the one way to put options into force.

Starting, reloading and an aborted reload's restore all go through :meth:`apply`, so a
restored log level is in force again, as the started one was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sockd.config.options import ClusterOptions
from sockd.logs import set_log_level
from sockd.supervisor.lifecycle.slot_table import SlotTable
from sockd.supervisor.lifecycle.worker_state import Worker


class LiveOptions:
    """Holds the options in force; the reload target (``reload.py``)."""

    def __init__(
        self,
        options: ClusterOptions,
        table: SlotTable[Worker],
        scale_to: Callable[[int], None],
    ) -> None:
        self.current = options
        self._table = table
        self._scale_to = scale_to

    def apply(self, options: ClusterOptions, slot_count: int) -> None:
        """Serve with ``options`` and ``slot_count`` slots from now on."""
        self.current = options
        set_log_level(options.cluster.log_level)
        self._scale_to(slot_count)

    def options(self) -> ClusterOptions:
        return self.current

    def switch_to(self, options: ClusterOptions) -> int:
        self._table.generation += 1
        self.apply(options, options.cluster.workers)
        return self._table.generation

    def restore(self, options: ClusterOptions, slot_count: int) -> None:
        self.apply(options, slot_count)

    def serving(self) -> Mapping[int, Worker]:
        return self._table.current

    def slot_count(self) -> int:
        return self._table.count
