"""The manifest schema (attrs classes, structured with cattrs) and its streaming validator.

``manifest.json`` is one JSON object. Its header keys (``format``, ``format_version``,
``exported_at``, ``source``, ``room``, ``senders``, ``media``) come first and ``events`` is the
last key: the reader parses the header, then streams ``events`` one record at a time with ijson,
so a room of millions of events never sits in memory. Every record is structured with a strict
cattrs converter (no coercion: ``"5"`` is not an int, ``true`` is not an int, unknown keys are
errors) and every error names its JSON path (``$.events[12].content``).

``validate(opened, limits)`` is the whole DB-free check used by ``room verify``, ``room import``
(before anything is written) and ``--dry-run``: it returns a ``Report``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import zipfile
import zlib
from array import array
from typing import Any

import attrs
import cattrs
import ijson

from scaiwave_room import bundle as fmt
from scaiwave_room.reader import SHA256_RE, BundleInvalid, Limits

REFUSED_TYPES = ("sidekick", "bridge", "incognito", "federated")
ROOM_TYPES = ("group", "dm", "incognito", "sidekick", "public", "bridge")  # the product's
# Relation types counted in the report; any other ``relation_type`` the server wrote travels
# as it is (lowercase, dots/underscores, at most 32 characters like the column).
REL_TYPES = ("edit", "redaction", "reaction", "reply")
REL_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,31}$")
# A threaded reply names its parent in its content (the product's ``content.reply_to_event_id``):
# rewritten to the parent's new id on import.
REPLY_KEY = "reply_to_event_id"
# Events that are never imported (read state is per-user, not room history).
READ_MARKER_TYPES = frozenset(
    {"swp.read_marker", "swp.room.read_marker", "swp.receipt", "swp.room.receipt"}
)
# Content keys that carry sidekick (AI assistant) metadata: stripped on import.
SIDEKICK_KEYS = ("sidekick", "_sidekick", "swp.sidekick", "sidekick_metadata")
# Content keys that name an attachment: written as "sha256:<hex>" in a bundle, turned back into
# the destination's attachment id on import.
MEDIA_KEYS = frozenset({"media_id", "thumbnail_id"})
MEDIA_REF_PREFIX = "sha256:"
MAX_ID = 255
MAX_TS = 253402300799999  # 9999-12-31T23:59:59.999Z in ms


# -- records -----------------------------------------------------------------------------------


class FieldError(ValueError):
    """A field's value is of the right type but not acceptable (carries the field's name)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _nonempty(instance, attribute, value):
    if not value or len(value) > MAX_ID:
        raise FieldError(attribute.name, f"must be 1 to {MAX_ID} characters")


def _at_most(limit: int, *, empty_ok: bool = True):
    """At most ``limit`` characters (the store's column width), optionally non-empty."""

    def check(instance, attribute, value):
        if value is None:
            return
        if len(value) > limit or (not empty_ok and not value):
            size = f"1 to {limit}" if not empty_ok else f"at most {limit}"
            raise FieldError(attribute.name, f"must be {size} characters")

    return check


def _timestamp(instance, attribute, value):
    if value is None:
        return
    if not parse_time(value):
        raise FieldError(attribute.name, f"not an ISO 8601 time: {value[:40]!r}")


def _sha(instance, attribute, value):
    if not SHA256_RE.match(value):
        raise FieldError(attribute.name, "not a lowercase hex sha256")


@attrs.frozen
class Source:
    server_name: str
    room_id: str
    tenant: str | None = None


@attrs.frozen
class RoomMeta:
    name: str = attrs.field(validator=_at_most(200))
    type: str = attrs.field(validator=_nonempty)
    created_at: str = attrs.field(validator=_timestamp)
    topic: str | None = None
    scope: str | None = attrs.field(default=None, validator=_at_most(32))
    federated: bool = False


@attrs.frozen
class Sender:
    """Who wrote events: ``id`` is the FQID (``@local_id:server``)."""

    id: str = attrs.field(validator=_nonempty)
    display_name: str | None = attrs.field(default=None, validator=_at_most(200))
    avatar_url: str | None = attrs.field(default=None, validator=_at_most(1024))
    local: bool = False


@attrs.frozen
class MediaRef:
    sha256: str = attrs.field(validator=_sha)
    name: str = attrs.field(validator=_at_most(255))
    size: int
    content_type: str | None = attrs.field(default=None, validator=_at_most(255))


@attrs.frozen
class Header:
    format: str
    format_version: int
    exported_at: str = attrs.field(validator=_timestamp)
    source: Source
    room: RoomMeta
    senders: list[Sender]
    media: list[MediaRef]


