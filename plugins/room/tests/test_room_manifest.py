"""The manifest (schema, JSON paths, relations, caps), the deterministic writer, signatures and
the deferred manifest check of an import."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import open_bundle
from scaiwave_room.bundle.signing import Ed25519Signer
from scaiwave_room.bundle.validate import validate
from scaiwave_room.bundle.writer import BundleWriter
from scaiwave_room.testing import assert_refused as refused
from scaiwave_room.testing import check_bundle as check
from scaiwave_room.testing import good_files

SMALL = Limits(max_uncompressed_bytes=1 << 20, max_entries=10)


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda e: e[0].update(origin_ts="1"), "$.events[0].origin_ts"),
        (lambda e: e[1].update(origin_ts=True), "$.events[1].origin_ts"),
        (lambda e: e[1].update(content="text"), "$.events[1].content"),
        (lambda e: e[3].pop("sender"), "$.events[3].sender"),
        (lambda e: e[4].update(surprise=1), "$.events[4]"),
        (lambda e: e[0].update(created_at="yesterday"), "$.events[0].created_at"),
        (lambda e: e[0].update(relates_to={"rel_type": "edit"}), "$.events[0].relates_to"),
        (lambda e: e[0].update(media="x"), "$.events[0].media"),
        (lambda e: e.append(7), "$.events[5]"),
    ],
)
def test_manifest_schema_errors_name_the_json_path(tmp_path, mutate, path):
    events = bt.sample_events(5)
    mutate(events)
    exc = refused(tmp_path, bt.build_bundle(events=events), path)
    assert exc.details["path"].startswith(path)


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda h: h["room"].pop("name"), "$.room.name"),
        (lambda h: h.update(format_version=2), "$.format_version"),
        (lambda h: h.update(format="zip"), "$.format"),
        (lambda h: h["senders"][0].update(local="yes"), "$.senders[0].local"),
        (lambda h: h.update(colour="blue"), "$.colour"),
        (lambda h: h["room"].update(created_at="soon"), "$.room.created_at"),
        (lambda h: h.pop("senders"), "$.senders"),
    ],
)
def test_header_schema_errors_name_the_json_path(tmp_path, mutate, path):
    header = bt.sample_header()
    mutate(header)
    exc = refused(tmp_path, bt.build_bundle(header=header, events=bt.sample_events(3)), path)
    assert exc.details["path"] == path


def test_unknown_sender(tmp_path):
    events = bt.sample_events(3)
    events[0]["sender"] = "@mallory:evil.example"
    refused(tmp_path, bt.build_bundle(events=events), "is not in $.senders")


def test_manifest_not_json(tmp_path):
    refused(tmp_path, bt.build_bundle(manifest=b'{"format": '), "not valid JSON")


def test_manifest_not_an_object(tmp_path):
    refused(tmp_path, bt.build_bundle(manifest=b"[1, 2]"), "must be a JSON object")


def test_content_over_64_kb(tmp_path):
    events = bt.sample_events(3)
    events[1]["content"] = {"body": "x" * (64 * 1024)}
    exc = refused(
        tmp_path, bt.build_bundle(events=events), "at most 65536", code="SW_CONTENT_TOO_LARGE"
    )
    assert exc.details["path"] == "$.events[1].content"


def test_content_too_deep(tmp_path):
    events = bt.sample_events(3)
    deep: dict = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    events[1]["content"] = deep
    refused(tmp_path, bt.build_bundle(events=events), "nests deeper")


@pytest.mark.parametrize("rel_type", ["edit", "redaction", "reaction", "reply"])
def test_relation_to_an_unknown_event(tmp_path, rel_type):
    events = bt.sample_events(4)
    events[3]["relates_to"] = {"rel_type": rel_type, "event_id": "evt-nowhere"}
    exc = refused(tmp_path, bt.build_bundle(events=events), "unknown event")
    assert exc.details["path"] == "$.events[3].relates_to.event_id"


def test_relation_to_a_later_event(tmp_path):
    events = bt.sample_events(4)
    events[0]["relates_to"] = {"rel_type": "edit", "event_id": events[3]["id"]}
    refused(tmp_path, bt.build_bundle(events=events), "a later event")


def test_relation_to_an_ambiguous_event(tmp_path):
    events = bt.sample_events(4)
    events[1]["id"] = events[0]["id"]
    events[3]["relates_to"] = {"rel_type": "edit", "event_id": events[0]["id"]}
    refused(tmp_path, bt.build_bundle(events=events), "repeats the id")


def test_other_relation_types_travel_and_bad_ones_are_refused(tmp_path):
    events = bt.sample_events(4)
    events[3]["relates_to"] = {"rel_type": "m.annotation", "event_id": events[0]["id"]}
    assert check(tmp_path, bt.build_bundle(events=events)).other_relations == 1
    events[3]["relates_to"] = {"rel_type": "Not A Type!", "event_id": events[0]["id"]}
    exc = refused(tmp_path, bt.build_bundle(events=events), "must be a relation type")
    assert exc.path == "$.events[3].relates_to.rel_type"


def test_threaded_reply_to_an_unknown_parent_is_a_problem_not_a_refusal(tmp_path):
    events = bt.sample_events(4)
    events[1]["content"]["reply_to_event_id"] = events[0]["id"]
    events[3]["content"]["reply_to_event_id"] = "evt-gone"
    report = check(tmp_path, bt.build_bundle(events=events))
    assert report.threaded_replies == 2
    assert report.problems == [
        "1 threaded reply names a parent that is not in the bundle (kept as they are)"
    ]


@pytest.mark.parametrize("kind", ["sidekick", "bridge", "incognito"])
def test_refused_room_types(tmp_path, kind):
    header = bt.sample_header(room={"type": kind})
    refused(
        tmp_path,
        bt.build_bundle(header=header, events=bt.sample_events(3)),
        kind,
        code="SW_ROOM_IMPORT_REFUSED",
    )


def test_federated_room_refused(tmp_path):
    header = bt.sample_header(room={"federated": True})
    refused(
        tmp_path,
        bt.build_bundle(header=header, events=bt.sample_events(3)),
        "federated",
        code="SW_ROOM_IMPORT_REFUSED",
    )


def test_events_cap(tmp_path):
    refused(
        tmp_path,
        bt.build_bundle(events=bt.sample_events(5)),
        "more than 4 events",
        limits=Limits(max_events=4),
    )


def test_header_after_events_is_refused(tmp_path):
    raw = b'{"events": [], ' + bt.manifest_bytes(bt.sample_header(), [])[1:]
    refused(tmp_path, bt.build_bundle(manifest=raw), "come before $.events")


def test_signed_bundle_verifies_and_tampering_is_caught(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw_private = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signer = Ed25519Signer(raw_private, key_id="fk-1")
    data = bt.build_bundle(media=bt.sample_media(), signer=signer)
    report = check(tmp_path, data, public_key=public)
    assert report.signed and report.signature_checked

    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    refused(tmp_path, data, "signed by another key", public_key=other)
    unsigned = bt.build_bundle(media=bt.sample_media())
    refused(tmp_path, unsigned, "not signed", public_key=public)

    # change one byte of the signed list: the signature no longer verifies
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = [(i.filename, zf.read(i)) for i in zf.infolist()]
    name, integrity = files[-1]
    forged = integrity.replace(b'"size":', b'"size": ', 1)
    import json

    body = json.loads(forged)
    body["entries"][0]["size"] += 0  # same values, but re-serialised with a new media entry
    extra = b"extra"
    body["entries"].append(
        {"name": fmt.media_entry_name(bt.sha(extra), "e"), "size": 5, "sha256": bt.sha(extra)}
    )
    entries = [bt.RawEntry(n, d, method=8) for n, d in files[:-1]]
    entries.append(bt.RawEntry(fmt.media_entry_name(bt.sha(extra), "e"), extra))
    entries.append(bt.RawEntry(fmt.INTEGRITY, fmt.dumps(body).encode(), method=8))
    refused(tmp_path, bt.raw_zip(entries), "does not verify", public_key=public)


def test_export_bytes_are_deterministic_and_zip_valid():
    media = bt.sample_media()
    a = bt.build_bundle(media=media)
    b = bt.build_bundle(media=media)
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        assert [i.filename for i in zf.infolist()][0] == fmt.MANIFEST
        assert zf.infolist()[-1].filename == fmt.INTEGRITY
        assert {i.date_time for i in zf.infolist()} == {fmt.ZIP_EPOCH}
        assert zf.testzip() is None


def test_source_date_epoch_sets_the_entry_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    data = bt.build_bundle()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.infolist()[0].date_time == (2026, 1, 1, 0, 0, 0)


def test_writer_works_on_a_pipe():
    import os
    import threading

    r, w = os.pipe()
    chunks = []

    def drain():
        with os.fdopen(r, "rb") as fh:
            chunks.append(fh.read())

    t = threading.Thread(target=drain)
    t.start()
    with os.fdopen(w, "wb") as out:
        writer = BundleWriter(out)
        writer.write_entry(fmt.MANIFEST, [bt.manifest_bytes(bt.sample_header(), [])])
        writer.finish()
    t.join()
    data = chunks[0]
    assert data == bt.build_bundle(events=[])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zlib.crc32(zf.read(fmt.MANIFEST)) == zf.getinfo(fmt.MANIFEST).CRC


def test_an_oversized_header_is_refused_early(tmp_path, monkeypatch):
    from scaiwave_room.bundle import stream

    senders = [
        {
            "id": f"@user{i}:far.example",
            "display_name": "x" * 50,
            "avatar_url": None,
            "local": False,
        }
        for i in range(3000)
    ]
    header = bt.sample_header(senders=senders)
    monkeypatch.setattr(stream, "MAX_HEADER_BYTES", 64 * 1024)
    monkeypatch.setattr(stream.read_header, "__defaults__", (64 * 1024,))
    refused(tmp_path, bt.build_bundle(header=header, events=[]), "the header")


def test_hash_buckets_spill_to_disk_and_keep_the_order():
    from scaiwave_room.bundle.buckets import HashBuckets

    spill = HashBuckets(2, limit=5)
    rows = [((i * 7919) % 600 - 300, i) for i in range(100)]
    for row in rows:
        spill.add(*row)
    assert spill.rows == 100 and spill._file is not None
    for b in range(256):
        hashes, positions = spill.bucket(b)
        assert list(zip(hashes, positions, strict=True)) == [r for r in rows if r[0] & 255 == b]
    spill.close()


def test_relation_checks_hold_when_the_id_hashes_spill(tmp_path, monkeypatch):
    from scaiwave_room.bundle.buckets import HashBuckets

    monkeypatch.setattr(HashBuckets, "LIMIT", 3)
    events = bt.sample_events(40)
    events[30]["relates_to"] = {"rel_type": "reaction", "event_id": events[29]["id"]}
    events[35]["content"]["reply_to_event_id"] = events[1]["id"]
    assert check(tmp_path, bt.build_bundle(events=events)).events == 40
    events[33]["relates_to"] = {"rel_type": "reaction", "event_id": events[34]["id"]}
    refused(tmp_path, bt.build_bundle(events=events), "points at a later event")
    events[33]["relates_to"] = None
    events[38]["id"] = events[12]["id"]
    exc = refused(tmp_path, bt.build_bundle(events=events), "repeats the id of $.events[12]")
    assert exc.path == "$.events[38].id"


def _deferred(tmp_path, data):
    path = tmp_path / "d.zip"
    path.write_bytes(data)
    with open_bundle(path, Limits(), defer_manifest=True) as opened:
        return validate(opened, Limits())


def test_a_deferred_manifest_check_still_catches_a_changed_manifest(tmp_path):
    """The import inflates manifest.json once and checks its sha256 at the end of the pass."""
    good = bt.build_bundle(media=bt.sample_media())
    assert _deferred(tmp_path, good).events == 5
    files, _ = good_files()
    changed = [
        (n, d.replace(b"message 4", b"message 5") if n == fmt.MANIFEST else d) for n, d in files
    ]
    entries = [bt.RawEntry(n, d, method=8) for n, d in changed]
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    with pytest.raises(Exception) as info:
        _deferred(tmp_path, bt.raw_zip(entries))
    assert info.value.code == "SW_BUNDLE_INVALID"
    assert "manifest.json' does not match its sha256" in str(info.value)


def test_a_deferred_manifest_with_a_corrupt_deflate_stream_is_refused(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    manifest = entries[0]
    manifest.data = (
        manifest.data[:40] + bytes(b ^ 0x5A for b in manifest.data[40:80]) + (manifest.data[80:])
    )
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    with pytest.raises(Exception) as info:
        _deferred(tmp_path, bt.raw_zip(entries))
    assert info.value.code == "SW_BUNDLE_INVALID", repr(info.value)


@pytest.mark.parametrize(
    "text, stored",
    [
        ("2026-01-01T09:00:00.123456Z", "2026-01-01 09:00:00.123456"),
        ("2026-01-01T10:00:00.5+01:00", "2026-01-01 09:00:00.500000"),
        ("2026-01-01T09:00:00", "2026-01-01 09:00:00.000000"),
        ("2026-W01-1T00:00:00.000000Z", "2025-12-29 00:00:00.000000"),  # parsed, not sliced
        (None, None),
    ],
)
def test_import_times_are_stored_as_utc_text(text, stored):
    from scaiwave_room.usecases.import_rows import db_time

    assert db_time(text) == stored
