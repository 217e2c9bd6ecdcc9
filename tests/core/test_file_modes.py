"""Files the core creates are private: SCAIWAVE_HOME, its cache and the media store 0700, the
SQLite store (and its -wal/-shm), caches and credentials 0600, under an ordinary umask 022. The
first run says that it created the embedded store; an existing store readable by others gets one
warning with the chmod to run, and is left as it is."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scaiwave_cli import api


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``scaiwave ARGS`` in a fresh interpreter under umask 022 (what a login shell has)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    clean.pop("PYTHONPATH", None)
    clean["SCAIWAVE_HOME"] = str(home)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "scaiwave_cli", *args],
        env=clean,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


@pytest.fixture
def fresh_home(tmp_path) -> Path:
    """Where SCAIWAVE_HOME points, not created yet (its parent is an ordinary 0755 directory)."""
    parent = tmp_path / "config"
    parent.mkdir(mode=0o755)
    os.chmod(parent, 0o755)
    return parent / "scaiwave"


def test_first_run_creates_a_private_home_and_store_and_says_so(fresh_home):
    result = run(fresh_home, "admin", "list-tenants", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    db = fresh_home / "scaiwave.db"
    assert result.stderr.splitlines() == [
        f"created the embedded store {db} (set SCAIWAVE_DB_URL to use a server)"
    ]
    assert mode(fresh_home) == 0o700
    assert mode(db) == 0o600
    cache = fresh_home / "cache"
    assert mode(cache) == 0o700
    files = list(cache.iterdir())
    assert files and all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    assert not [p for p in fresh_home.rglob("*") if mode(p) & 0o077]

    again = run(fresh_home, "admin", "list-tenants", "--output", "json")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # said once: the store exists now


def test_wal_and_shm_are_private(fresh_home, monkeypatch):
    assert run(fresh_home, "admin", "list-tenants").returncode == 0
    monkeypatch.setenv("SCAIWAVE_HOME", str(fresh_home))
    old = os.umask(0o022)
    try:
        environ = {"SCAIWAVE_HOME": str(fresh_home)}
        store = api.store.open_store(api.load_settings({}, environ=environ, cwd=fresh_home))
        try:
            with store.transaction() as session:
                session.add(api.store.models.Partner(id="ptn-x", slug="xxx", name="X"))
            wal, shm = fresh_home / "scaiwave.db-wal", fresh_home / "scaiwave.db-shm"
            assert wal.exists() and shm.exists()
            assert (mode(wal), mode(shm)) == (0o600, 0o600)
        finally:
            store.close()
    finally:
        os.umask(old)


def test_a_sqlite_url_names_a_new_file_it_is_created_private(tmp_path, fresh_home):
    target = tmp_path / "elsewhere" / "ops.db"
    result = run(
        fresh_home, "admin", "list-tenants", env={"SCAIWAVE_DB_URL": f"sqlite:///{target}"}
    )
    # a database named by a URL is never migrated implicitly: exit 2 naming `db upgrade`
    assert result.returncode == 2, result.stderr
    upgrade = run(fresh_home, "db", "upgrade", env={"SCAIWAVE_DB_URL": f"sqlite:///{target}"})
    assert upgrade.returncode == 0, upgrade.stderr
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    assert "created the embedded store" not in upgrade.stderr


def test_an_existing_readable_store_gets_one_warning_and_is_not_changed(fresh_home):
    assert run(fresh_home, "admin", "list-tenants").returncode == 0
    db = fresh_home / "scaiwave.db"
    os.chmod(db, 0o644)
    os.chmod(fresh_home, 0o755)
    result = run(fresh_home, "admin", "list-tenants", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warning: ")
    assert f"chmod 600 {db}" in lines[0] and f"chmod 700 {fresh_home}" in lines[0]
    assert (mode(db), mode(fresh_home)) == (0o644, 0o755)  # not changed behind the user's back

    os.chmod(db, 0o600)
    os.chmod(fresh_home, 0o700)
    quiet = run(fresh_home, "admin", "list-tenants")
    assert quiet.stderr == ""


def test_the_media_store_is_private(store):
    old = os.umask(0o022)
    try:
        sha, _ = store.media.put_bytes("tnt-acme", b"private bytes")
    finally:
        os.umask(old)
    path = store.media.path_for("tnt-acme", sha)
    root = store.media.root
    assert mode(path) == 0o600
    assert [mode(p) for p in (root, root / "tnt-acme", path.parent)] == [0o700] * 3


def test_the_jwks_cache_is_private(cli, httpx_mock):
    from scaiwave_cli.tokens import JwksCache

    url = "https://scaikey.example/api/v1/platform/.well-known/jwks.json"
    httpx_mock.add_response(url=url, json={"keys": []})
    settings = api.load_settings({}, environ={"SCAIWAVE_HOME": str(cli.home / "h"),
                                              "SCAIKEY_JWKS_URL": url})  # fmt: skip
    old = os.umask(0o022)
    try:
        cache = JwksCache(settings)
        cache.keys()
    finally:
        os.umask(old)
    assert mode(cache.path) == 0o600
    assert mode(cache.path.parent) == 0o700
    assert mode(cache.path.parent.parent) == 0o700
