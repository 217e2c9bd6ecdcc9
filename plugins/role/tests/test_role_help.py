"""Help and laziness: every `role` command has a one-line summary and an Example line, and
`scaiwave role --help` / `scaiwave role assign --help` import no heavy module."""

from __future__ import annotations

import click
import pytest
from scaiwave_role.cli import role

from scaiwave_cli.testing import assert_help_is_light

PLUGIN_HEAVY = ("scaiwave_role.usecases", "scaiwave_role.adapters")


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


def test_every_command_has_a_summary_and_an_example(cli):
    names = []
    for path, command in _commands(role):
        names.append(" ".join(path))
        assert command.get_short_help_str(80), path
        assert "Example: scaiwave " in (command.help or ""), path
        result = cli.invoke("role", *path, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout, path
    assert {
        "list",
        "show",
        "create",
        "delete",
        "permissions add",
        "permissions remove",
        "permissions reset",
        "assign",
        "unassign",
        "assignments",
        "check",
        "catalog",
    } <= set(names)


@pytest.mark.parametrize("args", [["role"], ["role", "assign"]])
def test_help_imports_no_heavy_module(scaiwave_env, args):
    modules = assert_help_is_light(*args)  # sqlalchemy, httpx, rich, cryptography, jwt, ...
    assert "scaiwave_role.cli" in modules
    # nor the plugin's own heavy layers: the use cases and the SQL
    heavy = [m for m in modules if m.startswith(PLUGIN_HEAVY)]
    assert heavy == []
