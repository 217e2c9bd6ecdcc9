"""`admin verify-export`: the check of a participant export or a tenant people export.

First the container, by the core (``api.zipbundle.verify_integrity``, bounded: at most
``MAX_ENTRIES`` entries and ``MAX_TOTAL_BYTES`` unpacked; zip bombs, unsafe or duplicate names,
an entry added, missing, reordered or changed are ``SW_ZIP_INVALID``). Then the contents, read
as a stream (``SW_EXPORT_INVALID``, exit 1, naming the entry and line): the entries the format
names in its order; every JSON entry and every line of a ``.jsonl`` entry one canonical JSON
object (what the writer produces: sorted keys, no whitespace), a line at most
``MAX_LINE_BYTES``; a participant export's events ordered by stream position, each in a room
``rooms.json`` names; its media entries ``media/<sha256>/<name>`` in sha256 order, each holding
bytes of that sha256, exactly the contents ``media.json`` lists.
"""

from __future__ import annotations

import json
import os
import re
import zipfile

from scaiwave_admin import errors
from scaiwave_cli import api

FORMAT = "scaiwave.participant-export"
FORMAT_VERSION = 1
INTEGRITY_FORMAT = "scaiwave.participant-export.integrity"
PEOPLE_FORMAT = "scaiwave.people-export"
PEOPLE_INTEGRITY_FORMAT = "scaiwave.people-export.integrity"
PARTICIPANT_ENTRIES = (
    "profile.json",
    "memberships.json",
    "roles.json",
    "events.jsonl",
    "rooms.json",
    "media.json",
)
PEOPLE_ENTRIES = (
    "participants.jsonl",
    "workspace_members.jsonl",
    "room_members.jsonl",
    "role_assignments.jsonl",
)
MAX_ENTRIES = 500_000
MAX_TOTAL_BYTES = 64 << 30
MAX_JSON_BYTES = 64 << 20
MAX_LINE_BYTES = 16 << 20
READ_CHUNK = 1 << 20
_MEDIA_RE = re.compile(r"^media/([0-9a-f]{64})/[^/]+$")


def _invalid(message: str) -> api.DomainError:
    return api.DomainError(
        message,
        code=errors.SW_EXPORT_INVALID,
        hint="verify-export checks files written by `scaiwave admin export-participant` and "
        "the people export of `scaiwave admin delete-tenant`; write the export again",
    )


