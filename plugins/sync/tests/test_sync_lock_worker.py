"""The run lock shared by manual runs and the ARQ cron, and the cron itself through a real
redis-server (the `redis_url` fixture of scaiwave_cli.testing) and an arq worker in burst mode."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time

from scaiwave_sync import worker
from scaiwave_sync.adapters import db_runs

from scaiwave_cli import api


def hold_lock(store, holder="other-host:1:cron", seconds=600):
    now = api.store.utcnow()
    with store.transaction() as s:
        s.add(
            api.store.models.SyncLock(
                name=db_runs.LOCK_NAME,
                holder=holder,
                acquired_at=now,
                expires_at=now + dt.timedelta(seconds=seconds),
            )
        )


def test_a_second_run_exits_at_once_while_the_lock_is_held(world, db_url):
    world.link("acme")
    hold_lock(world.store)
    started = time.monotonic()
    result = world.sync()
    assert time.monotonic() - started < 5
    assert result.exit_code == 1 and "SW_SYNC_LOCKED" in result.stderr
    assert "other-host:1:cron" in result.stderr and "--wait" in result.stderr
    assert world.active() == 0
    # a dry run plans without the lock
    assert world.ok("--dry-run")["totals"]["create"] == 6


def test_a_stale_lock_is_taken_over(world, db_url):
    world.link("acme")
    hold_lock(world.store, seconds=-60)
    assert world.ok()["totals"]["create"] == 6
    assert world.count(world.m.SyncLock) == 0


def test_wait_queues_behind_the_running_reconcile(world, db_url):
    world.link("acme")
    hold_lock(world.store, seconds=1)  # the other run's lock goes stale in a second
    result = world.sync("--wait", "--wait-timeout", "20")
    assert result.exit_code == 0, result.output
    assert "waiting for the reconcile held by other-host:1:cron" in result.stderr
    assert world.active() == 6


def test_wait_timeout_gives_up(world, db_url):
    world.link("acme")
    hold_lock(world.store)
    result = world.sync("--wait", "--wait-timeout", "0.3")
    assert result.exit_code == 1 and "SW_SYNC_LOCKED" in result.stderr


def test_cron_schedule_is_every_ten_minutes_off_zero(scaiwave_env):
    (job,) = worker.WorkerSettings.cron_jobs
    assert job.name == "scaikey_sync" and job.minute == {3, 13, 23, 33, 43, 53}
    assert job.second == 0 and job.unique


WORKER_START = """
import sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and str(args[0]).endswith(".env")
                 and opened.append(str(args[0])))
import scaiwave_sync.worker as worker
print("imported", len(opened))
settings = worker.WorkerSettings  # what `arq scaiwave_sync.worker.WorkerSettings` reads
print("started", len(opened), settings.redis_settings.port, settings.on_startup is not None)
"""


def test_importing_the_worker_reads_no_env_file_starting_it_does(tmp_path):
    """The .env is read when the worker starts (arq reads WorkerSettings), not at import."""
    (tmp_path / ".env").write_text("SCAIWAVE_REDIS_URL=redis://127.0.0.1:6399/0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = str(tmp_path / "home")
    run = subprocess.run(
        [sys.executable, "-c", WORKER_START], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    imported, started = run.stdout.splitlines()
    assert imported == "imported 0"
    assert started.split()[0] == "started" and started.split()[1] != "0"
    assert started.split()[2:] == ["6399", "True"]
    # a bad value is a failed start (naming it), not a failed import
    (tmp_path / ".env").write_text("SCAIWAVE_SYNC_PAGE_SIZE=many\n")
    run = subprocess.run(
        [sys.executable, "-c", WORKER_START], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.stdout.splitlines() == ["imported 0"]
    assert run.returncode != 0 and "SCAIWAVE_SYNC_PAGE_SIZE" in run.stderr


def test_cron_skips_without_credentials(scaiwave_env):
    assert "not configured" in worker.reconcile_once()["skipped"]


def test_cron_skips_while_a_manual_run_holds_the_lock(world, db_url, monkeypatch):
    world.link("acme")
    hold_lock(world.store, holder="ops-laptop:9:cli")
    for key, value in world.cli.env.items():
        monkeypatch.setenv(key, value)
    assert "another reconcile is running" in worker.reconcile_once()["skipped"]
    assert world.active() == 0


def test_the_cron_job_runs_the_reconcile_through_arq(world, db_url, redis_url, monkeypatch):
    from arq import create_pool
    from arq.worker import create_worker

    world.link("acme", "globex")
    for key, value in dict(world.cli.env, SCAIWAVE_REDIS_URL=redis_url).items():
        monkeypatch.setenv(key, value)
    worker_settings = worker.WorkerSettings  # read now, as `arq` does when it starts
    settings = worker_settings.redis_settings
    assert (settings.host, settings.port) == ("127.0.0.1", int(redis_url.rsplit(":", 1)[1][:-2]))

    async def run_once():
        pool = await create_pool(settings)
        job = await pool.enqueue_job("scaikey_sync")
        w = create_worker(
            worker_settings, burst=True, poll_delay=0.05, handle_signals=False, keep_result=60
        )
        try:
            await w.main()
            assert (w.jobs_complete, w.jobs_failed) == (1, 0)
            return await job.result(timeout=30)
        finally:
            await w.close()
            await pool.aclose()

    result = asyncio.run(run_once())
    assert result["status"] == "ok" and result["trigger"] == "cron"
    assert result["totals"]["create"] == 12
    m = world.m
    assert world.count(m.SyncRun, m.SyncRun.trigger == "cron", m.SyncRun.status == "ok") == 1
    with world.store.session() as s:
        from sqlalchemy import select

        actors = set(s.scalars(select(m.AuditEntry.actor)))
    assert actors == {"cron:scaiwave-sync"}
    assert world.active() == 12
