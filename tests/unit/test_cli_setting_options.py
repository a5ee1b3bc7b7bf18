"""The options of start, dev and config are the registry's flags, and nothing else."""

from __future__ import annotations

import click
import pytest

from sockd.cli.app import cli
from sockd.config.registry import REGISTRY

SETTINGS_COMMANDS = ("start", "dev", "config")


@pytest.mark.parametrize("name", SETTINGS_COMMANDS)
def test_each_flag_of_the_registry_is_an_option(name: str) -> None:
    command = cli.commands[name]
    options = {
        flag
        for param in command.params
        if isinstance(param, click.Option)
        for flag in [*param.opts, *param.secondary_opts]
    }
    expected = {"--env", "--app-dir", "--help"}
    for declared in REGISTRY:
        expected.update(declared.flags)
        if declared.type is bool and declared.flag:
            expected.add("--no-" + declared.flag.removeprefix("--"))
    assert options | {"--help"} == expected


def test_help_names_each_variable_and_default() -> None:
    ctx = click.Context(cli.commands["start"], info_name="start")
    text = " ".join(cli.commands["start"].get_help(ctx).split())
    for declared in REGISTRY:
        if declared.flags:
            assert f"env: {declared.variable}" in text, declared.name
    assert "[default: 1; env: SOCKD_WORKERS]" in text
    assert "--log-level [critical|error|warning|info|debug|trace]" in text
