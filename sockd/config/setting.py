"""How one setting is declared: a dataclass field whose metadata says all there is to it.

A section (``[cluster]``, ``[io.init]``, ...) is a frozen dataclass; each field made with
:func:`setting` carries a :class:`Setting`: its type (the field's annotation), default,
flags, help, check, whether a reload can change it and whether it is secret. Its table is
where the section sits in :class:`sockd.config.registry.Settings`, its variable is derived
from table and key. Nothing else declares a setting again.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

#: Every settings variable starts with it (``SOCKD_WORKERS``).
PREFIX = "SOCKD_"
#: The table whose variables leave the table out: ``SOCKD_WORKERS``, not ``SOCKD_CLUSTER_...``.
SHORT_TABLE = "cluster"
_METADATA_KEY = "sockd.setting"

T = TypeVar("T")
#: Checks a value (never None) and returns it, normalised; a ValueError says what is wrong.
Check = Callable[[Any], Any]


@dataclass(frozen=True)
class _Declared:
    help: str
    flags: tuple[str, ...]
    check: Check | None
    reloadable: bool
    secret: bool
    metavar: str | None


def setting(
    default: T,
    *,
    help: str,
    flags: tuple[str, ...] = (),
    check: Check | None = None,
    reloadable: bool = True,
    secret: bool = False,
    metavar: str | None = None,
) -> T:
    """A settings field: ``workers: int = setting(1, flags=("-w", "--workers"), help=...)``.

    ``flags`` makes it a flag of ``start``, ``dev`` and ``config``; ``reloadable=False``
    makes a reload keep the running value (with a warning); ``secret=True`` keeps the
    value out of ``sockd config``, error messages and every process's command line.
    """
    declared = _Declared(help, flags, check, reloadable, secret, metavar)
    field: T = dataclasses.field(default=default, metadata={_METADATA_KEY: declared})
    return field


@dataclass(frozen=True)
class Setting:
    """Everything known about one setting; the registry is the list of them."""

    table: str
    key: str
    type: Any
    default: Any
    help: str
    flags: tuple[str, ...]
    check: Check | None
    reloadable: bool
    secret: bool
    metavar: str | None

    @property
    def name(self) -> str:
        """``cluster.workers``: the setting's id."""
        return f"{self.table}.{self.key}"

    @property
    def label(self) -> str:
        """``[cluster] workers``: how a config file writes it."""
        return f"[{self.table}] {self.key}"

    @property
    def variable(self) -> str:
        parts = [self.key] if self.table == SHORT_TABLE else [*self.table.split("."), self.key]
        return PREFIX + "_".join(parts).upper()

    @property
    def flag(self) -> str | None:
        """The long flag (``--workers``), if the setting has flags."""
        return next((flag for flag in self.flags if flag.startswith("--")), None)

    def ways_to_set(self) -> str:
        """``[cluster] trusted_proxy (--trusted-proxy, SOCKD_TRUSTED_PROXY)``, for errors."""
        ways = [way for way in (self.flag, self.variable) if way]
        return f"{self.label} ({', '.join(ways)})"


def declared_settings(section: type, table: str) -> list[Setting]:
    """The settings of ``section``, a dataclass that sits at ``table`` in the settings."""
    hints = typing.get_type_hints(section)
    found = []
    for field in dataclasses.fields(section):
        declared = field.metadata.get(_METADATA_KEY)
        if isinstance(declared, _Declared):
            found.append(
                Setting(
                    table=table,
                    key=field.name,
                    type=hints[field.name],
                    default=field.default,
                    **{f.name: getattr(declared, f.name) for f in dataclasses.fields(declared)},
                )
            )
    return found


def is_section(cls: Any) -> bool:
    """Whether ``cls`` is a dataclass of settings (rather than of sections)."""
    return dataclasses.is_dataclass(cls) and any(
        _METADATA_KEY in field.metadata for field in dataclasses.fields(cls)
    )
