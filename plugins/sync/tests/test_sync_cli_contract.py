"""The plugin contract: help with examples, aliases that are the same objects, laziness."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scaiwave_sync import cli as sync_cli

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


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from scaiwave_cli.app import cli\n"
        "for args in (['--help'], ['sync', '--help'], ['sync', 'status', '--help'],"
        " ['register', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "heavy = [m for m in ('httpx', 'sqlalchemy', 'cryptography', 'rich', 'tenacity', 'arq',"
        " 'attrs', 'cattrs', 'dotenv', 'scaiwave_sync.adapters.scaikey') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
