"""`scaiwave admin export-participant` and `verify-export`, and the tenant people export, on SQLite
and MariaDB (``db_url``): what the ZIP holds against seeded rows, nothing of anyone else,
determinism, the check of a tampered file, tenant scope. Memory is the benchmark's matter
(bench/participant_export_bench.py), never asserted here."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
import zipfile

import pytest

from scaiwave_cli import api

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
PHOTO = b"\x89PNG ada's holiday photo " * 40
NOTES = b"ada's notes, plain text\n" * 3
BOB_FILE = b"bob's private spreadsheet"
CAROL_FILE = b"carol's imported attachment"
ENTRIES = ["profile.json", "memberships.json", "roles.json", "events.jsonl", "rooms.json",
           "media.json"]  # fmt: skip


class World:
    """acme: ada (the person exported), bob, rooms with both; globex: gus. Ada's own events and
    uploads, and what must stay out: bob's events and uploads, an event and an attachment ada
    imported from carol (``_imported_sender``), gus's event in another tenant."""

    def __init__(self, cli, store, factory, tmp_path):
        self.cli, self.store, self.tmp = cli, store, tmp_path
        self.m = m = api.store.models
        f = factory
        self.acme, self.globex = f.tenant("acme"), f.tenant("globex")
        ada = f.participant(self.acme, "ada", display_name="Ada Lovelace", fqid="@ada:acme.test")
        bob = f.participant(self.acme, "bob", display_name="Bob Builder")
        gus = f.participant(self.globex, "gus")
        general = f.workspace(self.acme, "general", owner=ada)
        design = f.workspace(self.acme, "design", owner=bob)
        g_ws = f.workspace(self.globex, "main", owner=gus)
        with store.transaction() as s:
            s.add(m.WorkspaceMember(workspace_id=design.id, participant_id=ada.id,
                                    tenant_id=self.acme.id, role="editor"))  # fmt: skip
        self.plans = f.room(self.acme, general, name="Plans", members=[ada, bob], id="room-plans")
        self.ops = f.room(self.acme, design, name="Ops", members=[bob, ada], id="room-ops")
        # ada spoke in a room she has since been removed from: named by her events only
        self.old = f.room(self.acme, design, name="Old", members=[bob], id="room-old")
        self.quiet = f.room(self.acme, general, name="Quiet", members=[bob], id="room-quiet")
        g_room = f.room(self.globex, g_ws, name="Globex", members=[gus], id="room-globex")
        ev = f.event
        self.ada_events = [
            ev(self.plans, ada, body="ada's first message", id="evt-a1", created_at=T0),
            ev(self.ops, ada, body="ada in ops", id="evt-a2", created_at=T0,
               original_content={"body": "ada in opz"}, edited_at=T0),
        ]  # fmt: skip
        self.bob_event = ev(self.plans, bob, body="bob's private words", id="evt-b1")
        self.ada_events += [
            ev(self.plans, ada, event_type="swp.reaction", content={"key": "+1"}, id="evt-a3",
               relation_type="reaction", relates_to_id="evt-b1", created_at=T0),
            ev(self.old, ada, body="ada long ago", id="evt-a4", created_at=T0),
        ]  # fmt: skip
        carol = {"fqid": "@carol:far.example", "display_name": "Carol", "local": False}
        ev(self.plans, ada, id="evt-imported", created_at=T0,
           content={"body": "carol's imported words", "_imported_sender": carol})  # fmt: skip
        ev(g_room, gus, body="gus in globex", id="evt-g1")
        self.ada_events.append(ev(self.plans, ada, body="ada's last word", id="evt-a5"))
        self.photo = self.upload("med-a1", ada, PHOTO, "holiday.png", self.plans, "evt-a1")
        self.upload("med-a2", ada, PHOTO, "../../copy of holiday.png", self.plans, None)
        self.notes = self.upload("med-a3", ada, NOTES, "notes.txt", self.quiet, None)
        self.upload("med-b1", bob, BOB_FILE, "bob.xlsx", self.plans, "evt-b1")
        self.upload("med-c1", ada, CAROL_FILE, "carol.pdf", self.plans, "evt-imported")
        self.ada, self.bob, self.gus = ada, bob, gus

    def upload(self, media_id, who, data, name, room, event_id):
        sha, _ = self.store.media.put_bytes(room.tenant_id, data)
        with self.store.transaction() as s:
            s.add(
                self.m.Media(
                    id=media_id, tenant_id=room.tenant_id, sha256=sha, name=name, size=len(data),
                    content_type="application/octet-stream", room_id=room.id, event_id=event_id,
                    uploader_id=who.id, created_at=T0,
                    storage_key=api.store.media.storage_key(room.tenant_id, sha),
                )
            )  # fmt: skip
        return sha

    def run(self, *args, env=None):
        return self.cli.invoke(*args, env=env)

    def export(self, name="ada.zip", *extra, who="ada@acme.test", env=None):
        target = self.tmp / name
        result = self.run("--output", "json", "admin", "export-participant", who, "--tenant",
                          "acme", "--to", str(target), *extra, env=env)  # fmt: skip
        return result, target

    def verify(self, path):
        return self.run("--output", "json", "admin", "verify-export", str(path))


