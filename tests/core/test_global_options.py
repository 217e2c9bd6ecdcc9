"""Global options (``--output/-o``, ``--db-url``, ``--debug``, ``--env-file``) are accepted after
the command as well as before it, every placement giving the same result; a sub-command's own
option of the same name keeps its meaning; usage errors are JSON under ``--output json``."""

from __future__ import annotations

import json

import click
import pytest

from scaiwave_cli import api, errors


@pytest.fixture
def acme(factory):
    tenant = factory.tenant("acme")
    ws = factory.workspace(tenant, "general")
    factory.room(tenant, ws, name="Plans")
    return tenant


@pytest.mark.parametrize(
    "argv",
    [
        ("--output", "json", "admin", "list-tenants"),
        ("admin", "list-tenants", "--output", "json"),
        ("admin", "--output", "json", "list-tenants"),
        ("admin", "list-tenants", "-o", "json"),
        ("admin", "list-tenants", "--output=json"),
        ("-o", "table", "admin", "list-tenants", "-o", "json"),  # the later one wins
    ],
)
def test_output_in_any_place_gives_the_same_json(cli, acme, argv):
    expected = cli.invoke("--output", "json", "admin", "list-tenants")
    assert expected.exit_code == 0, expected.output
    result = cli.invoke(*argv)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(expected.stdout)
    assert [row["slug"] for row in json.loads(result.stdout)] == ["acme"]


def test_room_list_takes_o_among_its_own_options(cli, acme):
    before = cli.invoke("-o", "json", "room", "list", "--tenant", "acme")
    after = cli.invoke("room", "list", "-o", "json", "--tenant", "acme")
    last = cli.invoke("room", "list", "--tenant", "acme", "-o", "json")
    assert before.exit_code == after.exit_code == last.exit_code == 0, after.output
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(last.stdout)
    assert [room["name"] for room in json.loads(after.stdout)] == ["Plans"]


def test_db_url_after_the_command(cli, acme, db_url, monkeypatch):
    monkeypatch.delenv("SCAIWAVE_DB_URL")
    result = cli.invoke("admin", "list-tenants", "--db-url", db_url, "-o", "json")
    assert result.exit_code == 0, result.output
    assert [row["slug"] for row in json.loads(result.stdout)] == ["acme"]
    # the embedded default would have been empty
    empty = cli.invoke("admin", "list-tenants", "-o", "json")
    assert json.loads(empty.stdout) == []


def test_env_file_after_the_command(cli, acme, db_url, monkeypatch, tmp_path):
    monkeypatch.delenv("SCAIWAVE_DB_URL")
    env_file = tmp_path / "acme.env"
    env_file.write_text(f"SCAIWAVE_DB_URL={db_url}\n")
    result = cli.invoke("admin", "list-tenants", "--env-file", str(env_file), "-o", "json")
    assert result.exit_code == 0, result.output
    assert [row["slug"] for row in json.loads(result.stdout)] == ["acme"]


def test_debug_after_the_command(cli, acme):
    quiet = cli.invoke("admin", "list-tenants")
    assert "debug:" not in quiet.stderr
    result = cli.invoke("admin", "list-tenants", "--debug")
    assert result.exit_code == 0, result.output
    assert "debug: database:" in result.stderr


def test_a_sub_command_keeps_its_own_option_of_the_same_name(cli, tmp_path):
    @click.command("writer")
    @click.option("--output", "target", help="A file, not a format.")
    @click.option("-o", "other", help="Its own -o.")
    @click.option("--debug", "own_debug", is_flag=True)
    @api.pass_app
    def writer(app, target, other, own_debug):
        app.out.record({"target": target, "other": other, "own_debug": own_debug})

    cli.register("writer", writer)
    result = cli.invoke("--output", "json", "writer", "--output", "notes.txt", "-o", "x", "--debug")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"target": "notes.txt", "other": "x", "own_debug": True}
    assert "debug:" not in result.stderr  # the command's --debug, not the global one
    # the global options it does not define itself still work after it
    result = cli.invoke("writer", "--output", "a.txt", "--db-url", "sqlite:///x.db")
    assert result.exit_code == 0, result.output


def test_every_installed_command_takes_the_global_options(cli):
    """Every group and sub-command found through the root accepts each global option name
    (attached, or its own: no installed command defines one of these names today)."""
    from scaiwave_cli.app import cli as root

    ctx = click.Context(root)
    missing = []

    def walk(command, path):
        names = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        lacking = {"--output", "-o", "--db-url", "--debug", "--env-file"} - names
        if lacking and getattr(command, "status", "ok") == "ok":
            missing.append((path, sorted(lacking)))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    for name in root.list_commands(ctx):
        walk(root.get_command(ctx, name), name)
    assert not missing


def test_sub_command_help_stays_as_it_was(cli):
    result = cli.invoke("admin", "list-tenants", "--help")
    assert result.exit_code == 0
    options = result.stdout.split("Options:", 1)[1]
    assert "--output" not in options and "--db-url" not in options and "--debug" not in options


def test_root_help_says_global_options_may_follow_the_command(cli):
    result = cli.invoke("--help")
    assert "scaiwave admin list-tenants --output json" in result.stdout
    assert "may also follow the command" in " ".join(result.stdout.split())


# -- usage errors under --output json -----------------------------------------------------------


def _usage_json(result) -> dict:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    body = json.loads(lines[0])["error"]
    assert body["code"] == errors.SW_USAGE
    assert body["hint"]
    return body


@pytest.mark.parametrize(
    "argv",
    [
        ("--output", "json", "admin", "list-tenants", "--bogus"),
        ("admin", "list-tenants", "--bogus", "--output", "json"),
        ("admin", "list-tenants", "--bogus", "-o", "jsonl"),
        ("admin", "list-tenants", "--bogus", "-ojson"),
    ],
)
def test_unknown_option_is_json(cli, argv):
    body = _usage_json(cli.invoke(*argv))
    assert "--bogus" in body["message"]
    assert "scaiwave admin list-tenants --help" in body["hint"]


def test_unknown_option_is_json_with_scaiwave_output(cli):
    body = _usage_json(
        cli.invoke("admin", "list-tenants", "--bogus", env={"SCAIWAVE_OUTPUT": "json"})
    )
    assert "--bogus" in body["message"]


def test_missing_argument_is_json(cli):
    body = _usage_json(cli.invoke("room", "export", "-o", "json"))
    assert "ROOM_ID" in body["message"]


def test_bad_choice_is_json(cli):
    body = _usage_json(
        cli.invoke("room", "list", "--tenant", "acme", "--via", "pigeon", "-o", "json")
    )
    assert "pigeon" in body["message"]


def test_unknown_command_and_root_option_are_json(cli):
    body = _usage_json(cli.invoke("--output", "json", "admn"))
    assert "admn" in body["message"] and "admin" in body["message"]  # did you mean
    body = _usage_json(cli.invoke("--output", "json", "--nope", "admin"))
    assert "--nope" in body["message"]


def test_usage_errors_stay_text_otherwise(cli):
    result = cli.invoke("admin", "list-tenants", "--bogus")
    assert result.exit_code == 2
    assert "Usage: scaiwave admin list-tenants" in result.stderr
    assert "Error: No such option '--bogus'." in result.stderr
    assert "{" not in result.stderr
