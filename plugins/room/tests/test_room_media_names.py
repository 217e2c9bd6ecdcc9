"""Media names from a bundle (issue 14, point 5): a name that is a path (``../../tmp/evil``,
absolute, a Windows path), holds NUL, control or bidi characters, or is empty is kept as a safe
base name at import; the database never holds the hostile name. `room verify` says so too."""

from __future__ import annotations

import json

import pytest
from scaiwave_room import testing as bt

DATA = b"\x89PNG-hostile-name" * 20
SHA = bt.sha(DATA)


def _bundle(name: str) -> bytes:
    header = bt.sample_header(
        media=[{"sha256": SHA, "name": name, "size": len(DATA), "content_type": "image/png"}]
    )
    events = bt.sample_events(3, media_sha=SHA)
    # the ZIP entry keeps a harmless name (the reader refuses unsafe entry names on its own);
    # the manifest's media name is what an import would store
    return bt.build_bundle(header, events, {SHA: ("photo.png", DATA)})


HOSTILE = [
    ("../../../../tmp/evil-from-bundle", "evil-from-bundle"),
    ("/etc/evil-absolute", "evil-absolute"),
    ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
    ("evil\x00.png", "evil.png"),
    ("bad\nname\x1b[31m.png", "badname[31m.png"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),
    ("..", SHA[:16]),
    ("", SHA[:16]),
    ("  ./.hidden  ", "hidden"),
]


@pytest.mark.parametrize("name, kept", HOSTILE)
def test_import_keeps_a_safe_base_name_never_the_hostile_one(two_tenants, name, kept):
    w = two_tenants
    result = w.imp(_bundle(name))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["media"] == 1 and out["media_names_normalised"] == 1
    rows = w.rows(w.m.Media, tenant_id="tnt-globex")
    assert [r.name for r in rows] == [kept]
    stored = rows[0].name
    assert "/" not in stored and "\\" not in stored and stored.strip(".")
    assert not any(ord(c) < 32 or c == "\x7f" or c == "\u202e" for c in stored)
    assert rows[0].sha256 == SHA


def test_a_plain_name_is_kept_as_it_is(two_tenants):
    w = two_tenants
    result = w.imp(_bundle("Überblick (final) v2.png"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["media_names_normalised"] == 0
    assert [r.name for r in w.rows(w.m.Media, tenant_id="tnt-globex")] == [
        "Überblick (final) v2.png"
    ]


def test_verify_reports_the_normalised_name(cli):
    result = cli.invoke(
        "--output", "json", "room", "verify", input=_bundle("../../../../tmp/evil-from-bundle")
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["media_names_normalised"] == 1
    assert any("'evil-from-bundle'" in p for p in record["problems"]), record["problems"]


def test_a_round_trip_exports_the_safe_name(two_tenants):
    w = two_tenants
    assert w.imp(_bundle("../../../../tmp/evil-from-bundle")).exit_code == 0
    room = w.rows(w.m.Room, tenant_id="tnt-globex")[0].id
    exported = w.export(room, "globex").stdout_bytes
    manifest = bt.read_manifest(exported)
    assert [m["name"] for m in manifest["media"]] == ["evil-from-bundle"]
