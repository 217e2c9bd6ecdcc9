"""`room export/import/list/show` on the database (SQLite and MariaDB through ``db_url``)."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
from scaiwave_room import bundle as fmt
from scaiwave_room import testing as bt
from scaiwave_room.testing import DB_SERVER as SERVER
from scaiwave_room.testing import sample_room_events


def export(world, room_id, tenant, *extra, to=None):
    args = ["room", "export", room_id, "--tenant", tenant, *extra]
    if to is not None:
        args += ["--to", str(to)]
    return world.cli.invoke(*args)


def imp(world, bundle: bytes, *extra, workspace="general", tenant="globex", as_="prt-globex"):
    return world.cli.invoke(
        "--output",
        "json",
        "room",
        "import",
        workspace,
        "--tenant",
        tenant,
        "--as",
        as_,
        *extra,
        input=bundle,
    )


@pytest.fixture
def two_tenants(world):
    world.tenant("acme")
    world.tenant("globex")
    return world


def test_export_import_export_keeps_the_room(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    result = export(w, room, "acme")
    assert result.exit_code == 0, result.stderr
    bundle = result.stdout_bytes
    manifest = bt.read_manifest(bundle)
    assert manifest["room"]["name"] == "Design review"
    assert [e["type"] for e in manifest["events"]][:3] == [
        "swp.room.message",
        "swp.room.message",
        "swp.reaction",
    ]
    assert manifest["events"][2]["relates_to"] == {
        "rel_type": "reaction",
        "event_id": manifest["events"][0]["id"],
    }
    senders = {s["id"]: s for s in manifest["senders"]}
    assert senders[f"@prt-acme:{SERVER}"]["local"] is True
    assert senders["@bob:far.example"]["local"] is False
    assert len(manifest["media"]) == 1

    verify = w.cli.invoke("--output", "json", "room", "verify", input=bundle)
    assert verify.exit_code == 0, verify.stderr
    assert json.loads(verify.stdout)["events"] == 9

    before_media = set(w.media_files())
    result = imp(w, bundle)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    new_room = out["room_id"]
    assert out["events"] == 8  # the read marker is not imported
    assert out["read_markers_skipped"] == 1
    m = w.m
    rooms = w.rows(m.Room, id=new_room)
    assert rooms[0].tenant_id == "tnt-globex" and rooms[0].creator_id == "prt-globex"
    events = w.rows(m.Event, order_by=m.Event.stream_position, room_id=new_room)
    assert len(events) == 8
    positions = [e.stream_position for e in events]
    assert positions == sorted(positions) and len(set(positions)) == 8
    assert all(e.do_not_index for e in events)
    assert all(e.sender_id == "prt-globex" for e in events)
    assert all(e.tenant_id == "tnt-globex" for e in events)
    assert events[0].content["_imported_sender"]["fqid"] == f"@prt-acme:{SERVER}"
    assert events[5].content["_imported_sender"] == {
        "display_name": "Bob",
        "avatar_url": None,
        "fqid": "@bob:far.example",
    }
    assert "sidekick" not in events[6].content
    assert events[1].original_content == {"body": "helo"}
    assert events[1].edited_at is not None
    assert events[2].relates_to_id == events[0].id  # the reaction follows its target's new id
    assert events[2].relation_type == "reaction"
    assert events[4].redacted_at is not None and events[4].content == {
        "_imported_sender": events[0].content["_imported_sender"]
    }
    assert events[7].content["reply_to_event_id"] == events[0].id  # the thread follows too
    assert {e.id for e in events}.isdisjoint({f"{room}-e{i}" for i in range(9)})
    # media stored once more under the destination tenant, same sha256
    sha = manifest["media"][0]["sha256"]
    new_files = set(w.media_files()) - before_media
    assert len(new_files) == 1 and new_files.pop().endswith(sha)
    attachments = w.rows(m.Media, room_id=new_room)
    assert [(a.sha256, a.tenant_id) for a in attachments] == [(sha, "tnt-globex")]

    again = export(w, new_room, "globex")
    assert again.exit_code == 0, again.stderr
    second = bt.read_manifest(again.stdout_bytes)
    strip = [e for e in manifest["events"] if e["type"] != "swp.read_marker"]
    assert bt.normalise_manifest(second) == bt.normalise_manifest(
        {**manifest, "events": strip}, drop_sidekick=True
    )


def test_export_is_deterministic_and_source_date_epoch_sets_the_time(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    a = export(w, room, "acme").stdout_bytes
    b = export(w, room, "acme").stdout_bytes
    assert a == b
    assert bt.read_manifest(a)["exported_at"] == "2026-01-01T09:00:08.000000Z"
    c = w.cli.invoke("room", "export", room, "--tenant", "acme", env={"SOURCE_DATE_EPOCH": "0"})
    assert bt.read_manifest(c.stdout_bytes)["exported_at"] == "1970-01-01T00:00:00.000000Z"
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        names = [i.filename for i in zf.infolist()]
        assert names[0] == fmt.MANIFEST and names[-1] == fmt.INTEGRITY
        assert {i.date_time for i in zf.infolist()} == {fmt.ZIP_EPOCH}


def test_export_to_file_writes_whole_file_and_reports(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    target = tmp_path / "room.zip"
    result = w.cli.invoke(
        "--output", "json", "room", "export", room, "--tenant", "acme", "--to", str(target)
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["events"] == 9 and record["media"] == 1
    assert record["bytes"] == target.stat().st_size
    assert target.read_bytes() == export(w, room, "acme").stdout_bytes


def test_cross_tenant_room_is_reported_like_a_missing_room(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:2])
    foreign = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "globex")
    missing = w.cli.invoke("--output", "json", "room", "export", "room-nope", "--tenant", "globex")
    assert foreign.exit_code == missing.exit_code == 1
    a = json.loads(foreign.stderr)["error"]
    b = json.loads(missing.stderr)["error"]
    assert a["code"] == b["code"] == "SW_ROOM_NOT_FOUND"
    assert a["message"].replace(room, "X") == b["message"].replace("room-nope", "X")
    assert foreign.stdout_bytes == b""
    show = w.cli.invoke("--output", "json", "room", "show", room, "--tenant", "globex")
    assert json.loads(show.stderr)["error"]["code"] == "SW_ROOM_NOT_FOUND"


@pytest.mark.parametrize(
    "kind, federated",
    [("sidekick", False), ("bridge", False), ("incognito", False), ("group", True)],
)
def test_export_refuses_room_types(two_tenants, kind, federated):
    w = two_tenants
    room = w.room("acme", type=kind, federated=federated, events=sample_room_events()[:1])
    result = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "acme")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_EXPORT_REFUSED"
    assert result.stdout_bytes == b""


def test_export_refuses_a_terminal(two_tenants, monkeypatch):
    from scaiwave_room import transfer

    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:1])
    monkeypatch.setattr(transfer, "_stdout_isatty", lambda: True)
    result = w.cli.invoke("room", "export", room, "--tenant", "acme")
    assert result.exit_code == 2
    assert "SW_OUTPUT_IS_TERMINAL" in result.stderr and "--to" in result.stderr
    assert result.stdout_bytes == b""


def test_unknown_tenant(two_tenants):
    result = two_tenants.cli.invoke("room", "export", "r", "--tenant", "nope")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr


@pytest.mark.parametrize(
    "who, role, active",
    [
        ("prt-acme", None, True),
        ("prt-viewer", "viewer", True),
        ("prt-none", None, True),
        ("prt-gone", "editor", False),
        ("prt-missing", None, None),
    ],
)
def test_import_needs_create_note_in_the_workspace(two_tenants, who, role, active):
    w = two_tenants
    if who not in ("prt-acme", "prt-missing"):
        w.participant("globex", who, role=role, active=active)
    room = w.room("acme", events=sample_room_events())
    bundle = export(w, room, "acme").stdout_bytes
    rooms_before = w.count(w.m.Room)
    result = imp(w, bundle, as_=who)
    assert result.exit_code == 3, result.stderr
    assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert w.count(w.m.Room) == rooms_before


def test_import_as_workspace_owner_works(two_tenants):
    w = two_tenants
    w.participant("globex", "prt-owner", role="owner")
    bundle = export(w, w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    result = imp(w, bundle, as_="prt-owner")
    assert result.exit_code == 0, result.stderr


def test_import_by_workspace_id_and_unknown_workspace(two_tenants):
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    assert imp(w, bundle, workspace="ws-globex-general").exit_code == 0
    result = imp(w, bundle, workspace="ws-acme-general")  # another tenant's workspace
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_WORKSPACE_NOT_FOUND"


def test_dry_run_reports_and_writes_nothing(two_tenants):
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    rooms, events, files = w.count(w.m.Room), w.count(w.m.Event), w.media_files()
    result = imp(w, bundle, "--dry-run")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["valid"] is True
    assert report["events"] == 9 and report["media"] == 1 and report["foreign_senders"] == 1
    assert report["reactions"] == 1 and report["redactions"] == 1
    assert (w.count(w.m.Room), w.count(w.m.Event), w.media_files()) == (rooms, events, files)


def test_a_rejection_late_in_the_manifest_leaves_nothing(two_tenants):
    """The last event is bad: every row written before it is rolled back, no media file stays."""
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events() * 300), "acme").stdout_bytes

    def poison(name, data):
        if name != fmt.MANIFEST:
            return data
        return data[: data.rindex(b"]}")] + b',{"id":"late"}]}'

    bad = bt.rezip(bundle, poison)
    state = (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.Media), w.media_files())
    result = imp(w, bad)
    assert result.exit_code == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID"
    assert error["details"]["path"].startswith("$.events[2700]")
    assert (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.Media), w.media_files()) == (state)


def test_import_refuses_a_sidekick_bundle(two_tenants):
    w = two_tenants
    data = bt.build_bundle(header=bt.sample_header(room={"type": "sidekick"}), events=[])
    result = imp(w, data)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_IMPORT_REFUSED"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0


def test_importing_twice_makes_two_rooms_and_reuses_media(two_tenants):
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    first = json.loads(imp(w, bundle).stdout)
    files = w.media_files()
    second = json.loads(imp(w, bundle).stdout)
    assert first["room_id"] != second["room_id"]
    assert second["media_files_written"] == 0 and w.media_files() == files


def test_list_and_show(two_tenants):
    w = two_tenants
    a = w.room("acme", events=sample_room_events(), name="Alpha")
    w.room("acme", type="sidekick", name="Helper")
    w.room("globex", name="Theirs")
    rows = w.cli.json("room", "list", "--tenant", "acme")
    assert [r["name"] for r in rows] == ["Alpha", "Helper"]
    assert rows[0]["events"] == 9 and rows[0]["workspace"] == "general"
    rows = w.cli.json("room", "list", "--tenant", "acme", "--type", "group")
    assert [r["id"] for r in rows] == [a]
    shown = w.cli.json("room", "show", a, "--tenant", "acme")
    assert shown["exportable"] is True and shown["events"] == 9
    for fmt_ in ("table", "csv", "jsonl"):
        result = w.cli.invoke("--output", fmt_, "room", "list", "--tenant", "acme")
        assert result.exit_code == 0 and "Alpha" in result.stdout


def test_export_sign_and_verify_with_the_public_key(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    unsigned = w.cli.invoke(
        "--output", "json", "room", "export", room, "--tenant", "acme", "--sign"
    )
    assert unsigned.exit_code == 1
    assert json.loads(unsigned.stderr)["error"]["code"] == "SW_FEDERATION_KEY_MISSING"
    assert unsigned.stdout_bytes == b""

    key_id, public = w.federation_key()
    signed = export(w, room, "acme", "--sign")
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout_bytes == export(w, room, "acme", "--sign").stdout_bytes  # Ed25519: same
    ok = w.cli.invoke(
        "--output", "json", "room", "verify", "--public-key", public, input=signed.stdout_bytes
    )
    assert ok.exit_code == 0, ok.stderr
    record = json.loads(ok.stdout)
    assert record["key_id"] == key_id and record["signature_checked"] is True
    assert record["public_key"] == public
    other = base64.b64encode(bytes(32)).decode()
    bad = w.cli.invoke("room", "verify", "--public-key", other, input=signed.stdout_bytes)
    assert bad.exit_code == 1
    # the private key never shows up in any output
    with w.store.session() as s:
        private = s.get(w.m.FederationKey, key_id).private_key
    for result in (signed, ok, bad):
        assert private not in result.stderr and private.encode() not in result.stdout_bytes


def test_export_signs_with_an_encrypted_key(two_tenants):
    from cryptography.fernet import Fernet

    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:2])
    secret = Fernet.generate_key().decode()
    _, public = w.federation_key(encrypted_with=secret)
    missing = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "acme", "--sign")
    assert missing.exit_code == 2
    assert json.loads(missing.stderr)["error"]["code"] == "SW_KEY_ENCRYPTION_KEY_MISSING"
    signed = w.cli.invoke(
        "room", "export", room, "--tenant", "acme", "--sign",
        env={"SCAIWAVE_KEY_ENCRYPTION_KEY": secret},
    )  # fmt: skip
    assert signed.exit_code == 0, signed.stderr
    ok = w.cli.invoke("room", "verify", "--public-key", public, input=signed.stdout_bytes)
    assert ok.exit_code == 0, ok.stderr
    assert secret not in signed.output


def test_progress_only_on_a_terminal(two_tenants, monkeypatch):
    from scaiwave_room import transfer

    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    quiet = export(w, room, "acme")
    assert "events" not in quiet.stderr.replace("9 events", "")
    monkeypatch.setattr(transfer, "_stderr_isatty", lambda: True)
    loud = export(w, room, "acme")
    assert loud.exit_code == 0
    assert "\rexport: events 9" in loud.stderr
    assert loud.stdout_bytes == quiet.stdout_bytes  # progress never touches the data


def test_media_ids_in_content_travel_as_sha256(two_tenants):
    w = two_tenants
    data = b"diagram-bytes" * 20
    room = w.room(
        "acme",
        events=[
            {
                "content": {"msgtype": "swp.media", "body": "d.png"},
                "media": [("d.png", data)],
                "media_ref": True,
            },
        ],
    )
    bundle = export(w, room, "acme").stdout_bytes
    event = bt.read_manifest(bundle)["events"][0]
    sha = bt.sha(data)
    assert event["content"]["media_id"] == f"sha256:{sha}" and event["media"] == [sha]
    new_room = json.loads(imp(w, bundle).stdout)["room_id"]
    m = w.m
    (row,) = w.rows(m.Event, room_id=new_room)
    (attachment,) = w.rows(m.Media, room_id=new_room)
    assert row.content["media_id"] == attachment.id and attachment.event_id == row.id
    again = bt.read_manifest(export(w, new_room, "globex").stdout_bytes)["events"][0]
    assert again["content"]["media_id"] == f"sha256:{sha}"


def _as_tenant_admin(monkeypatch, scaikey_tenant_id):
    """The admin token's verified identity, as ``tokens.verify_admin_token`` would return it."""
    from scaiwave_cli import access

    actor = access.Actor(
        name="token:alice", kind="token", scope=access.TENANT, tenant_id=scaikey_tenant_id
    )
    monkeypatch.setattr(access, "resolve_actor", lambda settings: actor)


