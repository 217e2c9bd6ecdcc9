"""`room import-all` (issue 17) on SQLite and MariaDB (``db_url``): a tenant export imported
room by room with local workers, each all or nothing, once (a re-run and a concurrent job skip
what is imported), failures named; and the exits 1/2/3 of the three commands."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from room_export_all_helpers import (  # noqa: E402
    error_of,
    export_all,
    import_all,
    seed,
    verify_all,
)

from scaiwave_cli import api


def _exported(w, tmp_path) -> Path:
    seed(w)
    out = tmp_path / "acme-export"
    result = export_all(w, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    return out


def _manifest(out) -> dict:
    return json.loads((out / "tenant-manifest.json").read_text())


def test_round_trip_and_a_re_run_skips_what_is_imported(world, tmp_path):
    w = world
    out = _exported(w, tmp_path)
    assert verify_all(w, out, "--workers", "2").exit_code == 0
    manifest = _manifest(out)
    result = import_all(w, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["skipped"], summary["failed"]) == (3, 0, 0)
    assert summary["tenant"] == "globex" and summary["source_tenant"] == "acme"
    made = {r["source_room"]: r["room_id"] for r in summary["results"]}
    assert list(made) == ["room-a", "room-b", "room-c"]
    rooms = {r.id: r for r in w.rows(w.m.Room, tenant_id="tnt-globex")}
    assert set(rooms) == set(made.values())
    assert {rooms[made[s]].name for s in made} == {"Alpha", "Beta", "Gamma"}
    # each room whole (room-a's read marker is not imported, as with `room import`)
    counts = {s: w.count(w.m.Event, room_id=made[s]) for s in made}
    assert counts == {"room-a": 8, "room-b": 3, "room-c": 2}
    audit = w.rows(w.m.AuditEntry, action="room.import", tenant_id="tnt-globex")
    shas = {r["id"]: r["sha256"] for r in manifest["rooms"]}
    assert sorted(a.details["bundle_sha256"] for a in audit) == sorted(shas.values())
    assert {a.target for a in audit} == {f"room:{made[s]}" for s in made}

    # again: everything is recognised, nothing is written
    before = (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.AuditEntry))
    again = import_all(w, out, "--workers", "2")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["skipped"]) == (0, 3)
    assert {r["source_room"]: r["room_id"] for r in summary["results"]} == made
    assert (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.AuditEntry)) == before

    # a room deleted since is imported again; the table output lists source -> new room
    deleted = w.cli.invoke(
        "room", "delete", made["room-b"], "--tenant", "globex", "--no-backup", "--yes"
    )
    assert deleted.exit_code == 0, deleted.output
    table = w.cli.invoke(
        "room", "import-all", str(out), "--tenant", "globex", "--workspace", "general",
        "--as", "prt-globex",
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "1 imported, 2 skipped" in table.stderr
    line = next(x for x in table.stdout.splitlines() if x.startswith("room-b"))
    assert "imported" in line and made["room-b"] not in line
    assert f"room-a       skipped   {made['room-a']}" in table.stdout


def test_failures_are_named_and_a_re_run_imports_the_rest(world, tmp_path):
    w = world
    out = _exported(w, tmp_path)
    _set_max_rooms(w, 2)
    result = import_all(w, out)  # one worker: the manifest's order
    assert result.exit_code == 1, result.output
    error = error_of(result)
    assert error["code"] == "SW_ROOM_IMPORT_INCOMPLETE"
    assert "room-c (SW_ROOM_CAPACITY)" in error["message"]
    assert error["details"]["rooms"] == [
        {
            "source_room": "room-c",
            "code": "SW_ROOM_CAPACITY",
            "message": error["details"]["rooms"][0]["message"],
        }
    ]
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["failed"]) == (2, 1)
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 2
    _set_max_rooms(w, None)
    again = import_all(w, out)
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["skipped"], summary["failed"]) == (1, 2, 0)
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 3


def _set_max_rooms(w, value):
    from sqlalchemy import update

    with w.store.transaction() as s:
        s.execute(update(w.m.Tenant).where(w.m.Tenant.id == "tnt-globex").values(max_rooms=value))


def test_a_changed_bundle_fails_alone_and_a_changed_manifest_stops_everything(world, tmp_path):
    w = world
    out = _exported(w, tmp_path)
    manifest = out / "tenant-manifest.json"
    original = manifest.read_bytes()
    manifest.write_bytes(original.replace(b'"Alpha"', b'"Alfa!"'))
    result = import_all(w, out)
    assert result.exit_code == 1 and error_of(result)["code"] == "SW_ROOM_EXPORT_INVALID"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0
    manifest.write_bytes(original)
    bundle = out / "rooms/room-b.zip"
    bundle.write_bytes(bundle.read_bytes() + b"\0")
    result = import_all(w, out, "--workers", "2")
    assert result.exit_code == 1, result.output
    error = error_of(result)
    assert error["code"] == "SW_ROOM_IMPORT_INCOMPLETE"
    assert error["details"]["rooms"][0]["source_room"] == "room-b"
    assert error["details"]["rooms"][0]["code"] == "SW_ROOM_BUNDLE_MISMATCH"
    assert "failed: " in result.stderr  # each failure is said as it happens
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 2


def test_two_imports_of_one_bundle_at_once_write_one_room(world, tmp_path):
    """A worker parked inside room-a's import transaction holds the bundle's lock: a second job
    on the same bundle waits for it; the worker is killed (its transaction rolls back), the
    coordinator tries room-a again: between that retry and the waiting job, one room."""
    w = world
    out = _exported(w, tmp_path)
    room_a = _manifest(out)["rooms"][0]
    marker = tmp_path / "reached-events"
    proc = w.cli.popen(
        "--output", "json", "room", "import-all", str(out), "--tenant", "globex",
        "--workspace", "general", "--as", "prt-globex",
        env={"SCAIWAVE_ROOM_TEST_HOOK": f"events:{marker}"},
    )  # fmt: skip
    second: dict = {}
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and marker.read_text().strip()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the import never reached its kill point"
            time.sleep(0.02)
        args = {
            "dir": str(out),
            "file": room_a["file"],
            "sha256": room_a["sha256"],
            "bytes": room_a["bytes"],
            "source_room": "room-a",
            "tenant_id": "tnt-globex",
            "workspace_id": "ws-globex-general",
            "participant_id": "prt-globex",
        }
        from scaiwave_room import jobs

        app = api.AppContext(options={"db_url": w.db_url})
        waiting = threading.Thread(
            target=lambda: second.update(jobs.import_job(app, args)), daemon=True
        )
        waiting.start()
        waiting.join(1.5)
        assert waiting.is_alive(), "the second job did not wait for the first one's lock"
        import os

        os.kill(int(marker.read_text()), signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=180)
        waiting.join(60)
        app.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    first = next(r for r in summary["results"] if r["source_room"] == "room-a")
    assert sorted([first["result"], second["result"]]) == ["imported", "skipped"]
    assert first["room_id"] == second["room_id"]
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 3
    assert w.count(w.m.Event, room_id=first["room_id"]) == 8


def test_exit_2_for_an_unusable_database_or_queue_url(world, tmp_path, unusable_db_url):
    w = world
    out = _exported(w, tmp_path)
    url, code = unusable_db_url()
    for args in (
        ("room", "export-all", "--tenant", "acme", "--to", str(tmp_path / "new")),
        ("room", "import-all", str(out), "--tenant", "globex", "--workspace", "general",
         "--as", "prt-globex"),
    ):  # fmt: skip
        result = w.cli.invoke("--output", "json", "--db-url", url, *args)
        assert result.exit_code == 2, result.output
        assert error_of(result)["code"] == code
    for args in (
        ("room", "export-all", "--tenant", "acme", "--to", str(tmp_path / "q")),
        ("room", "verify-all", str(out)),
        ("room", "import-all", str(out), "--tenant", "globex", "--workspace", "general",
         "--as", "prt-globex"),
    ):  # fmt: skip
        result = w.cli.invoke("--output", "json", *args, "--queue", "http://nope")
        assert result.exit_code == 2, result.output
        assert error_of(result)["code"] == "SW_QUEUE_URL_INVALID"
    assert not (tmp_path / "q").exists()
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0


def test_exit_3_out_of_the_tokens_tenant_or_without_create_note(world, tmp_path, admin_token):
    w = world
    out = _exported(w, tmp_path)
    w.participant("globex", "prt-viewer", role="viewer")
    result = import_all(w, out, as_="prt-viewer")
    assert result.exit_code == 3, result.output
    assert error_of(result)["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    env = admin_token.env("tenant_admin", tenant_id="sk-globex")
    result = export_all(w, tmp_path / "other", env=env)
    assert result.exit_code == 3, result.output
    assert error_of(result)["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert not (tmp_path / "other").exists()
    result = import_all(w, out, tenant="acme", as_="prt-acme", env=env)
    assert result.exit_code == 3, result.output
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0
    # its own tenant: allowed, and the audit rows name the token's admin
    result = import_all(
        w, out, env=admin_token.env("tenant_admin", tenant_id="sk-globex", sub="eve")
    )
    assert result.exit_code == 0, result.output
    actors = {a.actor for a in w.rows(w.m.AuditEntry, action="room.import")}
    assert actors == {"scaikey:eve"}
