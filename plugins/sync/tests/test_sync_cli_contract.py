"""The plugin contract: help with examples, aliases that are the same objects, laziness."""

from __future__ import annotations

import pytest
from scaiwave_sync import cli as sync_cli

from scaiwave_cli.testing import HEAVY, assert_help_is_light

COMMANDS = [
    ("sync",),
    ("sync", "register"),
    ("sync", "status"),
    ("sync", "show-config"),
    ("sync", "export-env"),
    ("register",),
    ("status",),
    ("show-config",),
    ("export-env",),
]


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, path):
    result = cli.invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Example: scaiwave " in result.stdout


def test_aliases_are_the_sync_sub_commands(cli):
    for alias, name in (
        ("register", "register"),
        ("status", "status"),
        ("show_config", "show-config"),
        ("export_env", "export-env"),
    ):
        assert getattr(sync_cli, alias) is sync_cli.sync.commands[name]
    top = cli.invoke("--help").stdout
    for alias in ("register", "status", "show-config", "export-env"):
        assert f"alias of `sync {alias}`" in " ".join(top.split())


@pytest.mark.parametrize(
    "argv", [(), ("sync",), ("sync", "status"), ("register",)], ids=lambda a: " ".join(a) or "root"
)
def test_help_imports_nothing_heavy(argv):
    modules = assert_help_is_light(*argv, forbidden=(*HEAVY, "tenacity", "arq", "dotenv"))
    work = [
        m for m in modules if m.startswith(("scaiwave_sync.usecases", "scaiwave_sync.adapters"))
    ]
    assert work == [], f"`scaiwave {' '.join(argv)} --help` imported {work}"