def test_a_tenant_admin_token_reaches_only_its_tenant(two_tenants, monkeypatch):
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:3])
    bundle = export(w, room, "acme").stdout_bytes
    _as_tenant_admin(monkeypatch, "sk-globex")
    for args in (
        ("room", "export", room, "--tenant", "acme"),
        ("room", "list", "--tenant", "acme"),
        ("room", "show", room, "--tenant", "acme"),
    ):
        result = w.cli.invoke("--output", "json", *args)
        assert result.exit_code == 3, (args, result.output)
        assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
        assert result.stdout_bytes == b""
    refused = imp(w, bundle, tenant="acme", as_="prt-acme")
    assert refused.exit_code == 3
    assert w.count(w.m.Room, tenant_id="tnt-acme") == 1
    allowed = imp(w, bundle)  # its own tenant
    assert allowed.exit_code == 0, allowed.stderr
    (entry,) = w.rows(w.m.AuditEntry, action="room.import")
    assert entry.actor == "token:alice" and entry.actor_kind == "token"


def test_import_and_export_write_audit_rows(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    bundle = export(w, room, "acme").stdout_bytes
    (exported,) = w.rows(w.m.AuditEntry, action="room.export")
    assert exported.target == f"room:{room}" and exported.tenant_id == "tnt-acme"
    assert exported.details["events"] == 9 and exported.details["signed"] is False
    new_room = json.loads(imp(w, bundle).stdout)["room_id"]
    (imported,) = w.rows(w.m.AuditEntry, action="room.import")
    assert imported.target == f"room:{new_room}" and imported.tenant_id == "tnt-globex"
    assert imported.details["events"] == 8 and imported.details["source_room"] == room
    assert imported.actor.startswith("local:")
    # a refused import leaves no audit row either (same transaction)
    bad = bt.rezip(
        bundle, lambda n, d: d.replace(b'"hello"', b'"x"*') if n == "manifest.json" else d
    )
    assert imp(w, bad).exit_code == 1
    assert w.count(w.m.AuditEntry, action="room.import") == 1


def test_the_new_room_and_its_creator(two_tenants):
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    new_room = json.loads(imp(w, bundle).stdout)["room_id"]
    (room,) = w.rows(w.m.Room, id=new_room)
    assert new_room.startswith("room-") and room.workspace_id == "ws-globex-general"
    assert (room.type, room.state, room.name, room.topic) == (
        "group",
        "open",
        "Design review",
        "weekly",
    )
    assert room.do_not_index is True and room.federated is False
    (member,) = w.rows(w.m.RoomMember, room_id=new_room)
    assert (member.participant_id, member.tenant_id, member.power_level) == (
        "prt-globex",
        "tnt-globex",
        100,
    )
    # no shadow participants: the foreign authors stay inline
    assert w.count(w.m.Participant, tenant_id="tnt-globex") == 1
    (media,) = w.rows(w.m.Media, room_id=new_room)
    assert media.id.startswith("med-") and media.uploader_id == "prt-globex"
    assert media.storage_key == f"tnt-globex/{media.sha256[:2]}/{media.sha256}"
    assert w.store.media.read_bytes("tnt-globex", media.sha256) == b"\x89PNG-sample-bytes" * 50


def test_room_capacity_is_honoured(world):
    w = world
    w.tenant("acme")
    w.tenant("globex", max_rooms=1)
    bundle = export(w, w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    assert imp(w, bundle).exit_code == 0
    full = imp(w, bundle)
    assert full.exit_code == 1
    assert json.loads(full.stderr)["error"]["code"] == "SW_ROOM_CAPACITY"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 1


def test_a_participant_of_another_tenant_cannot_import(two_tenants):
    w = two_tenants
    bundle = export(w, w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    result = imp(w, bundle, as_="prt-acme")  # an editor, but in acme
    assert result.exit_code == 3
    assert "does not belong to tenant 'globex'" in json.loads(result.stderr)["error"]["message"]


def test_federated_and_shadow_participants_are_foreign_senders(two_tenants):
    w = two_tenants
    w.participant(
        "acme", "prt-fed", kind="federated", fqid="@carol:peer.example", display_name="Carol"
    )
    w.participant("acme", "prt-shadow", kind="shadow", display_name="Dan")
    room = w.room(
        "acme",
        events=[
            {"content": {"body": "local"}},
            {"content": {"body": "federated"}, "sender": "prt-fed"},
            {"content": {"body": "shadow"}, "sender": "prt-shadow"},
        ],
    )
    manifest = bt.read_manifest(export(w, room, "acme").stdout_bytes)
    senders = {s["id"]: s for s in manifest["senders"]}
    assert senders["@carol:peer.example"] == {
        "id": "@carol:peer.example",
        "display_name": "Carol",
        "avatar_url": None,
        "local": False,
    }
    assert senders[f"@prt-shadow:{SERVER}"]["local"] is False
    assert senders[f"@prt-acme:{SERVER}"]["local"] is True
    assert [e["sender"] for e in manifest["events"]] == [
        f"@prt-acme:{SERVER}",
        "@carol:peer.example",
        f"@prt-shadow:{SERVER}",
    ]


def test_export_stops_before_writing_when_media_is_missing(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    for path in w.media_files():
        import os

        os.unlink(path)
    result = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "acme")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_MEDIA_MISSING"
    assert result.stdout_bytes == b""


def test_export_refuses_a_media_file_that_changed(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    (path,) = w.media_files()
    with open(path, "r+b") as fh:
        fh.write(b"X")
    target = tmp_path / "room.zip"
    result = w.cli.invoke(
        "--output", "json", "room", "export", room, "--tenant", "acme", "--to", str(target)
    )
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_MEDIA_CORRUPT"
    assert not target.exists() and not list(tmp_path.glob(".room.zip.partial-*"))


def test_list_filters_by_workspace_and_state(two_tenants):
    w = two_tenants
    keep = w.room("acme", name="Kept")
    closed = w.room("acme", name="Closed")
    with w.store.transaction() as s:
        s.get(w.m.Room, closed).state = "closed"
    assert [r["id"] for r in w.cli.json("room", "list", "--tenant", "acme", "--state", "open")] == [
        keep
    ]
    rows = w.cli.json("room", "list", "--tenant", "acme", "--workspace", "ws-acme-general")
    assert {r["id"] for r in rows} == {keep, closed}
    missing = w.cli.invoke("room", "list", "--tenant", "acme", "--workspace", "nope")
    assert missing.exit_code == 1 and "SW_WORKSPACE_NOT_FOUND" in missing.stderr
    shown = w.cli.json("room", "show", keep, "--tenant", "acme")
    assert shown["events"] == 0 and shown["members"] == 0 and shown["media"] == 0


def test_a_bundle_repeating_an_event_id_is_named_as_such(two_tenants):
    w = two_tenants
    events = bt.sample_events(5)
    events[4]["id"] = events[1]["id"]
    result = imp(w, bt.build_bundle(events=events))
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID" and "repeats the id" in error["message"]
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0
