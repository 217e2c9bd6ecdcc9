"""`room delete`: a verified backup first, batches, resumable after kill -9, the backup imports
back to the same events (both engines through ``db_url``)."""

from __future__ import annotations

import json

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.testing import sample_room_events

SHARED = b"shared-attachment-bytes" * 20


@pytest.fixture
def acme(world):
    """acme with room-del (nine events: a reaction, an attachment, a reply, ...; no read marker,
    which an import drops) and room-keep
    (one attachment with the same bytes as one of room-del's); globex to import into."""
    w = world
    w.tenant("acme")
    w.tenant("globex")
    sample = sample_room_events()
    events = [e for e in sample if e.get("type") != "swp.read_marker"] + [
        {"content": {"msgtype": "swp.media", "body": "s"}, "media": [("s.bin", SHARED)]}
    ]
    w.room("acme", room_id="room-del", events=events)
    w.room("acme", room_id="room-keep", events=[{"media": [("s.bin", SHARED)]}])
    with w.store.transaction() as s:
        s.add(w.m.RoomMember(room_id="room-del", participant_id="prt-acme", tenant_id="tnt-acme"))
    return w


def _delete(w, *args, env=None):
    return w.cli.invoke("--output", "json", "room", "delete", *map(str, args), env=env)


def _state(w, room_id):
    rows = w.rows(w.m.Room, id=room_id)
    return rows[0].state if rows else None


def _gone(w, room_id="room-del"):
    m = w.m
    assert _state(w, room_id) is None
    assert w.count(m.Event, room_id=room_id) == 0
    assert w.count(m.RoomMember, room_id=room_id) == 0
    assert w.count(m.Media, room_id=room_id) == 0


