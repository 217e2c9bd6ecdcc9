"""`room import` on the database (SQLite and MariaDB through ``db_url``): who may import, what
is written, all or nothing."""

from __future__ import annotations

import json

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.testing import sample_room_events


@pytest.mark.parametrize(
    "who, role, active",
    [
        ("prt-viewer", "viewer", True),
        ("prt-none", None, True),
        ("prt-gone", "editor", False),
    ],
)
def test_import_needs_create_note_in_the_workspace(two_tenants, who, role, active):
    w = two_tenants
    w.participant("globex", who, role=role, active=active)
    room = w.room("acme", events=sample_room_events())
    bundle = w.export(room, "acme").stdout_bytes
    rooms_before = w.count(w.m.Room)
    result = w.imp(bundle, as_=who)
    assert result.exit_code == 3, result.stderr
    assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert w.count(w.m.Room) == rooms_before


def test_import_as_workspace_owner_works(two_tenants):
    w = two_tenants
    w.participant("globex", "prt-owner", role="owner")
    bundle = w.export(w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    result = w.imp(bundle, as_="prt-owner")
    assert result.exit_code == 0, result.stderr


def test_import_by_workspace_id_and_unknown_workspace(two_tenants):
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    assert w.imp(bundle, workspace="ws-globex-general").exit_code == 0
    result = w.imp(bundle, workspace="ws-acme-general")  # another tenant's workspace
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_WORKSPACE_NOT_FOUND"


def test_dry_run_reports_and_writes_nothing(two_tenants):
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    rooms, events, files = w.count(w.m.Room), w.count(w.m.Event), w.media_files()
    result = w.imp(bundle, "--dry-run")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["valid"] is True
    assert report["events"] == 9 and report["media"] == 1 and report["foreign_senders"] == 1
    assert report["reactions"] == 1 and report["redactions"] == 1
    assert (w.count(w.m.Room), w.count(w.m.Event), w.media_files()) == (rooms, events, files)


def test_a_rejection_late_in_the_manifest_leaves_nothing(two_tenants):
    """The last event is bad: every row written before it is rolled back, no media file stays."""
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events() * 300), "acme").stdout_bytes

    def poison(name, data):
        if name != fmt.MANIFEST:
            return data
        return data[: data.rindex(b"]}")] + b',{"id":"late"}]}'

    bad = bt.rezip(bundle, poison)
    state = (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.Media), w.media_files())
    result = w.imp(bad)
    assert result.exit_code == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID"
    assert error["details"]["path"].startswith("$.events[2700]")
    assert (w.count(w.m.Room), w.count(w.m.Event), w.count(w.m.Media), w.media_files()) == (state)


def test_import_refuses_a_sidekick_bundle(two_tenants):
    w = two_tenants
    data = bt.build_bundle(header=bt.sample_header(room={"type": "sidekick"}), events=[])
    result = w.imp(data)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_IMPORT_REFUSED"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0


def test_a_topic_at_the_columns_width_imports_and_a_longer_one_is_refused(two_tenants):
    """rooms.topic is TEXT (65,535 bytes on MariaDB): 64,000 bytes of topic import on both
    engines; 66,000 are refused before anything is written (not at INSERT)."""
    w = two_tenants
    fits = bt.build_bundle(header=bt.sample_header(room={"topic": "é" * 32_000}))
    result = w.imp(fits)
    assert result.exit_code == 0, result.output
    with w.store.session() as s:
        topics = [r.topic for r in s.query(w.m.Room).filter_by(tenant_id="tnt-globex")]
    assert topics == ["é" * 32_000]
    long = bt.build_bundle(header=bt.sample_header(room={"topic": "é" * 33_000}))
    result = w.imp(long)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_BUNDLE_INVALID"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 1


def test_importing_twice_makes_two_rooms_and_reuses_media(two_tenants):
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    first = json.loads(w.imp(bundle).stdout)
    files = w.media_files()
    second = json.loads(w.imp(bundle).stdout)
    assert first["room_id"] != second["room_id"]
    assert second["media_files_written"] == 0 and w.media_files() == files


