"""The shared helpers behind ``scaiwave_cli.api``: atomic files, ISO times, confirmation,
progress, declared plugin settings. Each is used by several plugins; here it is proved once."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import click
import pytest

from scaiwave_cli import api
from scaiwave_cli import confirm as confirm_mod
from scaiwave_cli import progress as progress_mod

# -- atomic files -----------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_with_the_mode_asked(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    api.atomic_write(target, '{"new": true}', mode=0o600)
    assert target.read_text() == '{"new": true}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left


def test_atomic_writer_leaves_the_target_untouched_on_error(tmp_path):
    target = tmp_path / "bundle.zip"
    target.write_bytes(b"whole old bundle")
    with pytest.raises(RuntimeError), api.atomic_writer(target) as handle:
        handle.write(b"half a new")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"whole old bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.zip"]


def test_atomic_write_creates_a_new_file_never_readable_by_others(tmp_path):
    old_umask = os.umask(0)
    try:
        path = api.atomic_write(tmp_path / "secret.env", b"KEY=1\n")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-30", dt.datetime(2026, 11, 30, tzinfo=dt.UTC)),
        ("2026-11-30T10:00:00Z", dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)),
        ("2026-11-30T11:00:00+01:00", dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)),
        ("2026-11-30 10:00", dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)),
    ],
)
def test_parse_time_gives_aware_utc(text, expected):
    assert api.parse_time(text) == expected
    assert api.parse_time(text).tzinfo is not None


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "30/11/2026"])
def test_parse_time_refuses_non_iso_with_an_example(text):
    with pytest.raises(ValueError, match="2026-11-30"):
        api.parse_time(text)


def test_isoformat_is_z_suffixed_utc():
    assert api.isoformat(dt.datetime(2026, 11, 30, 10)) == "2026-11-30T10:00:00Z"
    assert api.isoformat(api.parse_time("2026-11-30T11:00+01:00")) == "2026-11-30T10:00:00Z"
    assert api.isoformat(None) is None


def _since_command():
    @click.command()
    @click.option("--since", type=api.TIME, required=True)
    @api.pass_app
    def since(app, since):
        """Echo a time.

        Example: scaiwave since --since 2026-11-30
        """
        app.out.record({"since": api.isoformat(since)})

    return since


def test_time_option_is_a_usage_error_with_an_example(cli):
    cli.register("since", _since_command())
    assert cli.json("since", "--since", "2026-11-30")["since"] == "2026-11-30T00:00:00Z"
    result = cli.invoke("since", "--since", "last week")
    assert result.exit_code == 2
    assert "not an ISO 8601 time" in result.stderr and "2026-11-30T10:00:00Z" in result.stderr


# -- confirmation -----------------------------------------------------------------------------


def _destroy_command(done: list):
    @click.command()
    @api.yes_option
    @api.pass_app
    def destroy(app, yes):
        """Destroy something (test).

        Example: scaiwave destroy --yes
        """
        api.confirm("plan: delete 3 things", yes=yes)
        done.append(True)
        app.out.record({"deleted": 3})

    return destroy


def test_confirm_without_a_terminal_refuses_with_exit_2_and_the_way_out(cli):
    done: list = []
    cli.register("destroy", _destroy_command(done))
    result = cli.invoke("--output", "json", "destroy")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr.splitlines()[-1])["error"]
    assert error["code"] == "SW_CONFIRMATION_REQUIRED" and "--yes" in error["hint"]
    assert "plan: delete 3 things" in result.stderr
    assert done == []


def test_confirm_with_yes_goes_on(cli):
    done: list = []
    cli.register("destroy", _destroy_command(done))
    assert cli.json("destroy", "--yes") == {"deleted": 3}
    assert done == [True]


@pytest.mark.parametrize("answer, exit_code", [("y\n", 0), ("n\n", 1), ("\n", 1)])
def test_confirm_on_a_terminal_asks_and_no_changes_nothing(cli, monkeypatch, answer, exit_code):
    monkeypatch.setattr(confirm_mod, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(confirm_mod, "stderr_is_terminal", lambda: True)
    done: list = []
    cli.register("destroy", _destroy_command(done))
    result = cli.invoke("destroy", input=answer)
    assert result.exit_code == exit_code, result.output
    assert "Proceed? [y/N]" in result.stderr
    assert done == ([True] if exit_code == 0 else [])
    if exit_code:
        assert "SW_ABORTED" in result.stderr and "nothing was changed" in result.stderr


# -- progress ---------------------------------------------------------------------------------


def test_progress_is_silent_and_imports_nothing_when_stderr_is_not_a_terminal(capsys):
    with api.progress("exporting", total=3, unit="events") as bar:
        for _ in range(3):
            bar.advance(1, nbytes=10)
    assert (bar.completed, bar.nbytes) == (3, 30)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_draws_count_total_and_bytes_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(progress_mod, "stderr_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "160")
    with api.progress("exporting room-1", total=4, unit="events") as bar:
        for _ in range(4):
            bar.advance(1, nbytes=1000)
    err = capsys.readouterr().err
    assert "exporting room-1" in err and "4/4" in err and "events" in err and "4.0 kB" in err


def test_progress_off_switch(monkeypatch, capsys):
    monkeypatch.setattr(progress_mod, "stderr_is_terminal", lambda: True)
    monkeypatch.setenv("SCAIWAVE_PROGRESS", "off")
    with api.progress("x", total=1) as bar:
        bar.advance()
    assert capsys.readouterr().err == ""


# -- declared settings ------------------------------------------------------------------------


@pytest.fixture
def declared(monkeypatch):
    from scaiwave_cli import plugin_settings

    monkeypatch.setattr(plugin_settings, "_declared", {})
    api.declare_setting("SCAIWAVE_TEST_BATCH", type=int, default=500, help="rows per batch")
    api.declare_setting("SCAIWAVE_TEST_DRY", type=bool, default=False, help="dry by default")
    api.declare_setting("SCAIWAVE_TEST_TOKEN", default=None, help="a secret", secret=True)


def _settings_command():
    @click.command()
    @api.pass_app
    def settings(app):
        """Show declared settings (test).

        Example: scaiwave settings
        """
        app.out.record(
            {
                "batch": app.settings.get("SCAIWAVE_TEST_BATCH"),
                "dry": app.settings.get("SCAIWAVE_TEST_DRY"),
                "rows": app.settings.declared_settings(),
            }
        )

    return settings


def test_declared_settings_are_typed_with_defaults_and_sources(cli, declared):
    cli.register("settings", _settings_command())
    out = cli.json("settings", env={"SCAIWAVE_TEST_DRY": "yes", "SCAIWAVE_TEST_TOKEN": "s3cr3t!"})
    assert out["batch"] == 500 and out["dry"] is True
    rows = {r["name"]: r for r in out["rows"]}
    assert rows["SCAIWAVE_TEST_BATCH"]["source"] == "default"
    assert rows["SCAIWAVE_TEST_DRY"]["source"] == "environment"
    assert rows["SCAIWAVE_TEST_TOKEN"]["value"] == "***"


def test_a_bad_declared_setting_is_exit_2_naming_the_variable(cli, declared):
    cli.register("settings", _settings_command())
    result = cli.invoke("--output", "json", "settings", env={"SCAIWAVE_TEST_BATCH": "lots"})
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_CONFIG_INVALID"
    assert "SCAIWAVE_TEST_BATCH" in error["message"] and "integer" in error["message"]


def test_declare_setting_refuses_names_outside_the_namespace():
    with pytest.raises(ValueError):
        api.declare_setting("batch_size", type=int)


def test_pause_at_is_inert_unless_its_variable_names_the_point(tmp_path, monkeypatch):
    marker = tmp_path / "reached"
    monkeypatch.delenv("SCAIWAVE_X_TEST_HOOK", raising=False)
    api.pause_at("SCAIWAVE_X_TEST_HOOK", "events")  # unset: returns at once
    monkeypatch.setenv("SCAIWAVE_X_TEST_HOOK", f"media:{marker}")
    api.pause_at("SCAIWAVE_X_TEST_HOOK", "events")  # another point: returns at once
    api.pause_at("SCAIWAVE_Y_TEST_HOOK", "media")  # another variable: returns at once
    assert not marker.exists()


def test_pause_at_parks_the_process_at_its_point(tmp_path):
    import subprocess
    import sys
    import time

    marker = tmp_path / "reached-here"
    code = "from scaiwave_cli import api; api.pause_at('SCAIWAVE_X_TEST_HOOK', 'here')"
    env = dict(os.environ, SCAIWAVE_X_TEST_HOOK=f"here:{marker}")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):
            assert proc.poll() is None, "the child ended instead of parking"
            assert time.monotonic() < deadline, "the child never reached its point"
            time.sleep(0.01)
        assert marker.read_text() == str(proc.pid)
        assert proc.poll() is None  # still parked: only a kill ends it
    finally:
        proc.kill()
        proc.wait()