@attrs.frozen
class Relation:
    rel_type: str
    event_id: str = attrs.field(validator=_nonempty)


@attrs.frozen
class Event:
    id: str = attrs.field(validator=_nonempty)
    type: str = attrs.field(validator=_at_most(128, empty_ok=False))
    sender: str
    origin_ts: int
    created_at: str = attrs.field(validator=_timestamp)
    content: dict
    original_content: dict | None = None
    edited_at: str | None = attrs.field(default=None, validator=_timestamp)
    redacted_at: str | None = attrs.field(default=None, validator=_timestamp)
    relates_to: Relation | None = None
    media: list[str] = attrs.Factory(list)


@attrs.frozen
class IntegrityEntry:
    name: str
    size: int
    sha256: str = attrs.field(validator=_sha)


@attrs.frozen
class Signature:
    algorithm: str
    public_key: str
    value: str
    key_id: str | None = None


@attrs.frozen
class Integrity:
    format: str
    version: int
    algorithm: str
    entries: list[IntegrityEntry]
    signature: Signature | None = None


# -- the strict converter ----------------------------------------------------------------------


def _strict(kind, label):
    def hook(value, _type):
        if type(value) is not kind:
            raise TypeError(f"expected {label}")
        return value

    return hook


def _strict_str(value, _type):
    if type(value) is not str:
        raise TypeError("expected a string")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode (lone surrogate)") from None
    return value


def _strict_list(inner):
    def hook(value, type_):
        if type(value) is not list:
            raise TypeError("expected an array")
        return inner(value, type_)

    return hook


def _make_converter(detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=detailed)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(dict, _strict(dict, "an object"))

    for list_type in (list[str], list[Sender], list[MediaRef], list[IntegrityEntry]):
        conv.register_structure_hook_func(
            lambda t, lt=list_type: t == lt, _strict_list(conv.get_structure_hook(list_type))
        )
    return conv


_fast = _make_converter(False)
_detailed = _make_converter(True)


def _format_exception(exc, type_) -> str:
    if isinstance(exc, FieldError):
        return f"{exc}\x00{exc.field}"
    return cattrs.v.format_exception(exc, type_)


def _messages(exc, path: str) -> list[tuple[str, str]]:
    """(message, JSON path) for each leaf error, the field named in the path."""
    if isinstance(exc, FieldError):
        return [(str(exc), f"{path}.{exc.field}")]
    try:
        lines = cattrs.transform_error(exc, path=path, format_exception=_format_exception)
    except Exception:  # pragma: no cover - defensive: never let a message crash us
        return [(str(exc), path)]
    out = []
    for line in lines:
        text, _, where = line.rpartition(" @ ")
        if not _:
            text, where = line, path
        if "\x00" in text:
            text, field = text.split("\x00", 1)
            where = f"{where}.{field}"
        out.append((text, where))
    return out or [(str(exc), path)]


def structure(value, cls, path: str):
    """Structure ``value`` into ``cls`` or raise ``BundleInvalid`` naming the JSON path."""
    try:
        return _fast.structure(value, cls)
    except Exception:
        pass
    try:
        result = _detailed.structure(value, cls)
    except Exception as exc:  # cattrs raises ClassValidationError & co.
        messages = _messages(exc, path)
        text, where = messages[0]
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        raise BundleInvalid(
            f"manifest.json does not match the schema: {text} @ {where}{more}",
            path=where,
            entry=fmt.MANIFEST,
        ) from None
    return result  # pragma: no cover - the fast path raised but the detailed one did not


def structure_integrity(body) -> Integrity:
    try:
        result = _detailed.structure(body, Integrity)
    except Exception as exc:
        text, where = _messages(exc, "$")[0]
        raise BundleInvalid(
            f"integrity.json does not match the schema: {text} @ {where}",
            entry=fmt.INTEGRITY,
        ) from None
    if result.format != fmt.INTEGRITY_FORMAT or result.algorithm != "sha256":
        raise BundleInvalid(
            "integrity.json: unknown format or algorithm", entry=fmt.INTEGRITY, path="$.format"
        )
    if result.version != fmt.FORMAT_VERSION:
        raise BundleInvalid(
            f"integrity.json: unsupported version {result.version}",
            entry=fmt.INTEGRITY,
            path="$.version",
        )
    if result.signature is not None and result.signature.algorithm != fmt.SIGNATURE_ALGORITHM:
        raise BundleInvalid(
            f"integrity.json: unknown signature algorithm {result.signature.algorithm!r}",
            entry=fmt.INTEGRITY,
            path="$.signature.algorithm",
        )
    names = [e.name for e in result.entries]
    if len(set(names)) != len(names):
        raise BundleInvalid("integrity.json lists an entry twice", entry=fmt.INTEGRITY)
    if any(e.size < 0 for e in result.entries):
        raise BundleInvalid("integrity.json: negative size", entry=fmt.INTEGRITY)
    return result


