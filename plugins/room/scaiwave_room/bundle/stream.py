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
from scaiwave_room.bundle import fastjson
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.guard import JsonGuard, Refused
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
    text = fastjson.dumps_compact_ascii(value, limits.max_depth)  # the same text as below
    if text is not None and len(text) <= limits.max_content_bytes:  # ASCII: its UTF-8 size
        return text
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

# An event's content sits 3 levels down ($ > events > event > content): nothing of a valid
# manifest nests deeper than ``max_depth`` + 3 from the top.
EVENT_DEPTH = 3
# A JSON string spells a character in at most 6 bytes (``\u0041`` for "A"): one longer than
# 6 x ``max_content_bytes`` bytes cannot fit in an event's content, whatever its escapes.
ESCAPE_RATIO = 6


def guarded(fh, limits: Limits) -> JsonGuard:
    """``fh`` behind the byte-level bounds of ``guard``: depth and token length are refused
    while the bytes stream past, before the parser builds a value."""
    return JsonGuard(
        fh,
        max_depth=limits.max_depth + EVENT_DEPTH,
        max_token=ESCAPE_RATIO * limits.max_content_bytes,
    )


def refusal(exc: Refused, path: str, limits: Limits) -> BundleInvalid:
    """The ``BundleInvalid`` for a bound the guard enforced; ``path`` is the value being read."""
    where = f"byte {exc.offset} of {fmt.MANIFEST}"
    if exc.kind == "depth":
        return BundleInvalid(
            f"manifest.json: {path} nests deeper than {limits.max_depth} levels (refused "
            f"while parsing, at {where})",
            path=path,
            entry=fmt.MANIFEST,
        )
    what = "string" if exc.kind == "string" else "number"
    return BundleInvalid(
        f"manifest.json: {path} holds a JSON {what} longer than {exc.limit} bytes (refused "
        f"while parsing, at {where}); event content may be at most "
        f"{limits.max_content_bytes} bytes",
        code=errors.SW_CONTENT_TOO_LARGE,
        path=path,
        entry=fmt.MANIFEST,
        hint="raise SCAIWAVE_ROOM_MAX_CONTENT_BYTES if this bundle is trusted",
    )


def read_header(fh, max_bytes: int = MAX_HEADER_BYTES, *, limits: Limits | None = None) -> Header:
    """Parse the header keys; stops at the start of ``events`` (which must be an array and the
    last key). Duplicate or unknown header keys are errors; a header larger than ``max_bytes``
    (64 MiB: millions of senders or media) is refused before it fills memory, a value nested
    too deep or a token too long (``guarded``) before the parser builds it."""
    limits = limits or Limits()
    fh = CountingReader(fh)
    builder = None
    key = None
    seen: dict[str, Any] = {}
    events_found = False
    depth = 0
    where = "$"
    try:
        parser = ijson.parse(guarded(fh, limits), buf_size=fmt.CHUNK, use_float=True)
        for prefix, event, value in parser:
            if event == "map_key":
                where = f"{prefix}.{value}" if prefix else value
            else:
                where = prefix
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
    except Refused as exc:
        raise refusal(exc, _header_path(where), limits) from None
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


def _header_path(prefix: str) -> str:
    """``room.topic.item.item`` -> ``$.room.topic``: the header value an ijson prefix is in."""
    head = prefix.split(".item")[0] if prefix != "item" else ""
    return f"$.{head}" if head else "$"


def iter_raw_events(fh, limits: Limits | None = None):
    """Every element of ``$.events`` as a plain JSON value, streamed behind ``guarded``: a
    value nested too deep or a token too long is refused (naming its event) before it is
    built."""
    limits = limits or Limits()
    count = 0
    try:
        for item in ijson.items(
            guarded(fh, limits), "events.item", buf_size=fmt.CHUNK, use_float=True
        ):
            yield item
            count += 1
    except Refused as exc:
        raise refusal(exc, f"$.events[{count}]", limits) from None
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
