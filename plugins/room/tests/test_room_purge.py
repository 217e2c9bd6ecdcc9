"""`room purge`: retention in batches; relations stay consistent (a reaction or edit pointing at
a purged event goes with it), the rooms stay, kill -9 then the same command finishes (both
engines through ``db_url``)."""

from __future__ import annotations

import json
import os
import time

import pytest
from sqlalchemy import select

OLD_PIC = b"old-picture" * 30
SHARED = b"shared-bytes" * 30

# World.room dates event i at 2026-01-01T09:00:00 + i seconds
EVENTS = [
    {"content": {"msgtype": "swp.text", "body": "old 0"}},  # 0 old
    {"content": {"msgtype": "swp.text", "body": "old 1"}, "media": [("p.png", OLD_PIC)]},  # 1
    {"type": "swp.reaction", "content": {"key": "+1"}, "relates": ("reaction", 0)},  # 2 old
    {"content": {"msgtype": "swp.text", "body": "old 3"}, "media": [("s.bin", SHARED)]},  # 3
    {"content": {}, "redacted": True},  # 4 old, redacted in place
    {"content": {"msgtype": "swp.text", "body": "new 5"}},  # 5: the cut is here
    {"type": "swp.reaction", "content": {"key": "+1"}, "relates": ("reaction", 1)},  # 6 -> old
    {"type": "swp.edit", "content": {"body": "old 1!"}, "relates": ("edit", 1)},  # 7 -> old
    {"type": "swp.reaction", "content": {"key": "ok"}, "relates": ("reaction", 7)},  # 8 -> 7
    {"content": {"msgtype": "swp.text", "body": "reply"}, "reply_to": 0},  # 9 reply to old
    {"type": "swp.reaction", "content": {"key": "+1"}, "relates": ("reaction", 5)},  # 10 -> new
]
CUT = "2026-01-01T09:00:05Z"


@pytest.fixture
def acme(world):
    w = world
    w.tenant("acme")
    w.tenant("globex")
    w.room("acme", room_id="room-a", events=EVENTS)
    w.room("acme", room_id="room-b", events=[{"media": [("s.bin", SHARED)]}])  # shares a file
    w.room("globex", room_id="room-g", events=EVENTS[:3])
    return w


def _purge(w, *args, env=None):
    return w.cli.invoke("--output", "json", "room", "purge", *map(str, args), env=env)


def _bodies(w, room_id):
    m = w.m
    return [e.id.rsplit("-e", 1)[1] for e in w.rows(m.Event, order_by=m.Event.stream_position,
                                                     room_id=room_id)]  # fmt: skip


def _dangling(w) -> list:
    """Events whose relates_to_id names an event that is not there."""
    m = w.m
    with w.store.session() as s:
        ids = set(s.scalars(select(m.Event.id)))
        return [
            (e, target)
            for e, target in s.execute(select(m.Event.id, m.Event.relates_to_id))
            if target is not None and target not in ids
        ]


def test_dry_run_counts_and_writes_nothing(acme):
    w = acme
    result = _purge(w, "--tenant", "acme", "--before", CUT, "--dry-run")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["dry_run"] is True and record["rooms"] == 2
    assert record["events"] == 6  # 0-4 of room-a, 0 of room-b (same dates)
    assert record["relations"] == 2  # 6 and 7 point at old events (8 only through 7)
    assert record["media"] == 3
    assert "purge the events created before 2026-01-01T09:00:05" in result.stderr
    assert w.count(w.m.Event) == 11 + 1 + 3


def test_purge_keeps_relations_consistent_and_the_room(acme):
    w = acme
    files = len(w.media_files())
    result = _purge(w, "--tenant", "acme", "--before", CUT, "--room", "room-a", "--yes",
                    "--batch-size", "2")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["result"] == "purged"
    assert (record["purged_events"], record["purged_relations"]) == (5, 3)
    # left: the new message, the reply (its text is its own) and the reaction to the new one
    assert _bodies(w, "room-a") == ["5", "9", "10"]
    assert _dangling(w) == []
    assert w.rows(w.m.Room, id="room-a")[0].state == "open"
    # the old picture's file went; the shared one stays (room-b's row names it)
    assert record["media_files_removed"] == 1 and len(w.media_files()) == files - 1
    assert w.count(w.m.Media, room_id="room-a") == 0 and w.count(w.m.Media, room_id="room-b") == 1
    # other rooms and tenants untouched
    assert w.count(w.m.Event, room_id="room-b") == 1 and w.count(w.m.Event, room_id="room-g") == 3
    audit = w.rows(w.m.AuditEntry, action="room.purge")
    assert len(audit) == 1 and audit[0].details["events"] == 8
    assert "old 0" not in json.dumps(audit[0].details)


