"""Settings: precedence, validation with exit 2, and secrets that never show."""

from __future__ import annotations

import json

import click
import pytest

from scaiwave_cli import api
from scaiwave_cli.config import load_settings, mask_url


@click.command()
@api.pass_app
def show(app):
    """Print the effective settings (test command)."""
    app.out.record({k: v["value"] for k, v in app.settings.masked().items()})
    app.out.info(f"token is {app.settings.admin_token}")


@click.command()
@api.pass_app
def sources(app):
    """Print where each setting came from (test command)."""
    app.out.record({k: v["source"] for k, v in app.settings.masked().items()})


def test_precedence_default_env_file_environment_option(cli, scaiwave_env):
    cli.register("show", show)
    cli.register("sources", sources)
    (scaiwave_env.parent / ".env").write_text(
        "SCAIWAVE_SERVER_NAME=from-dotenv\nSCAIWAVE_DB_URL=sqlite:///dotenv.db\n"
        "SCAIWAVE_REDIS_URL=redis://127.0.0.1:1/0\n"
    )
    env = {"SCAIWAVE_DB_URL": "sqlite:///env.db", "SCAIWAVE_REDIS_URL": "redis://127.0.0.1:2/0"}
    values = cli.json("--db-url", "sqlite:///option.db", "show", env=env)
    assert values["server_name"] == "from-dotenv"
    assert values["redis_url"] == "redis://127.0.0.1:2/0"
    assert values["db_url"] == "sqlite:///option.db"
    assert values["api_url"] is None  # default
    where = cli.json("--db-url", "sqlite:///option.db", "sources", env=env)
    assert where["server_name"] == ".env"
    assert where["redis_url"] == "environment"
    assert where["db_url"] == "option"
    assert where["api_url"] == "default"
    assert where["output"] == "option"


def test_env_file_option_replaces_the_working_directory_file(cli, tmp_path):
    cli.register("show", show)
    other = tmp_path / "prod.env"
    other.write_text("SCAIWAVE_SERVER_NAME=prod.example.org\n")
    assert cli.json("--env-file", str(other), "show")["server_name"] == "prod.example.org"


def test_missing_env_file_exits_2_naming_the_fix(cli, tmp_path):
    cli.register("show", show)
    result = cli.invoke("--env-file", str(tmp_path / "nope.env"), "show")
    assert result.exit_code == 2
    assert "SW_CONFIG_INVALID" in result.stderr and "--env-file" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SCAIWAVE_API_URL", "ftp://x", "SCAIWAVE_API_URL"),
        ("SCAIKEY_BASE_URL", "not a url", "SCAIKEY_BASE_URL"),
        ("SCAIWAVE_OUTPUT", "yaml", "SCAIWAVE_OUTPUT must be one of"),
    ],
)
def test_invalid_values_exit_2_naming_the_variable(cli, variable, value, expected):
    cli.register("show", show)
    result = cli.invoke("show", env={variable: value})
    assert result.exit_code == 2, result.output
    assert expected in result.stderr


def test_secrets_are_masked_in_every_printout(cli):
    cli.register("show", show)
    env = {
        "SCAIWAVE_ADMIN_TOKEN": "tok-very-secret-123",
        "SCAIKEY_CLIENT_SECRET": "cs-very-secret-456",
        "SCAIWAVE_DB_URL": "mysql+pymysql://sw:db-very-secret-789@127.0.0.1/sw",
    }
    result = cli.invoke("--output", "json", "show", env=env)
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)
    assert values["admin_token"] == "***"
    assert values["scaikey_client_secret"] == "***"
    assert values["db_url"] == "mysql+pymysql://sw:***@127.0.0.1/sw"
    for secret in env.values():
        assert secret not in result.output
    assert "token is ***" in result.stderr


def test_mask_url_hides_only_the_password():
    assert mask_url("mysql+aiomysql://u:p%40ss@h:3306/db") == "mysql+aiomysql://u:***@h:3306/db"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_url("redis://h:6379/0") == "redis://h:6379/0"


def test_plugin_variables_are_readable_by_name(tmp_path):
    """An undeclared plugin variable comes back as its raw string (a declared one is typed:
    tests/core/test_api_helpers.py)."""
    settings = load_settings(
        environ={"SCAIWAVE_UNDECLARED_LIMIT": "25", "HOME": "/x"}, cwd=tmp_path
    )
    assert settings.get("SCAIWAVE_UNDECLARED_LIMIT") == "25"
    assert settings.get("PATH") is None