@pytest.fixture
def world(cli, store, factory, tmp_path):
    w = World(cli, store, factory, tmp_path)
    for args in (
        ("role", "create", "moderator", "--tenant", "acme", "--from", "editor"),
        ("role", "assign", "ada@acme.test", "tenant_admin", "--tenant", "acme", "--yes"),
        ("role", "assign", "ada@acme.test", "moderator", "--tenant", "acme", "--workspace",
         "design", "--yes"),
    ):  # fmt: skip
        result = cli.invoke(*args)
        assert result.exit_code == 0, result.output
    return w


def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


# -- what the export holds -----------------------------------------------------------------------


def test_export_holds_the_persons_data_in_order(world):
    result, target = world.export()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["events"] == 5 and summary["media"] == 3 and summary["media_files"] == 2
    assert summary["rooms"] == 4 and summary["imported_skipped"] == 2
    assert summary["file"] == str(target) and summary["bytes"] == target.stat().st_size
    assert summary["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    files = entries(target)
    photo_entry = f"media/{world.photo}/holiday.png"
    notes_entry = f"media/{world.notes}/notes.txt"
    assert list(files) == ENTRIES + sorted([photo_entry, notes_entry]) + ["integrity.json"]

    profile = json.loads(files["profile.json"])
    assert profile["format"] == "scaiwave.participant-export" and profile["format_version"] == 1
    assert profile["tenant"] == {"id": "tnt-acme", "slug": "acme", "name": "Acme"}
    person = profile["participant"]
    assert person["id"] == "prt-ada" and person["email"] == "ada@acme.test"
    assert person["display_name"] == "Ada Lovelace" and person["fqid"] == "@ada:acme.test"
    assert person["scaikey_user_id"] == "usr_ada" and person["active"] is True
    assert person["erased_at"] is None and person["operator_hold"] is False

    memberships = json.loads(files["memberships.json"])
    assert [(w["workspace"], w["role"]) for w in memberships["workspaces"]] == [
        ("design", "editor"),
        ("general", "owner"),
    ]
    assert [(r["room_id"], r["power_level"], r["membership"]) for r in memberships["rooms"]] == [
        ("room-ops", 0, "join"),
        ("room-plans", 100, "join"),
    ]
    roles = json.loads(files["roles.json"])["roles"]
    assert [(r["role"], r["scope"], r["workspace"]) for r in roles] == [
        ("tenant_admin", "tenant", None),
        ("moderator", "workspace", "design"),
    ]

    events = [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]
    assert [e["id"] for e in events] == ["evt-a1", "evt-a2", "evt-a3", "evt-a4", "evt-a5"]
    positions = [e["stream_position"] for e in events]
    assert positions == sorted(positions)
    by_id = {e["id"]: e for e in events}
    assert by_id["evt-a1"]["room_id"] == "room-plans"
    assert by_id["evt-a1"]["content"] == {"body": "ada's first message"}
    assert by_id["evt-a1"]["created_at"] == "2026-03-01T12:00:00Z"
    assert by_id["evt-a2"]["original_content"] == {"body": "ada in opz"}
    assert by_id["evt-a3"]["relates_to"] == {"rel_type": "reaction", "event_id": "evt-b1"}
    assert by_id["evt-a4"]["room_id"] == "room-old"

    rooms = json.loads(files["rooms.json"])["rooms"]
    assert rooms == [
        {"id": "room-old", "name": "Old", "workspace": "design", "type": "group", "state": "open"},
        {"id": "room-ops", "name": "Ops", "workspace": "design", "type": "group", "state": "open"},
        {"id": "room-plans", "name": "Plans", "workspace": "general", "type": "group",
         "state": "open"},
        {"id": "room-quiet", "name": "Quiet", "workspace": "general", "type": "group",
         "state": "open"},
    ]  # fmt: skip
    media = json.loads(files["media.json"])["media"]
    assert sorted(m["id"] for m in media) == ["med-a1", "med-a2", "med-a3"]
    copy = next(m for m in media if m["id"] == "med-a2")
    assert copy["name"] == "../../copy of holiday.png" and copy["file"] == photo_entry
    assert files[photo_entry] == PHOTO and files[notes_entry] == NOTES
    integrity = json.loads(files["integrity.json"])
    assert integrity["format"] == "scaiwave.participant-export.integrity"
    assert [e["name"] for e in integrity["entries"]] == list(files)[:-1]


def test_nothing_of_anyone_else_is_in_the_export(world):
    result, target = world.export()
    assert result.exit_code == 0, result.output
    text = b"".join(entries(target).values())
    for other in (b"bob's private words", b"carol's imported words", b"gus in globex",
                  BOB_FILE, CAROL_FILE, b"evt-b1\",\"room", b"bob@acme.test", b"carol.pdf",
                  b"globex"):  # fmt: skip
        assert other not in text, other
    # bob's export has his event and file, none of ada's
    result, bob_zip = world.export("bob.zip", who="bob@acme.test")
    assert result.exit_code == 0, result.output
    bob = entries(bob_zip)
    assert [json.loads(x)["id"] for x in bob["events.jsonl"].splitlines()] == ["evt-b1"]
    assert BOB_FILE in bob.values() and PHOTO not in bob.values()


def test_stdout_export_is_the_same_bytes_and_deterministic(world, monkeypatch):
    first, a = world.export("a.zip")
    second, b = world.export("b.zip")
    assert first.exit_code == second.exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    piped = world.run("admin", "export-participant", "prt-ada", "--tenant", "acme")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout_bytes == a.read_bytes()
    assert "exported participant prt-ada: 5 events, 3 media" in piped.stderr
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    third, c = world.export("c.zip")
    with zipfile.ZipFile(c) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_export_records_an_audit_row_with_counts_only(world):
    result, _ = world.export()
    assert result.exit_code == 0, result.output
    with world.store.read_session() as s:
        rows = s.query(world.m.AuditEntry).filter_by(action="participant.export").all()
    assert [(r.target, r.tenant_id) for r in rows] == [("participant:prt-ada", "tnt-acme")]
    assert rows[0].details["events"] == 5 and rows[0].details["media"] == 3
    assert "ada@acme.test" not in json.dumps(rows[0].details)


def test_terminal_stdout_is_refused(world, monkeypatch):
    monkeypatch.setattr(api, "stdout_is_terminal", lambda: True)
    result = world.run("--output", "json", "admin", "export-participant", "prt-ada",
                       "--tenant", "acme")  # fmt: skip
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"] == "SW_OUTPUT_IS_TERMINAL"
    assert "--to" in result.stderr and result.stdout_bytes == b""


def test_missing_media_file_is_refused_before_anything_is_written(world):
    os.unlink(world.store.media.path_for("tnt-acme", world.notes))
    result, target = world.export()
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_MEDIA_MISSING"
    assert not target.exists() and list(world.tmp.glob(".ada.zip*")) == []


def test_unknown_or_foreign_participant(world):
    result, target = world.export(who="gus@globex.test")
    assert result.exit_code == 1 and not target.exists()
    assert json.loads(result.stderr)["error"]["code"] == "SW_PARTICIPANT_NOT_FOUND"


def test_tenant_scope_from_the_admin_token(world, admin_token):
    other = admin_token.env(role="tenant_admin", tenant_id="tnt_globex")
    result, target = world.export(env=other)
    assert result.exit_code == 3 and not target.exists()
    assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    own = admin_token.env(role="tenant_admin", tenant_id="tnt_acme")
    result, target = world.export(env=own)
    assert result.exit_code == 0, result.output
    with world.store.read_session() as s:
        row = s.query(world.m.AuditEntry).filter_by(action="participant.export").one()
    assert row.actor_kind != "local"


# -- the check -----------------------------------------------------------------------------------


def test_verify_export_reports_a_valid_file(world):
    _, target = world.export()
    result = world.verify(target)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["format"] == "scaiwave.participant-export"
    assert (report["events"], report["media"], report["participants"]) == (5, 3, 1)
    assert report["entries"] == 9 and report["participant_id"] == "prt-ada"
    table = world.run("admin", "verify-export", str(target))
    assert table.exit_code == 0 and "scaiwave.participant-export" in table.stdout


def rewrite(source, target, *, drop=(), add=(), change=None):
    """A copy of the ZIP ``source`` with entries dropped, added, or changed (``change(name,
    data) -> data``), keeping integrity.json as it was."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = src.read(info)
            if change is not None:
                data = change(info.filename, data)
            if info.filename == "integrity.json":
                for name, extra in add:
                    out.writestr(name, extra)
            out.writestr(info, data)
    return target


def refused(world, path, code="SW_ZIP_INVALID") -> str:
    result = world.verify(path)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == code, error
    return error["message"]


def test_verify_export_refuses_a_tampered_file(world):
    _, good = world.export()
    data = good.read_bytes()
    at = data.index(PHOTO[:20])  # a stored media entry: one byte changed
    flipped = world.tmp / "flipped.zip"
    flipped.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    assert "media/" in refused(world, flipped)
    added = rewrite(good, world.tmp / "added.zip", add=[("notes/extra.txt", b"planted")])
    assert "does not list 'notes/extra.txt'" in refused(world, added)
    dropped = rewrite(good, world.tmp / "dropped.zip", drop=("integrity.json",))
    assert "no integrity.json" in refused(world, dropped)
    edited = rewrite(good, world.tmp / "edited.zip",
                     change=lambda n, d: d.replace(b"ada's", b"eve's") if n == "events.jsonl"
                     else d)  # fmt: skip
    assert "events.jsonl" in refused(world, edited)
    not_zip = world.tmp / "not.zip"
    not_zip.write_bytes(b"hello")
    assert "not a valid ZIP" in refused(world, not_zip)


def test_verify_export_refuses_contents_that_integrity_does_not_catch(world):
    """A ZIP whose integrity.json is right but whose contents are not an export's."""

    def build(name, entries_):
        buf = io.BytesIO()
        writer = api.zipbundle.ZipWriter(buf, integrity_format=name)
        for entry, data in entries_:
            writer.write_entry(entry, [data])
        writer.finish()
        path = world.tmp / "crafted.zip"
        path.write_bytes(buf.getvalue())
        return path

    _, good = world.export()
    files = entries(good)
    fmt = "scaiwave.participant-export.integrity"
    pretty = dict(files, **{"events.jsonl": b'{"id": "evt-a1"}\n'})
    path = build(fmt, [(n, pretty[n]) for n in ENTRIES])
    assert "events.jsonl line 1 is not canonical JSON" in refused(world, path, "SW_EXPORT_INVALID")
    unended = dict(files, **{"events.jsonl": files["events.jsonl"].rstrip(b"\n")})
    path = build(fmt, [(n, unended[n]) for n in ENTRIES])
    assert "events.jsonl line 5 does not end with a newline" in refused(
        world, path, "SW_EXPORT_INVALID"
    )
    path = build(fmt, [(n, files[n]) for n in ENTRIES[:3]])
    assert "expected events.jsonl here" in refused(world, path, "SW_EXPORT_INVALID")
    path = build("scaiwave.room-bundle.integrity", [("manifest.json", b"{}")])
    assert "not 'scaiwave.participant-export.integrity'" in refused(world, path)


# -- the tenant people export --------------------------------------------------------------------


def test_tenant_people_export_holds_every_participant_and_nothing_else(world):
    from scaiwave_admin.usecases import participant_export

    target = world.tmp / "people.zip"
    summary = participant_export.tenant_people_to_file(world.store, "tnt-acme", target)
    assert summary["participants"] == 2 and summary["file"] == str(target)
    assert summary["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    files = entries(target)
    assert list(files) == [
        "participants.jsonl",
        "workspace_members.jsonl",
        "room_members.jsonl",
        "role_assignments.jsonl",
        "integrity.json",
    ]

    def lines(name):
        return [json.loads(x) for x in files[name].decode().splitlines()]

    people = lines("participants.jsonl")
    assert [(p["id"], p["email"]) for p in people] == [
        ("prt-ada", "ada@acme.test"),
        ("prt-bob", "bob@acme.test"),
    ]
    assert [(w["participant_id"], w["workspace"], w["role"]) for w in
            lines("workspace_members.jsonl")] == [
        ("prt-ada", "design", "editor"), ("prt-ada", "general", "owner"),
        ("prt-bob", "design", "owner"),
    ]  # fmt: skip
    assert [(r["participant_id"], r["room_id"]) for r in lines("room_members.jsonl")] == [
        ("prt-ada", "room-ops"), ("prt-ada", "room-plans"), ("prt-bob", "room-old"),
        ("prt-bob", "room-ops"), ("prt-bob", "room-plans"), ("prt-bob", "room-quiet"),
    ]  # fmt: skip
    assert [(r["participant_id"], r["role"], r["workspace"]) for r in
            lines("role_assignments.jsonl")] == [
        ("prt-ada", "tenant_admin", None), ("prt-ada", "moderator", "design"),
    ]  # fmt: skip
    everything = b"".join(files.values())
    assert b"gus" not in everything and b"message" not in everything  # no events at all
    again = participant_export.tenant_people_to_file(world.store, "tnt-acme", world.tmp / "2.zip")
    assert again["sha256"] == summary["sha256"]

    result = world.verify(target)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "scaiwave.people-export" and report["participants"] == 2
    assert report["events"] == 0 and report["role_assignments"] == 2


def test_export_to_file_interface_for_erasure_and_tenant_deletion(world):
    """The functions other commands call (SPEC16): their arguments and summary keys."""
    from scaiwave_admin.usecases import participant_export

    target = world.tmp / "sub" / "ada.zip"
    target.parent.mkdir()
    summary = participant_export.export_to_file(world.store, "tnt-acme", "prt-ada", target)
    assert {"file", "bytes", "sha256", "events", "media", "rooms", "integrity_sha256"} <= set(
        summary
    )
    checked = participant_export.verify_file(target)
    assert {"file", "format", "entries", "events", "media", "participants"} <= set(checked)
    assert checked["valid"] is True and checked["integrity_sha256"] == summary["integrity_sha256"]
    with pytest.raises(api.NotFoundError):
        participant_export.export_to_file(world.store, "tnt-globex", "prt-ada", target)
    with pytest.raises(api.DomainError) as info:
        participant_export.verify_file(world.tmp / "sub")
    assert info.value.code == "SW_ZIP_INVALID"