def test_whole_tenant_purge_and_refusals(acme, admin_token):
    w = acme
    result = _purge(w, "--tenant", "acme", "--before", CUT)
    assert result.exit_code == 2 and "SW_CONFIRMATION_REQUIRED" in result.stderr
    assert w.count(w.m.Event, room_id="room-a") == 11
    result = _purge(w, "--tenant", "acme", "--before", "last tuesday", "--yes")
    assert result.exit_code == 2 and "--before" in result.stderr
    env = admin_token.env("tenant_admin", tenant_id="sk-globex")
    result = _purge(w, "--tenant", "acme", "--before", CUT, "--yes", env=env)
    assert result.exit_code == 3
    result = _purge(w, "--tenant", "acme", "--before", CUT, "--yes")
    assert result.exit_code == 0, result.stderr
    assert _bodies(w, "room-a") == ["5", "9", "10"] and _bodies(w, "room-b") == []
    assert len(w.media_files()) == 1  # globex's picture (room-g); acme's are all gone
    assert w.count(w.m.Event, room_id="room-g") == 3


@pytest.mark.parametrize("point", ["purge-txn", "purge"])
def test_kill_9_mid_purge_then_the_same_command_finishes(world, tmp_path, point):
    w = world
    w.tenant("acme")
    w.room("acme", room_id="room-a", events=EVENTS * 40)  # 440 events; relations point at 0-7
    args = ["room", "purge", "--tenant", "acme", "--before", "2026-01-01T09:05:00Z", "--yes",
            "--batch-size", "50"]  # fmt: skip
    w.kill_at_hook(point, *args, marker_dir=tmp_path)
    left = w.count(w.m.Event, room_id="room-a")
    if point == "purge-txn":
        assert left == 440  # the batch died with the process
    else:  # the first batch and every relation pointing into it (the copies all point at 0-7)
        assert 0 < left <= 440 - 50
    assert _dangling(w) == []  # every committed batch is consistent
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert _dangling(w) == []
    with w.store.session() as s:
        m = w.m
        oldest = s.scalar(select(m.Event.created_at).order_by(m.Event.created_at).limit(1))
    assert oldest.isoformat() >= "2026-01-01T09:05:00"


def test_orphans_of_a_killed_import_go_with_purge_orphans_after_the_grace_period(world, tmp_path):
    w = world
    w.tenant("acme")
    w.tenant("globex")
    room = w.room("acme", events=EVENTS)
    bundle = tmp_path / "a.zip"
    assert w.export(room, "acme", to=bundle).exit_code == 0
    args = ["room", "import", "general", "--tenant", "globex", "--as", "prt-globex", "--from",
            str(bundle)]  # fmt: skip
    w.kill_at_hook("media", *args, marker_dir=tmp_path)  # files written, COMMIT not yet
    left = [f for f in w.media_files() if "/tnt-globex/" in f]
    assert len(left) == 2 and w.count(w.m.Room, tenant_id="tnt-globex") == 0
    before = w.media_files()
    purge = ["--output", "json", "admin", "media", "purge-orphans", "--yes"]
    result = w.cli.invoke(*purge)  # grace 1h: the files are seconds old
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["removed"] == 0 and w.media_files() == before
    past = time.time() - 7200
    for path in w.media_files():
        os.utime(path, (past, past))
    result = w.cli.invoke(*purge)
    assert json.loads(result.stdout)["removed"] == 2
    assert w.media_files() == [f for f in before if f not in left]  # acme's files stay
    assert w.cli.invoke("room", "export", room, "--tenant", "acme").exit_code == 0
