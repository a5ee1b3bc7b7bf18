"""What one ``sockd start``, ``dev`` or ``config`` was given on its command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from sockd.config.given import Given, Origin, accept
from sockd.config.registry import BY_NAME

Command = Literal["start", "dev", "config"]


@dataclass(frozen=True)
class CommandLine:
    """The flags as given, kept by the master so each reload reads the files anew under them.

    Immutable: a reload that fails leaves it as it was for the next one.
    """

    command: Command
    #: ``APP_DIR`` or ``MODULE:ATTR`` as given (None: the current directory).
    app_spec: str | None = None
    app_dir: str | None = None
    env: str | None = None
    #: Checked values by setting name (``cluster.workers``): flags, and the command's own.
    given: Mapping[str, Given] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "given", MappingProxyType(dict(self.given)))

    def with_workers(self, workers: int) -> CommandLine:
        """The same with ``--workers`` replaced (``sockd reload --workers N``)."""
        declared = BY_NAME["cluster.workers"]
        given = accept(declared, workers, Origin.FLAG, "sockd reload --workers")
        return dataclasses.replace(self, given={**self.given, declared.name: given})
