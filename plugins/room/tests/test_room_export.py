"""`room export`, `list` and `show` on the database (SQLite and MariaDB through ``db_url``), and
the export -> import -> export round trip."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import zipfile

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.testing import DB_SERVER as SERVER
from scaiwave_room.testing import sample_room_events

from scaiwave_cli import api


def test_export_import_export_keeps_the_room(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    result = w.export(room, "acme")
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
    result = w.imp(bundle)
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

    again = w.export(new_room, "globex")
    assert again.exit_code == 0, again.stderr
    second = bt.read_manifest(again.stdout_bytes)
    strip = [e for e in manifest["events"] if e["type"] != "swp.read_marker"]
    assert bt.normalise_manifest(second) == bt.normalise_manifest(
        {**manifest, "events": strip}, drop_sidekick=True
    )


def test_export_is_deterministic_and_source_date_epoch_sets_the_time(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    a = w.export(room, "acme").stdout_bytes
    b = w.export(room, "acme").stdout_bytes
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
    assert target.read_bytes() == w.export(room, "acme").stdout_bytes


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
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:1])
    monkeypatch.setattr(api, "stdout_is_terminal", lambda: True)
    result = w.cli.invoke("room", "export", room, "--tenant", "acme")
    assert result.exit_code == 2
    assert "SW_OUTPUT_IS_TERMINAL" in result.stderr and "--to" in result.stderr
    assert result.stdout_bytes == b""


def test_unknown_tenant(two_tenants):
    result = two_tenants.cli.invoke("room", "export", "r", "--tenant", "nope")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr


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
    signed = w.export(room, "acme", "--sign")
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout_bytes == w.export(room, "acme", "--sign").stdout_bytes  # Ed25519: same
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


def test_progress_counts_events_and_bytes(two_tenants, monkeypatch):
    """Export and import report through ``api.progress``: the export's total is the room's
    event count and both advance bytes (the import's are the manifest's, no longer 0 B); with
    stderr not a terminal nothing is printed, and progress never touches the data."""
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    quiet = w.export(room, "acme")
    assert "events" not in quiet.stderr.replace("9 events", "")
    bars = []
    real = api.progress

    @contextlib.contextmanager
    def recording(label, *, total=None, unit="items"):
        with real(label, total=total, unit=unit) as bar:
            bars.append((label, unit, bar))
            yield bar

    monkeypatch.setattr(api, "progress", recording)
    loud = w.export(room, "acme")
    assert loud.exit_code == 0, loud.stderr
    assert loud.stdout_bytes == quiet.stdout_bytes
    ((label, unit, bar),) = bars
    assert room in label and unit == "events"
    assert (bar.total, bar.completed, bar.nbytes) == (9, 9, len(loud.stdout_bytes))

    bars.clear()
    result = w.imp(loud.stdout_bytes)
    assert result.exit_code == 0, result.stderr
    ((label, unit, bar),) = bars
    with zipfile.ZipFile(io.BytesIO(loud.stdout_bytes)) as zf:
        manifest_size = zf.getinfo(fmt.MANIFEST).file_size
    assert (bar.total, bar.completed, bar.nbytes) == (9, 9, manifest_size)


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
    bundle = w.export(room, "acme").stdout_bytes
    event = bt.read_manifest(bundle)["events"][0]
    sha = bt.sha(data)
    assert event["content"]["media_id"] == f"sha256:{sha}" and event["media"] == [sha]
    new_room = json.loads(w.imp(bundle).stdout)["room_id"]
    m = w.m
    (row,) = w.rows(m.Event, room_id=new_room)
    (attachment,) = w.rows(m.Media, room_id=new_room)
    assert row.content["media_id"] == attachment.id and attachment.event_id == row.id
    again = bt.read_manifest(w.export(new_room, "globex").stdout_bytes)["events"][0]
    assert again["content"]["media_id"] == f"sha256:{sha}"


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
    manifest = bt.read_manifest(w.export(room, "acme").stdout_bytes)
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
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "room.zip"
    result = w.cli.invoke(
        "--output", "json", "room", "export", room, "--tenant", "acme", "--to", str(target)
    )
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_MEDIA_CORRUPT"
    assert not target.exists() and not list(target.parent.iterdir())  # no temporary file left


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