def _canonical(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _invalid(f"{where} is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(value, dict):
        raise _invalid(f"{where} is not a JSON object")
    if api.zipbundle.dumps(value) != text:
        raise _invalid(f"{where} is not canonical JSON (sorted keys, no whitespace)")
    return value


def read_json(zf: zipfile.ZipFile, name: str) -> dict:
    info = zf.getinfo(name)
    if info.file_size > MAX_JSON_BYTES:
        raise _invalid(f"{name} is larger than {MAX_JSON_BYTES} bytes")
    with zf.open(info) as fh:
        data = fh.read(MAX_JSON_BYTES + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(f"{name} is not UTF-8") from None
    return _canonical(text, name)


def read_lines(zf: zipfile.ZipFile, name: str):
    """Each line of ``name`` as a canonical JSON object, streamed (read 1 MiB at a time: a line
    at most ``MAX_LINE_BYTES``); every line ends with \\n."""
    number = 0
    pending = b""
    with zf.open(name) as fh:
        while chunk := fh.read(READ_CHUNK):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if len(pending) > MAX_LINE_BYTES:
                raise _invalid(f"{name} line {number + len(lines) + 1} is longer than "
                               f"{MAX_LINE_BYTES} bytes")  # fmt: skip
            for line in lines:
                number += 1
                yield _line(line, f"{name} line {number}")
    if pending:
        raise _invalid(f"{name} line {number + 1} does not end with a newline")


def _line(line: bytes, where: str) -> dict:
    if len(line) > MAX_LINE_BYTES:
        raise _invalid(f"{where} is longer than {MAX_LINE_BYTES} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(f"{where} is not UTF-8") from None
    return _canonical(text, where)


def verify_file(path) -> dict:
    """See the module docstring. Returns {"file", "format", "entries", "events", "media",
    "participants", "valid": True, "rooms", "media_files", "bytes", "integrity_sha256"}."""
    body = api.zipbundle.verify_integrity(
        path,
        format=(INTEGRITY_FORMAT, PEOPLE_INTEGRITY_FORMAT),
        max_entries=MAX_ENTRIES,
        max_total_bytes=MAX_TOTAL_BYTES,
    )
    names = [e["name"] for e in body["entries"]]
    with zipfile.ZipFile(path) as zf:
        if body["format"] == INTEGRITY_FORMAT:
            counts = _participant(zf, names, body["entries"])
            fmt = FORMAT
        else:
            counts = _people(zf, names)
            fmt = PEOPLE_FORMAT
    return {
        "file": os.fspath(path),
        "format": fmt,
        "entries": len(names) + 1,
        **counts,
        "bytes": body["file_bytes"],
        "integrity_sha256": body["integrity_sha256"],
        "valid": True,
    }


def _expect(names: list[str], wanted: tuple[str, ...]) -> None:
    for i, want in enumerate(wanted):
        got = names[i] if i < len(names) else None
        if got != want:
            shown = "the end of the archive" if got is None else repr(got[:200])
            raise _invalid(f"expected {want} here, found {shown}")


def _list(value: dict, key: str, where: str) -> list:
    items = value.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _invalid(f"{where}: {key!r} is not a list of objects")
    return items


def _participant(zf, names, listed) -> dict:
    _expect(names, PARTICIPANT_ENTRIES)
    files = {}
    previous = ""
    for item in listed[len(PARTICIPANT_ENTRIES) :]:
        match = _MEDIA_RE.match(item["name"])
        if match is None:
            raise _invalid(f"unexpected entry {item['name'][:200]!r}")
        sha = match.group(1)
        if item["sha256"] != sha:
            raise _invalid(f"{item['name'][:200]!r} does not hold the bytes its name says")
        if sha <= previous:
            raise _invalid(f"{item['name'][:200]!r}: media entries are not in sha256 order")
        previous = sha
        files[sha] = item["name"]
    profile = read_json(zf, "profile.json")
    if profile.get("format") != FORMAT or profile.get("format_version") != FORMAT_VERSION:
        raise _invalid(f"profile.json is not of format {FORMAT} version {FORMAT_VERSION}")
    participant = profile.get("participant")
    if not isinstance(participant, dict) or not isinstance(participant.get("id"), str):
        raise _invalid("profile.json names no participant")
    memberships = read_json(zf, "memberships.json")
    named = {r.get("room_id") for r in _list(memberships, "rooms", "memberships.json")}
    _list(memberships, "workspaces", "memberships.json")
    _list(read_json(zf, "roles.json"), "roles", "roles.json")
    rooms = {r.get("id") for r in _list(read_json(zf, "rooms.json"), "rooms", "rooms.json")}
    events = _events(zf, rooms)
    if not named <= rooms:
        raise _invalid("memberships.json names a room that rooms.json does not")
    uploads = _list(read_json(zf, "media.json"), "media", "media.json")
    referenced = {}
    for upload in uploads:
        sha, file_name = upload.get("sha256"), upload.get("file")
        if files.get(sha) != file_name:
            raise _invalid(f"media.json names {str(file_name)[:200]!r}, not an entry for {sha}")
        if upload.get("room_id") is not None and upload["room_id"] not in rooms:
            raise _invalid(f"media.json: upload {upload.get('id')} is in a room rooms.json lacks")
        referenced[sha] = file_name
    if set(referenced) != set(files):
        extra = sorted(set(files) - set(referenced))[0]
        raise _invalid(f"media entry {files[extra]!r} is not listed in media.json")
    return {
        "participant_id": participant["id"],
        "events": events,
        "media": len(uploads),
        "media_files": len(files),
        "rooms": len(rooms),
        "participants": 1,
    }


def _events(zf, rooms: set) -> int:
    count = 0
    last = None
    for record in read_lines(zf, "events.jsonl"):
        count += 1
        where = f"events.jsonl line {count}"
        position = record.get("stream_position")
        if not isinstance(record.get("id"), str) or type(position) is not int:
            raise _invalid(f"{where} is not an event (id, stream_position)")
        if last is not None and position <= last:
            raise _invalid(f"{where}: events are not in stream order")
        last = position
        if record.get("room_id") not in rooms:
            raise _invalid(
                f"{where}: room {str(record.get('room_id'))[:80]!r} is not in rooms.json"
            )
    return count


def _people(zf, names) -> dict:
    _expect(names, PEOPLE_ENTRIES)
    if len(names) != len(PEOPLE_ENTRIES):
        raise _invalid(f"unexpected entry {names[len(PEOPLE_ENTRIES)][:200]!r}")
    counts = {}
    for name in PEOPLE_ENTRIES:
        key = "id" if name == "participants.jsonl" else "participant_id"
        n = 0
        for record in read_lines(zf, name):
            n += 1
            if not isinstance(record.get(key), str):
                raise _invalid(f"{name} line {n} has no {key}")
        counts[name] = n
    return {
        "participants": counts["participants.jsonl"],
        "workspace_members": counts["workspace_members.jsonl"],
        "room_members": counts["room_members.jsonl"],
        "role_assignments": counts["role_assignments.jsonl"],
        "events": 0,
        "media": 0,
    }


def agree(checked: dict, written: dict) -> None:
    """The check of a file just written must count what the writer wrote."""
    for key in ("events", "media", "participants", "integrity_sha256"):
        if key in written and checked.get(key) != written[key]:
            raise _invalid(
                f"the export just written does not verify: {key} {checked.get(key)!r}, "
                f"written {written[key]!r}"
            )
