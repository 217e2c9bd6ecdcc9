"""`room export-all` and `room verify-all` (issue 17), on SQLite and MariaDB (``db_url``), with
local worker processes (``--workers 2``): the bundles are `room export`'s bytes, the manifest
is deterministic and written last, a re-run resumes, and verify-all catches what changed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from room_export_all_helpers import (  # noqa: E402
    EPOCH,
    EPOCH_TEXT,
    error_of,
    export_all,
    files_of,
    seed,
    sha256,
    verify_all,
)

EXPORTED = ["room-a", "room-b", "room-c"]  # open and archived; room-d is closed, room-e refused


def test_export_all_writes_each_rooms_bundle_and_the_manifest_last(world, tmp_path):
    w = world
    seed(w)
    out = tmp_path / "acme-export"
    result = export_all(w, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rooms"] == 3 and summary["exported"] == 3 and summary["kept"] == 0
    assert summary["failed"] == 0 and summary["refused"] == 1 and summary["not_selected"] == 1
    assert summary["exported_at"] == EPOCH_TEXT
    assert files_of(out) == [
        "export-state.json",
        *(f"rooms/{r}.zip" for r in EXPORTED),
        "tenant-manifest.integrity.json",
        "tenant-manifest.json",
    ]
    # each bundle is the bytes `room export --to` writes with the same export time
    for room_id in EXPORTED:
        single = tmp_path / f"{room_id}.zip"
        alone = w.cli.invoke(
            "room", "export", room_id, "--tenant", "acme", "--to", str(single),
            env={"SOURCE_DATE_EPOCH": EPOCH},
        )  # fmt: skip
        assert alone.exit_code == 0, alone.output
        assert (out / "rooms" / f"{room_id}.zip").read_bytes() == single.read_bytes()

    raw = (out / "tenant-manifest.json").read_bytes()
    manifest = json.loads(raw)
    assert raw == (json.dumps(manifest, sort_keys=True, separators=(",", ":")) + "\n").encode()
    assert manifest["format"] == "scaiwave.tenant-export" and manifest["format_version"] == 1
    assert manifest["exported_at"] == EPOCH_TEXT
    assert manifest["parameters"] == {
        "tenant": "acme",
        "tenant_id": "tnt-acme",
        "states": ["open", "archived"],
        "server_name": w.settings.server_name,
        "exported_at": int(EPOCH),
    }
    assert [r["id"] for r in manifest["rooms"]] == EXPORTED
    a = manifest["rooms"][0]
    assert a == {
        "id": "room-a",
        "name": "Alpha",
        "type": "group",
        "state": "open",
        "file": "rooms/room-a.zip",
        "bytes": (out / "rooms/room-a.zip").stat().st_size,
        "sha256": sha256(out / "rooms/room-a.zip"),
        "events": 9,
        "media": 1,
    }
    assert manifest["rooms"][2]["state"] == "archived"
    assert manifest["refused"] == [
        {
            "id": "room-e",
            "name": "Helper",
            "type": "sidekick",
            "state": "open",
            "reason": "sidekick room",
            "code": "SW_ROOM_EXPORT_REFUSED",
        }
    ]
    assert manifest["totals"] == {
        "rooms": 3,
        "events": 14,
        "media": 1,
        "bytes": sum(r["bytes"] for r in manifest["rooms"]),
    }
    integrity = json.loads((out / "tenant-manifest.integrity.json").read_bytes())
    assert integrity["entries"] == [
        {
            "name": "tenant-manifest.json",
            "size": len(raw),
            "sha256": sha256(out / "tenant-manifest.json"),
        }
    ]
    assert (out.stat().st_mode & 0o777) == 0o700
    assert ((out / "rooms/room-a.zip").stat().st_mode & 0o777) == 0o600

    checked = verify_all(w, out, "--workers", "2")
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["valid"] is True and report["verified"] == 3 and report["problems"] == []

    # --state adds the closed room (into another directory: DIR keeps its first parameters)
    every = tmp_path / "every"
    result = export_all(w, every, "--state", "open,archived,closed")
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in json.loads((every / "tenant-manifest.json").read_text())["rooms"]]
    assert ids == [*EXPORTED, "room-d"]


def test_a_re_run_keeps_what_verifies_and_rewrites_the_same_manifest(world, tmp_path):
    w = world
    seed(w)
    out = tmp_path / "out"
    assert export_all(w, out, "--workers", "2").exit_code == 0
    first = (out / "tenant-manifest.json").read_bytes()
    # a re-run of a finished export: everything verifies, nothing is exported again
    again = export_all(w, out, "--workers", "2")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["kept"] == 3 and summary["exported"] == 0
    assert (out / "tenant-manifest.json").read_bytes() == first
    # a damaged bundle, a missing one, a partial file a killed writer left, no manifest
    data = bytearray((out / "rooms/room-b.zip").read_bytes())
    data[40] ^= 0xFF
    (out / "rooms/room-b.zip").write_bytes(bytes(data))
    (out / "rooms/room-a.zip").unlink()
    (out / "rooms/.room-c.zip.999999@elsewhere.0badc0de.tmp").write_bytes(b"PK\x03\x04")
    (out / "tenant-manifest.json").unlink()
    resumed = export_all(w, out, "--workers", "2")
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    assert summary["kept"] == 1 and summary["exported"] == 2
    assert "rooms/room-b.zip did not verify" in resumed.stderr
    assert (out / "tenant-manifest.json").read_bytes() == first
    assert "rooms/.room-c.zip.999999@elsewhere.0badc0de.tmp" not in files_of(out)
    assert verify_all(w, out).exit_code == 0


def test_the_export_time_is_pinned_by_the_first_run_and_other_parameters_are_refused(
    world, tmp_path
):
    w = world
    seed(w)
    out = tmp_path / "out"
    first = export_all(w, out, env={})  # no SOURCE_DATE_EPOCH: the first run's time
    assert first.exit_code == 0, first.output
    state = json.loads((out / "export-state.json").read_text())
    manifest = (out / "tenant-manifest.json").read_bytes()
    assert json.loads(manifest)["parameters"]["exported_at"] == state["exported_at"]
    again = export_all(w, out, env={})
    assert again.exit_code == 0, again.output
    assert (out / "tenant-manifest.json").read_bytes() == manifest
    # other parameters: refused, nothing changed
    for extra, env, what in (
        (("--state", "open"), {}, "states"),
        ((), {"SOURCE_DATE_EPOCH": "1"}, "exported_at"),
    ):
        refused = export_all(w, out, *extra, env=env)
        assert refused.exit_code == 1, refused.output
        error = error_of(refused)
        assert error["code"] == "SW_ROOM_EXPORT_PARAMS_CHANGED" and what in error["message"]
        assert "start afresh" in error["hint"]
        assert (out / "tenant-manifest.json").read_bytes() == manifest
    w.tenant("initech")
    other = w.cli.invoke(
        "--output", "json", "room", "export-all", "--tenant", "initech", "--to", str(out)
    )
    assert other.exit_code == 1 and error_of(other)["code"] == "SW_ROOM_EXPORT_PARAMS_CHANGED"
    # a directory holding anything else is refused before anything is written
    stranger = tmp_path / "home-dir"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    refused = export_all(w, stranger)
    assert refused.exit_code == 1 and error_of(refused)["code"] == "SW_ROOM_EXPORT_DIR_IN_USE"
    assert files_of(stranger) == ["notes.txt"]
    (out / "rooms" / "notes.txt").write_text("mine")
    refused = export_all(w, out, env={})
    assert refused.exit_code == 1 and "rooms/notes.txt" in error_of(refused)["message"]


def test_failed_rooms_exit_1_naming_them_and_no_manifest_is_written(world, tmp_path):
    w = world
    seed(w)
    media = w.media_files()
    assert len(media) == 1
    Path(media[0]).rename(tmp_path / "away")  # room-a's attachment is gone from the store
    out = tmp_path / "out"
    result = export_all(w, out, "--workers", "2")
    assert result.exit_code == 1, result.output
    error = error_of(result)
    assert error["code"] == "SW_ROOM_EXPORT_INCOMPLETE"
    assert "room-a (SW_MEDIA_MISSING)" in error["message"]
    assert error["details"]["rooms"][0]["room_id"] == "room-a"
    summary = json.loads(result.stdout)
    assert summary["failed"] == 1 and summary["exported"] == 2 and summary["manifest"] is None
    assert files_of(out) == ["export-state.json", "rooms/room-b.zip", "rooms/room-c.zip"]
    # put it back, run again: the two bundles are kept, room-a is exported, the manifest is the
    # one an uninterrupted run writes
    (tmp_path / "away").rename(media[0])
    result = export_all(w, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kept"] == 2
    clean = tmp_path / "clean"
    assert export_all(w, clean).exit_code == 0
    assert (out / "tenant-manifest.json").read_bytes() == (
        clean / "tenant-manifest.json"
    ).read_bytes()


def test_verify_all_finds_every_problem(world, tmp_path):
    w = world
    seed(w)
    out = tmp_path / "out"
    assert export_all(w, out).exit_code == 0
    # verify-all needs no database: an unreachable one does not matter
    w.cli.env["SCAIWAVE_DB_URL"] = "mysql+pymysql://nobody:x@127.0.0.1:1/none"
    assert verify_all(w, out).exit_code == 0

    data = bytearray((out / "rooms/room-b.zip").read_bytes())
    data[-30] ^= 0x01  # inside the central directory: the sha256 changes
    (out / "rooms/room-b.zip").write_bytes(bytes(data))
    (out / "rooms/room-c.zip").rename(tmp_path / "room-c.zip")
    (out / "rooms/room-x.zip").write_bytes(b"PK")
    (out / "readme.txt").write_text("extra")
    result = verify_all(w, out, "--workers", "2")
    assert result.exit_code == 1, result.output
    error = error_of(result)
    assert error["code"] == "SW_ROOM_EXPORT_INVALID"
    problems = {p["file"]: p["problem"] for p in error["details"]["problems"]}
    assert set(problems) == {
        "readme.txt",
        "rooms/room-b.zip",
        "rooms/room-c.zip",
        "rooms/room-x.zip",
    }
    assert problems["rooms/room-c.zip"] == "missing"
    assert problems["rooms/room-b.zip"].startswith("SW_ROOM_BUNDLE_MISMATCH")
    assert "extra" in problems["readme.txt"] and "extra" in problems["rooms/room-x.zip"]
    assert json.loads(result.stdout)["valid"] is False

    # a bundle swapped for another sound bundle of the same size: the sha256 says so too
    (tmp_path / "room-c.zip").rename(out / "rooms/room-c.zip")
    (out / "readme.txt").unlink()
    (out / "rooms/room-x.zip").unlink()
    # the manifest itself changed: its integrity file no longer matches
    manifest = out / "tenant-manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"Beta"', b'"Bota"'))
    result = verify_all(w, out)
    assert result.exit_code == 1
    error = error_of(result)
    assert error["code"] == "SW_ROOM_EXPORT_INVALID" and "integrity" in error["message"]
    manifest.unlink()
    result = verify_all(w, out)
    assert result.exit_code == 1 and "tenant-manifest.json" in error_of(result)["message"]