def test_dry_run_prints_the_counts_and_writes_nothing(acme, tmp_path):
    w = acme
    files = w.media_files()
    result = _delete(w, "room-del", "--tenant", "acme", "--backup", tmp_path / "b.zip",
                     "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["dry_run"] is True
    assert (record["events"], record["relations"], record["media"]) == (9, 1, 2)
    # pic.png is room-del's alone; the shared attachment stays (room-keep uses it)
    assert record["media_files"] == 1 and record["media_bytes"] == len(b"\x89PNG-sample-bytes" * 50)
    assert "9 events" in result.stderr and "backup:" in result.stderr
    assert not (tmp_path / "b.zip").exists()
    assert _state(w, "room-del") == "open" and w.count(w.m.Event, room_id="room-del") == 9
    assert w.media_files() == files


def test_backup_or_no_backup_is_required_and_confirmation_without_a_terminal(acme, tmp_path):
    w = acme
    for args in ([], ["--backup", str(tmp_path / "b.zip"), "--no-backup"]):
        result = _delete(w, "room-del", "--tenant", "acme", *args)
        assert result.exit_code == 2 and "--no-backup" in result.stderr
    result = _delete(w, "room-del", "--tenant", "acme", "--no-backup")
    assert result.exit_code == 2 and "SW_CONFIRMATION_REQUIRED" in result.stderr
    assert "delete room room-del" in result.stderr  # the plan came first
    assert _state(w, "room-del") == "open"
    result = _delete(w, "room-nope", "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1 and "SW_ROOM_NOT_FOUND" in result.stderr


def test_delete_with_backup_then_import_restores_the_same_events(acme, tmp_path):
    w = acme
    original = w.export("room-del", "acme").stdout_bytes
    backup = tmp_path / "room-del.zip"
    result = _delete(w, "room-del", "--tenant", "acme", "--backup", backup, "--yes")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["result"] == "deleted" and record["resumed"] is False
    assert (record["deleted_events"], record["deleted_members"], record["deleted_media"]) == (
        9,
        1,
        2,
    )
    assert record["media_files_removed"] == 1 and record["backup_events"] == 9
    _gone(w)
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    # the backup is the deterministic export of the room as it was
    assert backup.read_bytes() == original
    # the shared attachment stays (room-keep's row names it); pic.png is gone
    keep = w.rows(w.m.Media, room_id="room-keep")[0]
    assert w.store.media.exists("tnt-acme", keep.sha256)
    assert len(w.media_files()) == 1
    # audited: counts, never content
    started = w.rows(w.m.AuditEntry, action="room.delete.started")
    done = w.rows(w.m.AuditEntry, action="room.delete")
    assert len(started) == len(done) == 1 and done[0].target == "room:room-del"
    assert done[0].details["events"] == 9 and "hello" not in json.dumps(done[0].details)
    # round trip: the backup imports back to the same events and media
    imported = w.imp(backup.read_bytes(), tenant="acme", as_="prt-acme")
    assert imported.exit_code == 0, imported.stderr
    new_room = json.loads(imported.stdout)["room_id"]
    again = w.export(new_room, "acme").stdout_bytes
    a, b = bt.read_manifest(original), bt.read_manifest(again)
    assert bt.normalise_manifest(b, drop_sidekick=True) == bt.normalise_manifest(
        a, drop_sidekick=True
    )
    assert bt.media_of(again) == bt.media_of(original)


def test_no_backup_deletes_and_a_room_of_another_tenant_is_not_found(acme, admin_token):
    w = acme
    w.room("globex", room_id="room-g", events=[{}])
    result = _delete(w, "room-g", "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1 and "SW_ROOM_NOT_FOUND" in result.stderr
    env = admin_token.env("tenant_admin", tenant_id="sk-globex")
    result = _delete(w, "room-del", "--tenant", "acme", "--no-backup", "--yes", env=env)
    assert result.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr
    result = _delete(w, "room-del", "--tenant", "acme", "--no-backup", "--yes", "--batch-size", "3")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["backup"] is None
    _gone(w)


def test_a_backup_that_does_not_verify_deletes_nothing(acme, tmp_path, monkeypatch):
    w = acme
    from scaiwave_room.usecases import verify

    def broken(app, **_):
        raise bt_invalid()

    def bt_invalid():
        from scaiwave_room.errors import BundleInvalid

        return BundleInvalid("entry manifest.json: sha256 mismatch")

    monkeypatch.setattr(verify, "verify_bundle", broken)
    result = _delete(w, "room-del", "--tenant", "acme", "--backup", tmp_path / "b.zip", "--yes")
    assert result.exit_code == 1 and "SW_ROOM_BACKUP_FAILED" in result.stderr
    assert _state(w, "room-del") == "open" and w.count(w.m.Event, room_id="room-del") == 9


def test_a_room_marked_deleting_is_refused_by_export_and_listed_as_deleting(acme, tmp_path):
    w = acme
    from sqlalchemy import update

    with w.store.transaction() as s:
        s.execute(update(w.m.Room).where(w.m.Room.id == "room-del").values(state="deleting"))
    result = w.export("room-del", "acme", to=tmp_path / "x.zip")
    assert result.exit_code == 1 and "SW_ROOM_DELETING" in result.stderr
    rows = w.cli.json("room", "list", "--tenant", "acme")
    assert {r["id"]: r["state"] for r in rows}["room-del"] == "deleting"
    stuck = w.cli.json("room", "list", "--tenant", "acme", "--state", "deleting")
    assert [r["id"] for r in stuck] == ["room-del"]  # what an operator looks for to finish
    assert "room-del" not in [
        r["id"] for r in w.cli.json("room", "list", "--tenant", "acme", "--state", "open")
    ]
    # resuming needs the first run's backup (none can be made any more) ...
    result = _delete(w, "room-del", "--tenant", "acme", "--backup", tmp_path / "b.zip", "--yes")
    assert result.exit_code == 1 and "SW_ROOM_BACKUP_MISSING" in result.stderr
    # ... or --no-backup, which finishes it
    result = _delete(w, "room-del", "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["resumed"] is True
    _gone(w)


POINTS = ["backup", "marked", "events-txn", "events", "media", "final"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_anywhere_then_the_same_command_finishes(world, tmp_path, point):
    """A room of 2,400 events deleted 500 at a time, killed at ``point``: the room is whole or
    marked deleting, and the same command run again finishes the delete."""
    w = world
    w.tenant("acme")
    events = []
    for i in range(300):
        events += sample_room_events(media_data=b"m%d" % i) if i < 3 else sample_room_events()[:8]
    w.room("acme", room_id="room-big", events=events)
    total = len(events)
    backup = tmp_path / "big.zip"
    args = ["room", "delete", "room-big", "--tenant", "acme", "--backup", str(backup), "--yes",
            "--batch-size", "500"]  # fmt: skip
    w.kill_at_hook(point, *args, marker_dir=tmp_path)
    m = w.m
    state = _state(w, "room-big")
    left = w.count(m.Event, room_id="room-big")
    if point == "backup":  # verified, nothing marked: whole
        assert state == "open" and left == total
    elif point in ("marked", "events-txn"):  # the batch died with the process
        assert state == "deleting" and left == total
    elif point == "events":
        assert state == "deleting" and left == total - 500
    else:
        assert state == "deleting" and left == 0
    assert w.cli.invoke("room", "verify", "--from", str(backup)).exit_code == 0
    # the same command finishes it
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["resumed"] is (point != "backup")
    _gone(w, "room-big")
    assert w.media_files() == []
    assert len(w.rows(m.AuditEntry, action="room.delete")) == 1
    # and the backup still brings every event back
    w.tenant("globex")
    imported = w.imp(backup.read_bytes())
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["events"] == total - 300  # read markers are not imported
