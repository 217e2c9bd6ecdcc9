"""A busy or brand-new store under concurrent syncs (issue 14, point 3): two
`sync --create-tenants --wait` on a store that does not exist yet both succeed; a store held by
another writer is SW_DB_BUSY (exit 2), and `--wait` waits for it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from scaiwave_sync.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from sqlalchemy import func, select

from scaiwave_cli import api


def test_two_syncs_creating_a_new_store_at_once_both_succeed(scaiwave_env, fake, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SCAIWAVE_DB_URL"}
    env.update(
        SCAIKEY_BASE_URL=fake.url,
        SCAIKEY_CLIENT_ID=DEFAULT_CLIENT_ID,
        SCAIKEY_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        SCAIWAVE_SYNC_BACKOFF="0",
    )
    argv = [sys.executable, "-m", "scaiwave_cli", "--output", "json", "sync"]
    argv += ["--create-tenants", "--wait", "--wait-timeout", "60"]
    procs = [
        subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    created = sorted(json.loads(out)["totals"]["create"] for _, out, _ in results)
    assert created == [0, 12]  # the first created both tenants' users, the second found them
    assert sum(err.count("created the embedded store") for _, _, err in results) == 1
    store = api.store.open_store(api.load_settings({}, environ=env))
    try:
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(api.store.models.Tenant)) == 2
    finally:
        store.close()


@pytest.fixture
def held_store(world, db_url):
    """A function that holds SQLite's write lock for ``seconds`` from another connection."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's database lock (MariaDB locks rows)")
    path = db_url.split("///", 1)[1]
    threads = []

    def hold(seconds: float) -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(seconds, lambda: (other.execute("ROLLBACK"), other.close()))
        timer.start()
        threads.append(timer)

    yield hold
    for timer in threads:
        timer.join()


def test_a_busy_store_is_sw_db_busy_and_wait_waits_for_it(world, held_store):
    world.link("acme")
    fast = {"SCAIWAVE_DB_BUSY_TIMEOUT": "0.2"}
    held_store(1.0)
    result = world.sync(env=fast)
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == "SW_DB_BUSY" and "--wait" in error["hint"]
    assert "SW_DB_UNREACHABLE" not in result.stderr
    assert world.active() == 0
    held_store(1.0)
    waited = world.sync("--wait", "--wait-timeout", "30", env=fast)
    assert waited.exit_code == 0, waited.output
    assert "waiting for the busy store" in waited.stderr
    assert world.active() == 6
