"""Pytest fixtures for scaiwave and its plugins (the ``pytest11`` plugin ``scaiwave``).

- ``scaiwave_env``: an isolated environment: no ``SCAIWAVE_*``/``SCAIKEY_*`` variables from the
  outside, ``SCAIWAVE_HOME`` in a temporary directory, the working directory there (so no stray
  ``.env`` is read). Returns the home ``Path``.
- ``cli``: a ``CliHarness`` to run ``scaiwave`` in-process (Click's ``CliRunner``) and to register
  an extra plugin without installing it::

      def test_greets(cli):
          cli.register("hello", "my_plugin.cli:hello")
          result = cli.invoke("--output", "json", "hello", "greet")
          assert result.exit_code == 0, result.output

- Database fixtures (``db_url`` parametrized over SQLite and a real MariaDB, ``store``,
  ``mariadb_server``) come from ``scaiwave_cli.store.testing``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scaiwave_cli import discovery
from scaiwave_cli.app import cli as root_cli
from scaiwave_cli.store.testing import (  # noqa: F401  (re-exported fixtures)
    db_url,
    mariadb_server,
    store,
)


class CliHarness:
    """Runs the root group in-process with an isolated environment."""

    def __init__(self, home: Path):
        self.home = home
        self.env: dict[str, str] = {}

    def register(self, name: str, target, *, alias: bool = False, dist: str = "test-plugin"):
        """Make ``name`` a command as if a distribution had declared the entry point."""
        discovery.register_extra(name, target, dist=dist, alias=alias)
        root_cli.reset()

    def invoke(self, *args, input=None, env: dict | None = None, **kwargs) -> Result:
        root_cli.reset()
        runner = CliRunner()
        merged = dict(self.env, **(env or {}))
        result = runner.invoke(
            root_cli, list(args), input=input, env=merged, prog_name="scaiwave", **kwargs
        )
        return result

    def json(self, *args, **kwargs):
        """Invoke with ``--output json`` and parse stdout (asserting exit 0)."""
        result = self.invoke("--output", "json", *args, **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def scaiwave_env(tmp_path, monkeypatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("SCAIWAVE_", "SCAIKEY_")):
            monkeypatch.delenv(name)
    home = tmp_path / "scaiwave-home"
    home.mkdir()
    monkeypatch.setenv("SCAIWAVE_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def cli(scaiwave_env):
    discovery.clear_extra()
    root_cli.reset()
    harness = CliHarness(scaiwave_env)
    yield harness
    discovery.clear_extra()
    root_cli.reset()
