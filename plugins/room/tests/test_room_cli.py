"""The `room` group itself: help stays light, the plugin's settings are declared once."""

from __future__ import annotations

import pytest
from scaiwave_room.bundle.limits import Limits, setting_name

from scaiwave_cli import api
from scaiwave_cli.testing import assert_help_is_light


@pytest.mark.parametrize(
    "argv",
    [("room",), ("room", "export"), ("room", "import"), ("room", "verify"), ("room", "list")],
)
def test_room_help_imports_nothing_heavy(scaiwave_env, argv):
    """`scaiwave room --help` (and a command's help) loads click, the core's light API and the
    plugin's command modules only: no SQLAlchemy, httpx, rich, cryptography, attrs, cattrs."""
    modules = assert_help_is_light(*argv)
    assert "scaiwave_room.cli" in modules
    work = ("scaiwave_room.usecases", "scaiwave_room.bundle", "scaiwave_room.adapters")
    assert not {m for m in modules if m.startswith(work)}


def test_the_limits_are_declared_settings_with_the_same_defaults(scaiwave_env):
    import scaiwave_room.cli  # noqa: F401 - declares the settings

    settings = api.load_settings({}, environ={"SCAIWAVE_HOME": str(scaiwave_env)})
    assert Limits.from_settings(settings) == Limits()
    env = {"SCAIWAVE_HOME": str(scaiwave_env), setting_name("max_depth"): "7"}
    assert Limits.from_settings(api.load_settings({}, environ=env)).max_depth == 7


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_limit_is_a_config_error_naming_the_variable(cli, value):
    result = cli.invoke(
        "--output", "json", "room", "verify", env={"SCAIWAVE_ROOM_MAX_ENTRIES": value}, input=b""
    )
    assert result.exit_code == 2, result.output
    assert "SW_CONFIG_INVALID" in result.stderr and "SCAIWAVE_ROOM_MAX_ENTRIES" in result.stderr
