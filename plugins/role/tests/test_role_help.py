"""Help and laziness: every `role` command has a one-line summary and an Example line, and
`scaiwave role --help` / `scaiwave role assign --help` import no heavy module."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from scaiwave_role.cli import role

HEAVY = (
    "sqlalchemy",
    "httpx",
    "cryptography",
    "rich",
    "scaiwave_role.ops",
    "scaiwave_role.adapters",
)


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


@pytest.mark.parametrize("args", [["role", "--help"], ["role", "assign", "--help"]])
def test_help_imports_no_heavy_module(tmp_path, args):
    out = tmp_path / "modules.json"
    code = (
        "import json, sys\n"
        "from scaiwave_cli.app import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.exists(), result.stderr
    modules = json.loads(out.read_text())
    assert "scaiwave_role.cli" in modules
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
