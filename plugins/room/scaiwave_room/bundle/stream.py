"""Streaming ``manifest.json``: the header keys first (``read_header``), then ``$.events`` one
record at a time with ijson (``iter_raw_events``), so a room of millions of events never sits in
memory; and the checks of one event's JSON content (depth, size, storable text)."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from typing import Any

import ijson

from scaiwave_room import errors
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.schema import Header, structure
from scaiwave_room.errors import BundleInvalid

# -- JSON value checks -------------------------------------------------------------------------


def json_depth_ok(value, limit: int) -> bool:
    """True when ``value`` nests no deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if type(item) is dict:
            for v in item.values():
                if type(v) in (dict, list):
                    stack.append((v, depth + 1))
        elif type(item) is list:
            for v in item:
                if type(v) in (dict, list):
                    stack.append((v, depth + 1))
    return True


# The JSON text the import stores: compact and ASCII (non-ASCII escaped), what SQLAlchemy's
# JSON type writes too; the C encoder is much faster this way than with ensure_ascii=False.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_COMPACT_UTF8 = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
encode_compact = _COMPACT.encode


def content_bytes(value) -> int:
    """The size of ``value`` as compact UTF-8 JSON (what the 64 KB limit measures)."""
    return len(_COMPACT_UTF8.encode(value).encode("utf-8"))


def check_content(value, path: str, limits: Limits) -> str:
    """The compact (ASCII) JSON text of an event's content, after the depth and size checks."""
    if not json_depth_ok(value, limits.max_depth):
        raise BundleInvalid(
            f"manifest.json: {path} nests deeper than {limits.max_depth} levels",
            path=path,
            entry=fmt.MANIFEST,
        )
    try:
        text = _COMPACT.encode(value)
        # only escaped text can differ from its UTF-8 size (and hide a lone surrogate)
        size = len(text) if "\\u" not in text else content_bytes(value)
    except (ValueError, TypeError, RecursionError, UnicodeEncodeError) as exc:
        raise BundleInvalid(
            f"manifest.json: {path} cannot be stored: {exc}", path=path, entry=fmt.MANIFEST
        ) from None
    if size > limits.max_content_bytes:
        raise BundleInvalid(
            f"manifest.json: {path} is {size} bytes; event content may be at most "
            f"{limits.max_content_bytes} bytes (64 KB)",
            code=errors.SW_CONTENT_TOO_LARGE,
            path=path,
            entry=fmt.MANIFEST,
        )
    return text


# -- streaming the manifest --------------------------------------------------------------------

_HEADER_KEYS = ("format", "format_version", "exported_at", "source", "room", "senders", "media")


def _json_error(exc) -> BundleInvalid:
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return BundleInvalid(f"manifest.json is not valid JSON: {text}", entry=fmt.MANIFEST, path="$")


_READ_ERRORS = (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


def _corrupt(exc) -> BundleInvalid:
    return BundleInvalid(f"entry {fmt.MANIFEST!r} is corrupt: {exc}", entry=fmt.MANIFEST)


class CountingReader:
    """A file wrapper counting the bytes handed to the parser (the header's cap, progress)."""

    def __init__(self, raw):
        self.raw = raw
        self.size = 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.size += len(data)
        return data


MAX_HEADER_BYTES = 64 << 20


def read_header(fh, max_bytes: int = MAX_HEADER_BYTES) -> Header:
    """Parse the header keys; stops at the start of ``events`` (which must be an array and the
    last key). Duplicate or unknown header keys are errors; a header larger than ``max_bytes``
    (64 MiB: millions of senders or media) is refused before it fills memory."""
    fh = CountingReader(fh)
    builder = None
    key = None
    seen: dict[str, Any] = {}
    events_found = False
    depth = 0
    try:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if fh.size > max_bytes:
                raise BundleInvalid(
                    f"manifest.json: the header (everything before $.events) is larger than "
                    f"{max_bytes} bytes",
                    path="$",
                    entry=fmt.MANIFEST,
                )
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 0:
                    seen[key] = builder.value
                    builder = None
                continue
            if prefix == "" and event == "start_map":
                continue
            if prefix == "" and event == "map_key":
                if value in seen or (value == "events" and events_found):
                    raise BundleInvalid(
                        f"manifest.json: key {value[:80]!r} appears twice",
                        path=f"$.{value[:80]}",
                        entry=fmt.MANIFEST,
                    )
                if value == "events":
                    events_found = True
                elif value not in _HEADER_KEYS:
                    raise BundleInvalid(
                        f"manifest.json does not match the schema: unknown key "
                        f"{value[:80]!r} @ $.{value[:80]}",
                        path=f"$.{value[:80]}",
                        entry=fmt.MANIFEST,
                    )
                key = value
                continue
            if prefix == "" and event != "end_map":
                raise BundleInvalid(
                    "manifest.json must be a JSON object", path="$", entry=fmt.MANIFEST
                )
            if prefix == "events":
                if event != "start_array":
                    raise BundleInvalid(
                        "manifest.json does not match the schema: expected an array @ $.events",
                        path="$.events",
                        entry=fmt.MANIFEST,
                    )
                break
            if prefix == key:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth = 1
                else:
                    seen[key] = builder.value
                    builder = None
                continue
            if prefix == "" and event == "end_map":
                break
    except BundleInvalid:
        raise
    except _READ_ERRORS as exc:
        raise _json_error(exc) from None
    except _ZIP_ERRORS as exc:
        raise _corrupt(exc) from None
    if not events_found:
        raise BundleInvalid(
            "manifest.json does not match the schema: required field missing @ $.events",
            path="$.events",
            entry=fmt.MANIFEST,
        )
    missing = [k for k in _HEADER_KEYS if k not in seen]
    if missing:
        raise BundleInvalid(
            f"manifest.json does not match the schema: required field missing @ $.{missing[0]}"
            " (header keys come before $.events)",
            path=f"$.{missing[0]}",
            entry=fmt.MANIFEST,
        )
    header = structure(seen, Header, "$")
    if header.format != fmt.FORMAT:
        raise BundleInvalid(
            f"manifest.json: format is {header.format[:80]!r}, expected {fmt.FORMAT!r} @ $.format",
            path="$.format",
            entry=fmt.MANIFEST,
        )
    if header.format_version != fmt.FORMAT_VERSION:
        raise BundleInvalid(
            f"manifest.json: format_version {header.format_version} is not supported "
            f"(this scaiwave reads {fmt.FORMAT_VERSION}) @ $.format_version",
            path="$.format_version",
            entry=fmt.MANIFEST,
            hint="upgrade scaiwave-room, or export the room again with this version",
        )
    return header


def iter_raw_events(fh):
    """Every element of ``$.events`` as a plain JSON value, streamed."""
    try:
        yield from ijson.items(fh, "events.item", use_float=True)
    except _READ_ERRORS as exc:
        raise _json_error(exc) from None
    except _ZIP_ERRORS as exc:
        raise _corrupt(exc) from None


class HashingReader:
    """Hashes and counts what the parser reads (a deferred manifest check)."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def finish(self, want: dict) -> None:
        """Read what the parser left (trailing bytes), then compare with integrity.json."""
        try:
            while self.read(1 << 16):
                pass
        except _ZIP_ERRORS as exc:
            raise _corrupt(exc) from None
        if self.size != want["size"] or self.digest.hexdigest() != want["sha256"]:
            raise BundleInvalid(
                f"entry {fmt.MANIFEST!r} does not match its sha256 in integrity.json",
                entry=fmt.MANIFEST,
            )
