"""Issue 17 §4 (room-perf): the faster export and import must write the same bytes and rows.

Reference hashes taken with the code before the speed-ups: a room whose contents exercise
everything a JSON codec may spell differently (floats, big integers, escapes, non-ASCII text,
key order, lone surrogates are refused the same way) exports to the same bundle bytes, and
imports to the same stored JSON text, on SQLite and MariaDB; with and without orjson."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scaiwave_room import testing as bt

# Contents whose JSON text two encoders may write differently.
TRICKY = [
    {"msgtype": "swp.text", "body": "plain ascii"},
    {"z": 1, "a": 2, "M": 3, "é": 4, "😀": 5, "\ue000": 6, "_": [3, 2, 1]},
    {"msgtype": "swp.text", "body": "non-ASCII: é ß 中文 😀 \u2028 \u2029 \ufeff"},
    {"body": 'controls \x00 \x01 \x1f \x7f \b \f \n \r \t " \\ /'},
    {"floats": [1.5, 1e-05, 1e-07, 1e16, 1e22, -0.0, 0.1, 0.30000000000000004, 5e-324, 123.0]},
    {"ints": [0, -1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**30]},
    {"deep": {"b": [{"d": None, "c": True}, False], "a": {"y": [], "x": {}}}},
    {"body": "1.5e3 and 12345678901234567890 in text only", "n": 7},
    {"body": "x" * 3000, "format": None},
]

# sha256 of the bundle `room export` wrote for the room below (SOURCE_DATE_EPOCH fixed), taken
# with the code before issue 17's speed-ups; the same on both engines
EXPORT_SHA256 = "d7a263dce840ec436cb39823f19cd172579c97a93b64be65df050ff26cc829ca"
# sha256 of the imported rows' stored content/original_content JSON text, in stream order
IMPORT_ROWS_SHA256 = "5c05180e5e076157e2e3de2effb136100aa1eef24b0e05abd32c0212f06b5df5"


# what an import accepts: integers within 64 bits (the parser refuses larger ones)
IMPORTABLE_INTS = {"ints": [0, -1, 2**53 + 1, 2**63 - 1, 1 - 2**63]}


def _room(w, *, importable=False):
    contents = [IMPORTABLE_INTS if importable and "ints" in c else c for c in TRICKY]
    events = [{"content": c} for c in contents]
    events.append({"content": {"body": "edited é"}, "original": {"body": "édit", "n": 1.25}})
    events.append({"type": "swp.reaction", "content": {"key": "👍"}, "relates": ("reaction", 0)})
    return w.room("acme", events=events)


def _export(w, room) -> bytes:
    result = w.cli.invoke(
        "room", "export", room, "--tenant", "acme", env={"SOURCE_DATE_EPOCH": "1767225600"}
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def _stored_text(w, room_id) -> list:
    """(content, original_content) as the database holds them: the JSON text, not values."""
    from sqlalchemy import Text, select, type_coerce

    t = w.m.Event.__table__
    with w.store.session() as s:
        return [
            tuple(row)
            for row in s.execute(
                select(type_coerce(t.c.content, Text), type_coerce(t.c.original_content, Text))
                .where(t.c.room_id == room_id)
                .order_by(t.c.stream_position)
            )
        ]


def _digest(rows) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@pytest.fixture(params=["fast", "no-orjson"])
def codec(request, monkeypatch):
    """Both paths: orjson when installed (the fast one), and the standard library's json."""
    if request.param == "no-orjson":
        from scaiwave_room.bundle import fastjson

        monkeypatch.setattr(fastjson, "orjson", None)
    return request.param


def test_export_writes_the_reference_bytes(two_tenants, codec):
    w = two_tenants
    room = _room(w)
    data = _export(w, room)
    manifest = bt.read_manifest(data)
    assert manifest["events"][4]["content"]["floats"][1] == 1e-05
    assert manifest["events"][5]["content"]["ints"][-1] == 10**30
    assert hashlib.sha256(data).hexdigest() == EXPORT_SHA256, hashlib.sha256(data).hexdigest()


def test_import_stores_the_reference_json_text(two_tenants, codec):
    w = two_tenants
    room = _room(w, importable=True)
    data = _export(w, room)
    result = w.imp(data)
    assert result.exit_code == 0, result.stderr
    rows = _stored_text(w, json.loads(result.stdout)["room_id"])
    assert len(rows) == len(TRICKY) + 2
    # each imported author block is spliced into the content as the export found it
    first = json.loads(rows[0][0])
    assert first["_imported_sender"]["fqid"] == f"@prt-acme:{bt.DB_SERVER}"
    # ASCII JSON text, compact, keys in the bundle's (sorted) order
    assert all(text.isascii() for row in rows for text in row if text is not None)
    assert rows[1][0].startswith('{"M":3,"_":[3,2,1],"a":2,"z":1,"\\u00e9":4,')
    assert '"floats":[1.5,1e-05,1e-07,1e+16,1e+22,-0.0,' in rows[4][0]
    assert _digest(rows) == IMPORT_ROWS_SHA256, (_digest(rows), rows)


