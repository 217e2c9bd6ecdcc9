"""`show-config`, `export-env` and the private files (atomic .env update, quoting)."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess

from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st
from scaiwave_sync.adapters import files

SECRET = "sk-very-secret-value-42"


def test_show_config_names_sources_and_masks_secrets(cli):
    (cli.home.parent / ".env").write_text(
        f"SCAIKEY_CLIENT_SECRET={SECRET}\nSCAIWAVE_SYNC_PAGE_SIZE=200\n"
    )
    env = {"SCAIKEY_BASE_URL": "https://scaikey.example.com", "SCAIWAVE_SYNC_RETRIES": "7"}
    result = cli.invoke("--output", "json", "--db-url", "sqlite:///x.db", "show-config", env=env)
    assert result.exit_code == 0, result.output
    rows = {r["setting"]: r for r in json.loads(result.stdout)}
    assert rows["SCAIKEY_BASE_URL"]["source"] == "environment"
    assert rows["SCAIKEY_CLIENT_SECRET"] == {
        "setting": "SCAIKEY_CLIENT_SECRET",
        "value": "***",
        "source": ".env",
    }
    assert rows["SCAIWAVE_DB_URL"]["source"] == "option"
    assert rows["SCAIWAVE_SYNC_PAGE_SIZE"] == {
        "setting": "SCAIWAVE_SYNC_PAGE_SIZE",
        "value": "200",
        "source": ".env",
    }
    assert rows["SCAIWAVE_SYNC_RETRIES"]["source"] == "environment"
    assert rows["SCAIWAVE_SYNC_BATCH_SIZE"] == {
        "setting": "SCAIWAVE_SYNC_BATCH_SIZE",
        "value": "1000",
        "source": "default",
    }
    assert SECRET not in result.output
    table = cli.invoke("sync", "show-config")
    assert table.exit_code == 0 and SECRET not in table.output and "***" in table.stdout


def export_env():
    return {
        "SCAIKEY_BASE_URL": "https://scaikey.example.com",
        "SCAIKEY_CLIENT_ID": "app_1",
        "SCAIKEY_CLIENT_SECRET": SECRET,
        "SCAIKEY_ISSUER": "https://scaikey.example.com/x y",
        "SCAIWAVE_SYNC_PAGE_SIZE": "100",
    }


def test_export_env_leaves_secrets_out_by_default(cli):
    result = cli.invoke("export-env", env=export_env())
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    lines = result.stdout.splitlines()
    assert "SCAIKEY_CLIENT_ID=app_1" in lines
    assert "SCAIKEY_ISSUER='https://scaikey.example.com/x y'" in lines
    assert "SCAIWAVE_SYNC_PAGE_SIZE=100" in lines
    assert any(line.startswith("# SCAIKEY_CLIENT_SECRET is set") for line in lines)


def test_export_env_with_secrets_round_trips_through_dotenv(cli, tmp_path):
    result = cli.invoke("sync", "export-env", "--include-secrets", env=export_env())
    path = tmp_path / "out.env"
    path.write_text(result.stdout)
    assert dotenv_values(path) == export_env()


def test_export_env_shell_lines_are_safely_quoted(cli):
    env = dict(export_env(), SCAIKEY_CLIENT_SECRET="it's $(rm -rf /) `x`")
    result = cli.invoke("export-env", "--shell", "--include-secrets", env=env)
    assert result.exit_code == 0
    script = result.stdout + 'printf "%s" "$SCAIKEY_CLIENT_SECRET"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "it's $(rm -rf /) `x`"
    assert (
        "export SCAIKEY_CLIENT_SECRET=" + shlex.quote(env["SCAIKEY_CLIENT_SECRET"]) in result.stdout
    )


def test_export_env_json(cli):
    out = json.loads(cli.invoke("--output", "json", "export-env", env=export_env()).stdout)
    assert "SCAIKEY_CLIENT_SECRET" not in out and out["SCAIKEY_CLIENT_ID"] == "app_1"


def test_invalid_sync_setting_is_exit_2(cli, fake):
    result = cli.invoke(
        "sync",
        "--dry-run",
        env={
            "SCAIKEY_BASE_URL": fake.url,
            "SCAIKEY_CLIENT_ID": "a",
            "SCAIKEY_CLIENT_SECRET": "bbbb",
            "SCAIWAVE_SYNC_PAGE_SIZE": "many",
        },
    )
    assert result.exit_code == 2 and "SCAIWAVE_SYNC_PAGE_SIZE" in result.stderr


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=40,
    )
)
def test_env_values_round_trip(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text(f"A={files.env_value(value)}\n", encoding="utf-8")
    assert dotenv_values(path)["A"] == value


def test_update_env_keeps_other_lines_and_replaces_in_place(tmp_path):
    path = tmp_path / ".env"
    original = (
        '# top comment\nexport SCAIKEY_CLIENT_ID=old\nMULTI="a\nb"\n\n'
        "# keep me\nSCAIKEY_CLIENT_ID=older-duplicate\nLAST=1"
    )
    path.write_text(original)
    backup = files.update_env(path, {"SCAIKEY_CLIENT_ID": "new id", "NEW": "v"}, comment="added")
    text = path.read_text()
    assert text == (
        "# top comment\nSCAIKEY_CLIENT_ID='new id'\nMULTI=\"a\nb\"\n\n"
        "# keep me\nLAST=1\n# added\nNEW=v\n"
    )
    assert dotenv_values(path) == {
        "SCAIKEY_CLIENT_ID": "new id",
        "MULTI": "a\nb",
        "LAST": "1",
        "NEW": "v",
    }
    assert backup.read_text() == original
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_update_env_creates_a_missing_file_without_backup(tmp_path):
    path = tmp_path / "sub" / ".env"
    assert files.update_env(path, {"A": "1"}, comment="c") is None
    assert path.read_text() == "# c\nA=1\n"
    assert not list(path.parent.glob("*.tmp"))


def test_show_config_lists_every_installed_plugins_declared_settings(cli):
    """Another plugin's declared setting (room's) appears with its source, and a bad value of it
    is refused once, naming the variable."""
    env = {"SCAIWAVE_ROOM_MAX_EVENTS": "1234"}
    result = cli.invoke("--output", "json", "show-config", env=env)
    assert result.exit_code == 0, result.output
    rows = {r["setting"]: r for r in json.loads(result.stdout)}
    assert rows["SCAIWAVE_ROOM_MAX_EVENTS"]["value"] == "1234"
    assert rows["SCAIWAVE_ROOM_MAX_EVENTS"]["source"] == "environment"
    assert rows["SCAIWAVE_ROOM_MAX_JSON_DEPTH"]["source"] == "default"


def test_show_config_names_the_store_in_use_and_the_env_file(cli):
    """Unset SCAIWAVE_DB_URL shows the embedded SQLite store actually opened; a row names the
    .env file read, or "none"."""
    env = {"SCAIWAVE_DB_URL": ""}
    rows = {r["setting"]: r for r in cli.json("show-config", env=env)}
    embedded = cli.home / "scaiwave.db"
    assert rows["SCAIWAVE_DB_URL"]["value"] == f"sqlite:///{embedded}"
    assert rows["SCAIWAVE_DB_URL"]["source"] == "default (embedded)"
    assert rows["(--env-file)"]["value"] == "none"
    env_file = cli.home.parent / ".env"
    env_file.write_text("SCAIWAVE_SYNC_PAGE_SIZE=200\n")
    rows = {r["setting"]: r for r in cli.json("show-config", env=env)}
    assert rows["(--env-file)"] == {"setting": "(--env-file)", "value": str(env_file),
                                    "source": "default (./.env)"}  # fmt: skip
    other = cli.home.parent / "other.env"
    other.write_text("SCAIWAVE_DB_URL=sqlite:///elsewhere.db\n")
    rows = {r["setting"]: r for r in cli.json("--env-file", str(other), "show-config", env=env)}
    assert rows["(--env-file)"]["value"] == str(other)
    assert rows["(--env-file)"]["source"] == "option"
    assert rows["SCAIWAVE_DB_URL"]["value"] == "sqlite:///elsewhere.db"
    assert rows["SCAIWAVE_DB_URL"]["source"] == ".env"
    table = cli.invoke("show-config", env=env)
    assert table.exit_code == 0 and "default (embedded)" in table.stdout
    # a set URL shows what the store opens: the sync driver, the password masked
    env = {"SCAIWAVE_DB_URL": "mysql+aiomysql://wave:pw-123@db.example/wave"}
    rows = {r["setting"]: r for r in cli.json("show-config", env=env)}
    assert rows["SCAIWAVE_DB_URL"]["value"] == "mysql+pymysql://wave:***@db.example/wave"
    assert rows["SCAIWAVE_DB_URL"]["source"] == "environment"
