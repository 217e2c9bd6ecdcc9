"""The run lock while its holder works (issue 14, point 3): a heartbeat keeps it alive past its
TTL during the listing, a run that finds it lost stops before applying anything, and the lock of
a holder killed with SIGKILL on this host is taken over at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time

from scaiwave_sync.adapters import db_runs
from sqlalchemy import update

from scaiwave_cli import api


def start_sync(world, *args, **env):
    """``scaiwave --output json sync ARGS`` in a child process (its own pid, as a cron's)."""
    full = dict(os.environ, **world.cli.env, **env)
    return subprocess.Popen(
        [sys.executable, "-m", "scaiwave_cli", "--output", "json", "sync", *args],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lock(world, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.store.session() as s:
            lock = db_runs.current_lock(s)
        if lock is not None:
            return lock
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the child never took the lock")


def test_a_run_listing_past_the_lock_ttl_keeps_its_lock(world, db_url):
    world.link("acme")
    world.fake.add_fault("delay", path="/users", delay=1.2, times=None)
    child = start_sync(world, SCAIWAVE_SYNC_LOCK_TTL="1")
    lock = wait_for_lock(world, child)
    time.sleep(1.6)  # past the TTL; the child is still listing
    assert child.poll() is None
    with world.store.session() as s:
        held = db_runs.current_lock(s)
    assert held is not None and held.holder == lock.holder
    assert held.expires_at > api.store.utcnow()  # refreshed while listing
    second = world.sync(env={"SCAIWAVE_SYNC_LOCK_TTL": "1"})
    assert second.exit_code == 1 and "SW_SYNC_LOCKED" in second.stderr, second.output
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert json.loads(out)["totals"]["create"] == 6
    assert world.active() == 6
    assert world.count(world.m.SyncLock) == 0


def test_a_run_that_lost_its_lock_stops_and_applies_nothing(world, db_url):
    world.link("acme")
    world.fake.add_fault("delay", path="/users", delay=1.0, times=None)
    child = start_sync(world, SCAIWAVE_SYNC_LOCK_TTL="1")
    wait_for_lock(world, child)
    table = world.m.SyncLock.__table__
    with world.store.transaction() as s:  # another run took it over (a clock jump, a bug)
        s.execute(
            update(table)
            .where(table.c.name == db_runs.LOCK_NAME)
            .values(
                holder="thief-host:1:cli",
                expires_at=api.store.utcnow() + dt.timedelta(seconds=600),
            )
        )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 1, (out, err)
    error = json.loads(err.strip().splitlines()[-1])["error"]
    assert error["code"] == "SW_SYNC_LOCK_LOST"
    assert "thief-host:1:cli" in error["message"]
    assert world.active() == 0  # nothing applied
    with world.store.session() as s:
        run = db_runs.last_run(s)
        assert run.status == "failed" and "lost" in run.error
        holder = db_runs.current_lock(s).holder
    assert holder == "thief-host:1:cli"  # the thief's lock is not released by the loser


def test_the_lock_of_a_holder_killed_with_sigkill_is_taken_over_at_once(world, db_url):
    world.link("acme")
    world.fake.add_fault("delay", path="/users", delay=3.0, times=None)
    child = start_sync(world)  # the default TTL: 30 minutes
    lock = wait_for_lock(world, child)
    assert lock.holder.split(":")[1] == str(child.pid)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)  # reaped, as a cron's parent does
    world.fake.faults.clear()
    started = time.monotonic()
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 10
    assert f"took over the reconcile lock of {lock.holder}" in result.stderr
    assert "no longer running" in result.stderr
    assert world.active() == 6
    assert world.count(world.m.SyncLock) == 0


def test_a_live_holder_on_this_host_is_not_taken_over(world, db_url):
    world.link("acme")
    now = api.store.utcnow()
    with world.store.transaction() as s:
        s.add(
            world.m.SyncLock(
                name=db_runs.LOCK_NAME,
                holder=f"{socket.gethostname()}:{os.getppid()}:cron",
                acquired_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
    result = world.sync()
    assert result.exit_code == 1 and "SW_SYNC_LOCKED" in result.stderr
    assert world.active() == 0