def parse_time(value: str) -> _dt.datetime | None:
    if type(value) is not str or not (10 <= len(value) <= 40):
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.UTC)
        parsed = parsed.astimezone(_dt.UTC)
    except (ValueError, OverflowError):
        return None
    if not 1000 <= parsed.year <= 9999:  # what a MariaDB DATETIME holds
        return None
    return parsed


def format_time(value: _dt.datetime | None) -> str | None:
    """A canonical UTC time string: ``2026-01-31T12:00:00.123456Z`` (naive means UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


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
            code="SW_CONTENT_TOO_LARGE",
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


class _CountingReader:
    """A file wrapper counting the bytes handed to the parser (to cap the header's size)."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.count += len(data)
        return data


MAX_HEADER_BYTES = 64 << 20


def read_header(fh, max_bytes: int = MAX_HEADER_BYTES) -> Header:
    """Parse the header keys; stops at the start of ``events`` (which must be an array and the
    last key). Duplicate or unknown header keys are errors; a header larger than ``max_bytes``
    (64 MiB: millions of senders or media) is refused before it fills memory."""
    fh = _CountingReader(fh)
    builder = None
    key = None
    seen: dict[str, Any] = {}
    events_found = False
    depth = 0
    try:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if fh.count > max_bytes:
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


class _HashingReader:
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


# -- the report --------------------------------------------------------------------------------


@attrs.define
class Report:
    """What a bundle holds; ``problems`` are notes that do not stop an import."""

    header: Header
    events: int = 0
    imported_events: int = 0
    skipped_read_markers: int = 0
    edited: int = 0  # events carrying original_content / edited_at (edits kept in place)
    relations: dict = attrs.Factory(lambda: {t: 0 for t in REL_TYPES})
    other_relations: int = 0
    redacted: int = 0  # events carrying redacted_at (redactions kept in place)
    threaded_replies: int = 0  # events whose content names a parent (reply_to_event_id)
    media: int = 0
    media_bytes: int = 0
    senders: int = 0
    foreign_senders: int = 0
    signed: bool = False
    signature_checked: bool = False
    problems: list = attrs.Factory(list)

    def as_dict(self) -> dict:
        room = self.header.room
        return {
            "room_name": room.name,
            "room_type": room.type,
            "source_room": self.header.source.room_id,
            "source_server": self.header.source.server_name,
            "events": self.events,
            "imported_events": self.imported_events,
            "read_markers_skipped": self.skipped_read_markers,
            "edits": self.relations["edit"] + self.edited,
            "redactions": self.relations["redaction"] + self.redacted,
            "reactions": self.relations["reaction"],
            "replies": self.relations["reply"] + self.threaded_replies,
            "other_relations": self.other_relations,
            "media": self.media,
            "media_bytes": self.media_bytes,
            "senders": self.senders,
            "foreign_senders": self.foreign_senders,
            "signed": self.signed,
            "signature_checked": self.signature_checked,
            "problems": list(self.problems),
        }


def check_room_type(room: RoomMeta) -> None:
    kind = "federated" if room.federated or room.scope == "federated" else room.type
    if kind in REFUSED_TYPES:
        from scaiwave_cli import api

        raise api.DomainError(
            f"the bundle holds a {kind} room, which cannot be imported",
            code="SW_ROOM_IMPORT_REFUSED",
            hint="sidekick, bridge, incognito and federated rooms are never imported",
        )
    if room.type not in ROOM_TYPES:
        raise BundleInvalid(
            f"manifest.json: room type {room.type[:40]!r} is not one of "
            f"{', '.join(ROOM_TYPES)} @ $.room.type",
            path="$.room.type",
            entry=fmt.MANIFEST,
        )


def validate(opened, limits: Limits | None = None, on_event=None, on_header=None) -> Report:
    """Check the manifest of an ``OpenedBundle`` against the schema and the bundle's media.

    One streamed pass over ``$.events``: relation targets and duplicate ids are checked after
    it, from an array of 64-bit id hashes (8 bytes an event). ``on_header(header)`` and
    ``on_event(event, content_json)`` (each accepted event, in order, with its content's compact
    JSON) let the importer write inside its transaction during the same pass; whatever they
    wrote must be rolled back if ``validate`` raises."""
    limits = limits or Limits()
    with opened.open_manifest() as fh:
        header = read_header(fh)
    check_room_type(header.room)
    with opened.open_manifest() as raw:
        fh = raw if opened.manifest_pending is None else _HashingReader(raw)
        report = Report(header=header)
        report.signed = opened.signature is not None
        report.signature_checked = opened.signature_checked
        senders = {}
        for i, sender in enumerate(header.senders):
            if sender.id in senders:
                raise BundleInvalid(
                    f"manifest.json: sender {sender.id[:80]!r} is listed twice",
                    path=f"$.senders[{i}].id",
                    entry=fmt.MANIFEST,
                )
            senders[sender.id] = sender
        report.senders = len(senders)
        report.foreign_senders = sum(1 for s in senders.values() if not s.local)
        media = {}
        for i, ref in enumerate(header.media):
            if ref.sha256 in media:
                raise BundleInvalid(
                    f"manifest.json: media {ref.sha256} is listed twice",
                    path=f"$.media[{i}].sha256",
                    entry=fmt.MANIFEST,
                )
            entry = opened.media.get(ref.sha256)
            if entry is None:
                raise BundleInvalid(
                    f"media {ref.sha256} ({ref.name[:80]!r}) is listed in manifest.json but "
                    "missing from the bundle",
                    path=f"$.media[{i}]",
                    entry=fmt.media_entry_name(ref.sha256, ref.name[:80]),
                )
            if ref.size != entry.size:
                raise BundleInvalid(
                    f"media {ref.sha256}: manifest says {ref.size} bytes, the bundle holds "
                    f"{entry.size}",
                    path=f"$.media[{i}].size",
                    entry=entry.info.orig_filename,
                )
            media[ref.sha256] = ref
        unlisted = sorted(set(opened.media) - set(media))
        if unlisted:
            raise BundleInvalid(
                f"media {unlisted[0]} is in the bundle but not listed in manifest.json",
                entry=opened.media[unlisted[0]].info.orig_filename,
                path="$.media",
            )
        report.media = len(media)
        report.media_bytes = sum(m.size for m in media.values())
        if on_header is not None:
            on_header(header)

        # id hashes, relations and threaded replies' parents, bucketed and spilled to a
        # temporary file as they grow, so memory stays flat however many events there are
        ids = HashBuckets(2)  # (id hash, position)
        relations = HashBuckets(3)  # (target id hash, position, kind)
        replies = HashBuckets(1)  # (parent id hash,)
        count = 0
        for raw in iter_raw_events(fh):
            path = f"$.events[{count}]"
            if count >= limits.max_events:
                raise BundleInvalid(
                    f"manifest.json holds more than {limits.max_events} events",
                    path=path,
                    entry=fmt.MANIFEST,
                    hint="raise SCAIWAVE_ROOM_MAX_EVENTS if this bundle is trusted",
                )
            event = structure(raw, Event, path)
            if event.sender not in senders:
                raise BundleInvalid(
                    f"manifest.json: {path}.sender {event.sender[:80]!r} is not in $.senders",
                    path=f"{path}.sender",
                    entry=fmt.MANIFEST,
                )
            if not 0 <= event.origin_ts <= MAX_TS:
                raise BundleInvalid(
                    f"manifest.json: {path}.origin_ts is out of range",
                    path=f"{path}.origin_ts",
                    entry=fmt.MANIFEST,
                )
            content_json = check_content(event.content, f"{path}.content", limits)
            if event.original_content is not None:
                check_content(event.original_content, f"{path}.original_content", limits)
            for j, sha in enumerate(event.media):
                if sha not in media:
                    raise BundleInvalid(
                        f"manifest.json: {path}.media[{j}] names media {sha[:80]!r}, which "
                        "the bundle does not hold (missing media)",
                        path=f"{path}.media[{j}]",
                        entry=fmt.MANIFEST,
                    )
            rel = event.relates_to
            if rel is not None:
                if not REL_TYPE_RE.match(rel.rel_type):
                    raise BundleInvalid(
                        f"manifest.json: {path}.relates_to.rel_type must be a relation type "
                        f"({', '.join(REL_TYPES)}, or lowercase letters, digits, '.' and '_', "
                        "at most 32 characters)",
                        path=f"{path}.relates_to.rel_type",
                        entry=fmt.MANIFEST,
                    )
                if rel.rel_type in REL_TYPES:
                    kind = REL_TYPES.index(rel.rel_type)
                    report.relations[rel.rel_type] += 1
                else:
                    kind = len(REL_TYPES)
                    report.other_relations += 1
                relations.add(hash(rel.event_id), count, kind)
            parent = event.content.get(REPLY_KEY)
            if type(parent) is str:
                report.threaded_replies += 1
                replies.add(hash(parent))
            if event.type in READ_MARKER_TYPES:
                report.skipped_read_markers += 1
            if event.original_content is not None or event.edited_at is not None:
                report.edited += 1
            if event.redacted_at is not None:
                report.redacted += 1
            ids.add(hash(event.id), count)
            count += 1
            if on_event is not None:
                on_event(event, content_json)
        if opened.manifest_pending is not None:
            fh.finish(opened.manifest_pending)
    report.events = count
    report.imported_events = count - report.skipped_read_markers
    try:
        _check_relations(ids, relations, replies, report)
    finally:
        for spill in (ids, relations, replies):
            spill.close()
    return report


_BUCKETS = 256


class HashBuckets:
    """Rows of ``width`` signed 64-bit ints, partitioned into 256 buckets by the low bits of
    their first column (a hash). At most ``limit`` rows stay in memory; then every bucket's rows
    are appended to one temporary file (``array.tofile``), so a million or twenty million rows
    cost the same memory. ``bucket(b)`` gives bucket ``b``'s columns back, in insertion order."""

    LIMIT = 1 << 17  # rows held in memory (about 3 MB for three columns)

    def __init__(self, width: int, limit: int | None = None):
        if not 1 <= width <= 3:
            raise ValueError("1 to 3 columns")
        self.width = width
        self.limit = limit or self.LIMIT
        self.rows = 0
        self._mem = [tuple(array("q") for _ in range(width)) for _ in range(_BUCKETS)]
        self._pending = 0
        self._segments: list[list[tuple[int, int]]] = [[] for _ in range(_BUCKETS)]
        self._file = None

    def add(self, *values: int) -> None:
        columns = self._mem[values[0] & (_BUCKETS - 1)]
        columns[0].append(values[0])
        if self.width > 1:
            columns[1].append(values[1])
            if self.width > 2:
                columns[2].append(values[2])
        self.rows += 1
        self._pending += 1
        if self._pending >= self.limit:
            self._spill()

    def _spill(self) -> None:
        import tempfile

        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="scaiwave-room-ids-")
        for b, columns in enumerate(self._mem):
            n = len(columns[0])
            if n:
                self._segments[b].append((self._file.tell(), n))
                for column in columns:
                    column.tofile(self._file)
                    del column[:]
        self._pending = 0

    def bucket(self, b: int) -> tuple:
        out = tuple(array("q") for _ in range(self.width))
        for offset, n in self._segments[b]:
            self._file.seek(offset)
            for column in out:
                column.fromfile(self._file, n)
        for column, held in zip(out, self._mem[b], strict=True):
            column.extend(held)
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _check_relations(ids, relations, replies, report: Report) -> None:
    """Event ids must be unique; each relation must point at an earlier event of the bundle;
    threaded replies whose parent is not in the bundle are counted as a problem.

    Done bucket by bucket (by the low bits of the id hashes), so the largest dict ever built
    holds 1/256 of the events: memory stays flat however long the room."""
    if ids.rows < 2 and not relations.rows and not replies.rows:
        return
    errors = []  # (position, message, path): the earliest is reported
    missing_parents = 0
    for b in range(_BUCKETS):
        first: dict[int, int] = {}
        for h, position in zip(*ids.bucket(b), strict=True):
            at = first.get(h)
            if at is None:
                first[h] = position
            else:
                path = f"$.events[{position}].id"
                errors.append((position, f"{path} repeats the id of $.events[{at}]", path))
        for h, position, kind in zip(*relations.bucket(b), strict=True):
            at = first.get(h)
            if at is None or at >= position:
                path = f"$.events[{position}].relates_to.event_id"
                where = "a later event" if at is not None else "no event of the bundle"
                name = REL_TYPES[kind] if kind < len(REL_TYPES) else "relation"
                errors.append(
                    (position, f"{path}: the {name} points at {where} (unknown event)", path)
                )
        (parents,) = replies.bucket(b)
        missing_parents += sum(1 for h in parents if h not in first)
        if len(errors) > 1:
            errors = [min(errors)]
    if errors:
        _, message, path = min(errors)
        raise BundleInvalid(f"manifest.json: {message}", path=path, entry=fmt.MANIFEST)
    if missing_parents:
        report.problems.append(
            f"{missing_parents} threaded "
            f"{'reply names' if missing_parents == 1 else 'replies name'} a parent that is "
            "not in the bundle (kept as they are)"
        )