# sha256 of the bundle of a SQLite room whose times were stored in other text forms than
# SQLAlchemy's (no fraction, a "T", an offset), taken with the code before issue 17
ODD_TIMES_SHA256 = "9d5d6f08c06cced177508137c9d652cde84b072eb0ae1d5a98e4bcec0b5519d7"


def test_export_reads_times_stored_in_other_text_forms(two_tenants, codec):
    w = two_tenants
    if not w.db_url.startswith("sqlite"):
        pytest.skip("times are text only on SQLite")
    from sqlalchemy import text

    room = w.room("acme", events=[{"content": {"body": f"m{i}"}} for i in range(4)])
    with w.store.transaction() as s:
        for i, (created, edited) in enumerate(
            [
                ("2026-01-01 09:00:00", None),
                ("2026-01-01T09:00:01.5", "2026-01-02 10:00:00.000001"),
                ("2026-01-01 09:00:02+02:00", "2026-01-02"),
                ("2026-01-01 09:00:03.123456", None),
            ]
        ):
            s.execute(
                text("UPDATE events SET created_at = :c, edited_at = :e WHERE id = :id"),
                {"c": created, "e": edited, "id": f"{room}-e{i}"},
            )
    data = _export(w, room)
    times = [(e["created_at"], e["edited_at"]) for e in bt.read_manifest(data)["events"]]
    assert times[0] == ("2026-01-01T09:00:00.000000Z", None)
    assert times[3] == ("2026-01-01T09:00:03.123456Z", None)
    assert hashlib.sha256(data).hexdigest() == ODD_TIMES_SHA256, hashlib.sha256(data).hexdigest()


# -- the fast codec against the standard library, on generated values --------------------------

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode

_text = st.text(st.characters(max_codepoint=0x7F), max_size=12) | st.text(
    st.characters(blacklist_categories=()), max_size=6
)  # mostly ASCII (controls and DEL included), sometimes any code point, lone surrogates too
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
    | _text
    | _text
    | st.floats(allow_nan=True, allow_infinity=True)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


def _std(encode, value):
    try:
        return encode(value)
    except (ValueError, TypeError, RecursionError) as exc:
        return type(exc)


@given(st.dictionaries(_text, _values, max_size=5))
@settings(max_examples=1000, deadline=None)
@example({"a": "\x7f"})
@example({"b": 1e-05, "a": [2**64, {"é": "😀\u2028"}]})
def test_fast_canonical_and_compact_text_match_the_standard_library(value):
    from scaiwave_room.bundle import fastjson

    fast = fastjson.dumps_canonical(value) if not fastjson._has_float(value) else None
    if fast is not None:
        assert fast == _CANONICAL(value).encode("utf-8")
    compact = fastjson.dumps_compact_ascii(value, 64)
    if compact is not None:
        assert compact == _COMPACT(value)
    text = _std(_COMPACT, value)
    if isinstance(text, str):
        # what the store holds, read back by the export: the same value as json.loads gives
        decoded = fastjson.loads(text)
        if decoded is not None:
            assert repr(decoded) == repr(json.loads(text))
            assert list(decoded) == list(json.loads(text))
        # and its canonical text, as the export writes it
        if decoded is not None and fastjson.dumps_canonical(decoded) is not None:
            assert fastjson.dumps_canonical(decoded) == _CANONICAL(json.loads(text)).encode()


def test_a_large_import_keeps_every_row_in_stream_order(two_tenants, monkeypatch):
    """More events than one multi-row INSERT carries (SQLite: ``ROWS_PER_STATEMENT``; MariaDB:
    statements of at most PyMySQL's ``max_stmt_length``, made small here), and more than one
    batch: every row, in the bundle's order, with contiguous stream positions."""
    import pymysql
    from scaiwave_room.adapters import inserts

    monkeypatch.setattr(pymysql.cursors.Cursor, "max_stmt_length", 20_000)
    w = two_tenants
    total = 2 * 2000 + 2 * inserts.ROWS_PER_STATEMENT + 7
    events = [{"content": {"msgtype": "swp.text", "body": f"m{i}"}} for i in range(total)]
    events[-1] = {"type": "swp.reaction", "content": {"key": "+1"}, "relates": ("reaction", 5)}
    room = w.room("acme", events=events)
    result = w.imp(_export(w, room))
    assert result.exit_code == 0, result.stderr
    new_room = json.loads(result.stdout)["room_id"]
    rows = w.rows(w.m.Event, order_by=w.m.Event.stream_position, room_id=new_room)
    assert [r.content.get("body") for r in rows[:-1]] == [f"m{i}" for i in range(total - 1)]
    positions = [r.stream_position for r in rows]
    assert positions == list(range(positions[0], positions[0] + total))
    assert rows[-1].relates_to_id == rows[5].id and len({r.id for r in rows}) == total


@given(st.text(st.characters(max_codepoint=0x7F), max_size=40) | st.text(max_size=8))
@settings(max_examples=500, deadline=None)
@example("a\\b'c\"d%s{}")
@example("\x00\n\r\x1a\x7f")
def test_the_mariadb_text_escape_is_pymysqls(text):
    from pymysql.converters import escape_string
    from scaiwave_room.adapters.inserts import quoted_ascii

    quoted = quoted_ascii(text)
    if quoted is not None:
        assert quoted == "'" + escape_string(text) + "'"
