"""Where a bundle comes from and where it goes: an empty stdin or an empty ``--from`` file is
``SW_BUNDLE_MISSING`` (not "not a zip file"); ``export --to FILE`` writes the bundle 0600 (it holds
every message of the room), whatever the umask."""

from __future__ import annotations

import json
import os
import stat

import pytest
from scaiwave_room import errors
from scaiwave_room.testing import sample_room_events

IMPORT = ("room", "import", "general", "--tenant", "globex", "--as", "prt-globex")


def _missing(result) -> dict:
    assert result.exit_code == 2, result.output
    body = json.loads(result.stderr)["error"]
    assert body["code"] == errors.SW_BUNDLE_MISSING
    assert "zip" not in body["message"].lower() or "empty" in body["message"]
    assert "room export" in body["hint"] or "--from" in body["hint"]
    return body


def test_import_from_empty_stdin_is_bundle_missing(two_tenants):
    w = two_tenants
    body = _missing(w.cli.invoke("--output", "json", *IMPORT, input=b""))
    assert "stdin is empty" in body["message"]
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 0


def test_import_from_an_empty_file_is_bundle_missing(two_tenants, tmp_path):
    w = two_tenants
    empty = tmp_path / "room.zip"
    empty.write_bytes(b"")
    body = _missing(w.cli.invoke("--output", "json", *IMPORT, "--from", str(empty)))
    assert str(empty) in body["message"] and "empty" in body["message"]
    dash = _missing(w.cli.invoke("--output", "json", *IMPORT, "--from", "-", input=b""))
    assert "stdin is empty" in dash["message"]


@pytest.mark.parametrize("source", ["stdin", "file"])
def test_verify_an_empty_bundle_is_bundle_missing(cli, tmp_path, source):
    if source == "stdin":
        result = cli.invoke("--output", "json", "room", "verify", input=b"")
    else:
        empty = tmp_path / "empty.zip"
        empty.write_bytes(b"")
        result = cli.invoke("--output", "json", "room", "verify", "--from", str(empty))
    _missing(result)


def test_export_to_a_file_is_private_under_umask_022(two_tenants, tmp_path):
    w = two_tenants
    room = w.room("acme", events=sample_room_events())
    target = tmp_path / "room.zip"
    old = os.umask(0o022)
    try:
        result = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "acme",
                              "--to", str(target))  # fmt: skip
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(result.stdout)["bytes"] == target.stat().st_size
