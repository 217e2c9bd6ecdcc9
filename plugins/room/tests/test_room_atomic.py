"""All or nothing: `room import` killed with SIGKILL mid-way leaves no room (both engines)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from scaiwave_room.testing import sample_room_events


@pytest.mark.parametrize("point", ["events", "media"])
def test_kill_9_mid_import_leaves_no_room(world, tmp_path, point):
    w = world
    w.tenant("acme")
    w.tenant("globex")
    room = w.room("acme", events=sample_room_events() * 250)  # 2,250 events: two batches
    bundle = w.cli.invoke("room", "export", room, "--tenant", "acme").stdout_bytes
    path = tmp_path / "room.zip"
    path.write_bytes(bundle)
    marker = tmp_path / "reached"
    env = dict(os.environ)
    env.update(w.cli.env)
    env["SCAIWAVE_HOME"] = str(w.cli.home)
    env["SCAIWAVE_ROOM_TEST_HOOK"] = f"{point}:{marker}"
    m = w.m
    before = (w.count(m.Room), w.count(m.Event), w.count(m.Media), w.count(m.AuditEntry))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scaiwave_cli",
            "room",
            "import",
            "general",
            "--tenant",
            "globex",
            "--as",
            "prt-globex",
            "--from",
            str(path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # wait for the import to reach the point (not a timing check)
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reached the hook"
            time.sleep(0.02)
        # parked inside its transaction: rows written, nothing visible to anyone else
        assert _rooms_seen_by_another_reader(w, "tnt-globex") == 0
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:  # a failed assertion above must not leave it parked
            proc.kill()
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    # the transaction died with the process: nothing of the new room is visible
    assert (w.count(m.Room), w.count(m.Event), w.count(m.Media), w.count(m.AuditEntry)) == before
    # killed after writing its media file, the import leaves that content-addressed file (no
    # row points at it; the next import of the same content reuses it); before, nothing
    assert len(w.media_files()) == (2 if point == "media" else 1)
    assert w.count(m.Room, tenant_id="tnt-globex") == 0
    # and the database is usable: the same import now goes through
    result = w.cli.invoke(
        "--output",
        "json",
        "room",
        "import",
        "general",
        "--tenant",
        "globex",
        "--as",
        "prt-globex",
        "--from",
        str(path),
    )
    assert result.exit_code == 0, result.stderr
    assert w.count(m.Event, tenant_id="tnt-globex") == 2250 - 250  # read markers dropped
    assert json.loads(result.stdout)["media_files_written"] == (0 if point == "media" else 1)
    assert len(w.media_files()) == 2


def _rooms_seen_by_another_reader(w, tenant_id) -> int:
    """What a concurrent reader sees. On SQLite a raw, deferred read (the store's sessions
    BEGIN IMMEDIATE, which would wait for the parked writer's lock)."""
    if w.db_url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(w.db_url.split("///", 1)[1])
        try:
            sql = "SELECT count(*) FROM rooms WHERE tenant_id = ?"
            return con.execute(sql, (tenant_id,)).fetchone()[0]
        finally:
            con.close()
    return w.count(w.m.Room, tenant_id=tenant_id)
