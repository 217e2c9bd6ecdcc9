"""The store under concurrency (issue 14, point 3): the first use of a new embedded store raced
by several processes, a store busy with another writer (SW_DB_BUSY, not SW_DB_UNREACHABLE), and
an integrity error that never shows its SQL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import click
import pytest

from scaiwave_cli import api


def first_use_env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = str(home)
    return env


def test_first_uses_of_a_new_embedded_store_raced_all_succeed(tmp_path):
    for round_ in range(3):
        home = tmp_path / f"home{round_}"
        env = first_use_env(home)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "scaiwave_cli", "--output", "json", "admin", "list-tenants"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        for code, out, err in results:
            assert code == 0, err
            assert json.loads(out) == []
        said = sum(err.count("created the embedded store") for _, _, err in results)
        assert said == 1  # created once, said once
        db = sqlite3.connect(home / "scaiwave.db")
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        db.close()
        assert version == api.store.HEAD_REVISION


@pytest.fixture
def embedded(cli):
    """The embedded store, created by a first command; returns its path."""
    result = cli.invoke("--output", "json", "admin", "list-tenants")
    assert result.exit_code == 0, result.output
    return cli.home / "scaiwave.db"


def test_a_busy_store_is_sw_db_busy_not_unreachable(cli, embedded):
    other = sqlite3.connect(embedded, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        result = cli.invoke(
            "--output", "json", "admin", "create-tenant", "--slug", "acme", "--name", "Acme",
            "--scaikey-tenant-id", "tnt_acme", env={"SCAIWAVE_DB_BUSY_TIMEOUT": "0.3"},
        )  # fmt: skip
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "SW_DB_BUSY"
    assert "busy" in error["message"] and "--wait" in error["hint"]
    # and once the other writer is done, the same command works
    again = cli.invoke(
        "admin", "create-tenant", "--slug", "acme", "--name", "Acme",
        "--scaikey-tenant-id", "tnt_acme",
    )  # fmt: skip
    assert again.exit_code == 0, again.output


def test_a_bad_busy_timeout_is_a_config_error(cli, embedded):
    result = cli.invoke("admin", "list-tenants", env={"SCAIWAVE_DB_BUSY_TIMEOUT": "soon"})
    assert result.exit_code == 2 and "SCAIWAVE_DB_BUSY_TIMEOUT" in result.stderr


@click.command("dup")
@api.pass_app
def dup(app):
    """Insert a tenant twice: a bug's IntegrityError, through the core's unexpected path."""
    m = api.store.models
    with app.store.transaction() as s:
        s.add(m.Tenant(id="tnt-one", slug="same-slug", name="One"))
        s.flush()
        s.add(m.Tenant(id="tnt-two", slug="same-slug", name="Two"))
        s.flush()


def test_an_integrity_error_never_shows_sql(cli, store):
    cli.register("dup", dup)
    for args in (("--output", "json", "dup"), ("dup",)):
        result = cli.invoke(*args)
        assert result.exit_code == 1, result.output
        assert "SW_DB_CONFLICT" in result.stderr
        for leak in ("INSERT", "SQL", "tenants (", "[parameters", "sqlalche.me"):
            assert leak not in result.stderr
    body = json.loads(cli.invoke("--output", "json", "dup").stderr)["error"]
    assert "conflicts" in body["message"] and "slug" in body["message"]
    with store.session() as s:  # rolled back
        assert s.query(api.store.models.Tenant).count() == 0