def test_a_tenant_admin_token_reaches_only_its_tenant(two_tenants, admin_token):
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:3])
    bundle = w.export(room, "acme").stdout_bytes
    # a real signed ScaiKey token of globex's tenant admin, verified by the CLI
    w.cli.env.update(admin_token.env("tenant_admin", tenant_id="sk-globex", sub="alice"))
    for args in (
        ("room", "export", room, "--tenant", "acme"),
        ("room", "list", "--tenant", "acme"),
        ("room", "show", room, "--tenant", "acme"),
    ):
        result = w.cli.invoke("--output", "json", *args)
        assert result.exit_code == 3, (args, result.output)
        assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
        assert result.stdout_bytes == b""
    refused = w.imp(bundle, tenant="acme", as_="prt-acme")
    assert refused.exit_code == 3
    assert w.count(w.m.Room, tenant_id="tnt-acme") == 1
    allowed = w.imp(bundle)  # its own tenant
    assert allowed.exit_code == 0, allowed.stderr
    (entry,) = w.rows(w.m.AuditEntry, action="room.import")
    assert entry.actor == "scaikey:alice" and entry.actor_kind == "token"


def test_import_and_export_write_audit_rows(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    bundle = w.export(room, "acme").stdout_bytes
    (exported,) = w.rows(w.m.AuditEntry, action="room.export")
    assert exported.target == f"room:{room}" and exported.tenant_id == "tnt-acme"
    assert exported.details["events"] == 9 and exported.details["signed"] is False
    new_room = json.loads(w.imp(bundle).stdout)["room_id"]
    (imported,) = w.rows(w.m.AuditEntry, action="room.import")
    assert imported.target == f"room:{new_room}" and imported.tenant_id == "tnt-globex"
    assert imported.details["events"] == 8 and imported.details["source_room"] == room
    assert imported.actor.startswith("local:")
    # a refused import leaves no audit row either (same transaction)
    bad = bt.rezip(
        bundle, lambda n, d: d.replace(b'"hello"', b'"x"*') if n == "manifest.json" else d
    )
    assert w.imp(bad).exit_code == 1
    assert w.count(w.m.AuditEntry, action="room.import") == 1


def test_the_new_room_and_its_creator(two_tenants):
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events()), "acme").stdout_bytes
    new_room = json.loads(w.imp(bundle).stdout)["room_id"]
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
    bundle = w.export(w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    assert w.imp(bundle).exit_code == 0
    full = w.imp(bundle)
    assert full.exit_code == 1
    assert json.loads(full.stderr)["error"]["code"] == "SW_ROOM_CAPACITY"
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 1


@pytest.mark.parametrize("who", ["prt-acme", "prt-missing", "nobody@globex.test"])
def test_as_must_name_a_participant_of_the_tenant(two_tenants, who):
    """``--as`` goes through ``api.find_participant`` (id or e-mail, inside the tenant): an
    editor of another tenant (prt-acme) is not found here, exactly like an unknown id or
    e-mail: SW_PARTICIPANT_NOT_FOUND, exit 1. (Before the shared look-up this was exit 3,
    SW_AUTH_INSUFFICIENT_PERMISSION, "does not belong to tenant"; issue 12 changed it.)"""
    w = two_tenants
    bundle = w.export(w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    rooms_before = w.count(w.m.Room)
    result = w.imp(bundle, as_=who)
    assert result.exit_code == 1, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_PARTICIPANT_NOT_FOUND"
    assert who in error["message"] and "'globex'" in error["message"]
    assert w.count(w.m.Room) == rooms_before


def test_as_accepts_an_e_mail(two_tenants):
    w = two_tenants
    with w.store.transaction() as s:
        s.get(w.m.Participant, "prt-globex").email = "Editor@Globex.test"
    bundle = w.export(w.room("acme", events=sample_room_events()[:2]), "acme").stdout_bytes
    result = w.imp(bundle, as_="editor@globex.test")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["creator"] == "prt-globex"
    (room,) = w.rows(w.m.Room, id=out["room_id"])
    assert room.creator_id == "prt-globex"


def test_a_bundle_repeating_an_event_id_is_named_as_such(two_tenants):
    w = two_tenants
    events = bt.sample_events(5)
    events[4]["id"] = events[1]["id"]
    result = w.imp(bt.build_bundle(events=events))
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID" and "repeats the id" in error["message"]
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0
