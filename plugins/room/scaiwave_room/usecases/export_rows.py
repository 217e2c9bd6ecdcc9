"""`room export`'s hot loop: rows of ``adapters.db.stream_events`` (JSON columns as stored
text, SQLite times as stored text) -> each event's canonical JSON for ``manifest.json``.

The fast way decodes and encodes with orjson (``bundle.fastjson``) and slices SQLAlchemy's
time text into the manifest's; wherever it cannot vouch for the same bytes (a float, a huge
integer, a lone surrogate, a time in another form) the event takes the way it always took: the
ORM's own decoding (``StoredDecoders``), ``to_manifest_event``, then ``layout.dumps`` in the
writer. The bundle's bytes are the same either way.
"""

from __future__ import annotations

import datetime as _dt
import re

from scaiwave_room.bundle import fastjson
from scaiwave_room.bundle.schema import format_time
from scaiwave_room.usecases.export import to_manifest_event

# the text SQLAlchemy writes for a DATETIME on SQLite (naive UTC)
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII).fullmatch
_fromisoformat = _dt.datetime.fromisoformat


def _same(value):
    return value


def manifest_events(rows, plan, decoders):
    """Each row as its manifest event: canonical JSON bytes, or the record (a dict) the writer
    encodes itself when the fast way cannot vouch for the bytes."""
    sqlite_times = decoders.times_as_text
    fast = fastjson.orjson is not None
    for row in rows:
        encoded = _fast(row, plan, sqlite_times) if fast else None
        yield encoded if encoded is not None else _slow(row, plan, decoders)


def _fast(row, plan, sqlite_times) -> bytes | None:
    (
        event_id,
        sender_id,
        event_type,
        content,
        original,
        origin_ts,
        created_at,
        edited_at,
        redacted_at,
        relation_type,
        relates_to_id,
    ) = row
    if type(origin_ts) is not int:
        return None
    content = fastjson.loads(content)
    if content is None:
        return None
    if original == "null":  # the JSON type's text for None (to_manifest_event's None too)
        original = None
    elif original is not None:
        original = fastjson.loads(original)
        if original is None:
            return None
    times = []
    for value in (created_at, edited_at, redacted_at):
        if value is not None:
            value = _time(value, sqlite_times)
            if value is None:
                return None
        times.append(value)
    record = to_manifest_event(
        (event_id, sender_id, event_type, content, original, origin_ts, *times,
         relation_type, relates_to_id),
        plan,
        _time=_same,
    )  # fmt: skip
    return fastjson.dumps_canonical(record)


def _time(value, sqlite_times: bool) -> str | None:
    """The manifest's text of a stored time when it is SQLAlchemy's SQLite text (checked as
    the ORM checks it: ``datetime.fromisoformat``) or a naive UTC datetime; None otherwise."""
    if type(value) is str:
        if sqlite_times and _SQLITE_TIME(value):
            _fromisoformat(value)  # an impossible date raises as the ORM's reading did
            return f"{value[:10]}T{value[11:]}Z"
        return None
    if type(value) is _dt.datetime:
        return format_time(value)
    return None


def _slow(row, plan, decoders) -> dict:
    """The record as the export always made it: the ORM's decoding, then
    ``to_manifest_event``."""
    row = list(row)
    row[3] = decoders.json(row[3])
    row[4] = decoders.json(row[4])
    if decoders.times_as_text:
        for i in (6, 7, 8):
            row[i] = decoders.time(row[i])
    return to_manifest_event(tuple(row), plan)
