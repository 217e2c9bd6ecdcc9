"""``Settings.effective_db_url``: the URL the store actually opens (what `show-config` shows),
the embedded default resolved; ``Settings.env_file``: the .env file read."""

from __future__ import annotations

from pathlib import Path

from scaiwave_cli import api


def settings(home: Path, cwd: Path, **env):
    return api.load_settings({}, environ={"SCAIWAVE_HOME": str(home), **env}, cwd=cwd)


def test_embedded_default_is_resolved_and_is_what_the_cli_opens(cli, tmp_path):
    s = settings(cli.home, tmp_path)
    assert s.embedded is True
    assert s.effective_db_url == f"sqlite:///{cli.home / 'scaiwave.db'}"
    result = cli.invoke("admin", "list-tenants", "--debug")
    assert result.exit_code == 0, result.output
    assert f"debug: database: {s.effective_db_url}" in result.stderr


def test_a_server_url_is_the_sync_driver_url_masked_on_display(tmp_path):
    s = settings(tmp_path, tmp_path, SCAIWAVE_DB_URL="mysql+aiomysql://sw:pw-1234@db/scaiwave")
    assert s.embedded is False
    assert s.effective_db_url == "mysql+pymysql://sw:pw-1234@db/scaiwave"
    assert api.mask_url(s.effective_db_url) == "mysql+pymysql://sw:***@db/scaiwave"


def test_an_unusable_url_comes_back_as_given(tmp_path):
    s = settings(tmp_path, tmp_path, SCAIWAVE_DB_URL="postgres://x@y/z")
    assert s.effective_db_url == "postgres://x@y/z"


def test_env_file_names_the_file_read(tmp_path):
    assert settings(tmp_path, tmp_path).env_file is None
    (tmp_path / ".env").write_text("SCAIWAVE_SERVER_NAME=chat.example\n")
    s = settings(tmp_path, tmp_path)
    assert s.env_file == tmp_path / ".env"
    assert s.server_name == "chat.example"
