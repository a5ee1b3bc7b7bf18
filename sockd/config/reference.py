"""The settings reference, generated from the code so it cannot drift.

``python -m sockd.config.reference --write`` rewrites the settings table in
README.md and ``config/config.default.toml``; the test suite fails when either
differs from what this module generates.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sockd.config import schema
from sockd.config.environment import OTHER_VARIABLES, variables
from sockd.config.schema import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEFAULT_CONFIG = ROOT / "config" / "config.default.toml"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


@dataclass(frozen=True)
class Setting:
    path: tuple[str, ...]
    default: Any
    flag: str | None
    variable: str
    description: str
    #: Whether the setting's table is off unless present (``[io.redis]``).
    in_optional_table: bool = False

    @property
    def table(self) -> str:
        return ".".join(self.path[:-1])

    @property
    def key(self) -> str:
        return self.path[-1]


def settings() -> list[Setting]:
    """Every setting with its default, flag, variable and description."""
    from sockd.cli.app import _cluster_flags

    flags = inspect.signature(_cluster_flags, eval_str=True).parameters
    comments = _field_comments(inspect.getsource(schema))
    plain = Settings().model_dump(mode="json")
    # Optional tables (io.redis) have no defaults until present: materialise them.
    defaults = Settings(io={"redis": {}}).model_dump(mode="json")
    result = []
    for variable, path in variables().items():
        default: Any = defaults
        for part in path:
            default = default.get(part) if isinstance(default, dict) else None
        parent: Any = plain
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        flag = None
        description = comments.get(path[-2:], "")
        if path[0] == "cluster" and path[1] in flags:
            flag = "--" + path[1].replace("_", "-")
            description = description or _flag_help(flags[path[1]])
        result.append(Setting(path, default, flag, variable, description, parent is None))
    return result


def _flag_help(parameter: inspect.Parameter) -> str:
    for meta in getattr(parameter.annotation, "__metadata__", ()):
        text = getattr(meta, "help", None)
        if text:
            return re.sub(r"\s*\[default: [^\]]*\]", "", text)
    return ""


def _field_comments(source: str) -> dict[tuple[str, str], str]:
    """``#:`` comments above fields, by (section, field), from schema.py's source."""
    sections = {
        "ClusterSettings": "cluster",
        "EngineIOSettings": "init",
        "RedisSettings": "redis",
        "SessionSettings": "session",
    }
    comments: dict[tuple[str, str], str] = {}
    section: str | None = None
    pending: list[str] = []
    for line in source.splitlines():
        if match := re.match(r"class (\w+)\(", line):
            section = sections.get(match.group(1))
        elif match := re.match(r"\s+#: ?(.*)", line):
            pending.append(match.group(1))
            continue
        elif section and (match := re.match(r"\s+(\w+): ", line)) and pending:
            comments[(section, match.group(1))] = " ".join(pending)
        pending = []
    return comments


def markdown_table() -> str:
    rows = [
        "| setting | flag | environment variable | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for setting in settings():
        meaning = setting.description.replace("``", "`").replace("|", "\\|")
        rows.append(
            f"| `[{setting.table}] {setting.key}` | {f'`{setting.flag}`' if setting.flag else ''} "
            f"| `{setting.variable}` | {_toml_value(setting.default) or '(none)'} | {meaning} |"
        )
    for variable, meaning in OTHER_VARIABLES.items():
        rows.append(f"| | `--{variable[6:].lower()}` | `{variable}` | `prod` | {meaning} |")
    return "\n".join(rows)


def default_config() -> str:
    """config/config.default.toml: every setting, set to its default, with its meaning."""
    lines = [
        "# Every sockd setting with its default (generated: python -m sockd.config.reference",
        "# --write). Later layers win: this file < config.<SOCKD_ENV>.toml < SOCKD_* environment",
        "# variables < command-line flags. Settings without a default are shown commented out.",
    ]
    table = None
    for setting in settings():
        off = "# " if setting.in_optional_table else ""
        if setting.table != table:
            table = setting.table
            lines += ["", f"{off}[{table}]"]
            if off:
                lines.append("# (off unless present: uncomment the table to use it)")
        if setting.description:
            lines.append(f"# {setting.description}")
        value = _toml_value(setting.default)
        lines.append(f"{off}{setting.key} = {value}" if value else f"# {setting.key} =")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def readme_with_table(readme: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + markdown_table() + "\n" + readme[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md and the file")
    args = parser.parse_args()
    readme = README.read_text()
    if args.write:
        README.write_text(readme_with_table(readme))
        DEFAULT_CONFIG.parent.mkdir(exist_ok=True)
        DEFAULT_CONFIG.write_text(default_config())
        return 0
    print(markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
