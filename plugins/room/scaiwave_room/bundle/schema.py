"""The manifest schema: attrs records structured with a strict cattrs converter.

``manifest.json`` is one JSON object. Its header keys (``format``, ``format_version``,
``exported_at``, ``source``, ``room``, ``senders``, ``media``) come first and ``events`` is the
last key (``stream`` reads it that way). Every record is structured with a strict cattrs
converter (no coercion: ``"5"`` is not an int, ``true`` is not an int, unknown keys are errors)
and every error names its JSON path (``$.events[12].content``). ``validate`` is the whole check.
"""

from __future__ import annotations

import datetime as _dt
import re

import attrs
import cattrs

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.layout import SHA256_RE
from scaiwave_room.errors import BundleInvalid

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


TEXT_BYTES = 65_535  # MariaDB's TEXT column (rooms.topic): bytes, not characters


def _at_most_bytes(limit: int):
    """At most ``limit`` bytes of UTF-8 (a TEXT column's width on MariaDB)."""

    def check(instance, attribute, value):
        if value is not None and len(value.encode("utf-8", "surrogatepass")) > limit:
            raise FieldError(attribute.name, f"must be at most {limit} bytes of UTF-8")

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
    topic: str | None = attrs.field(default=None, validator=_at_most_bytes(TEXT_BYTES))
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


_EVENT_REQUIRED = frozenset({"id", "type", "sender", "origin_ts", "created_at", "content"})
_EVENT_KEYS = frozenset(
    {"original_content", "edited_at", "redacted_at", "relates_to", "media"} | _EVENT_REQUIRED
)
_RELATION_KEYS = frozenset({"rel_type", "event_id"})


def direct_event(raw) -> Event | None:
    """The Event ``structure(raw, Event, …)`` gives, built without cattrs, for the usual event
    (the right keys, each value of its exact type, accepted by the record's own validators);
    None for anything else (``structure`` then gives the Event, or the error)."""
    try:
        return _direct_event(raw)
    except Exception:  # a validator's refusal: ``structure`` words it
        return None


def _texts(*values) -> bool:
    """What ``_strict_str`` accepts, for each value: a str that is valid Unicode."""
    for value in values:
        if type(value) is not str:
            return False
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _direct_event(raw) -> Event | None:
    if type(raw) is not dict:
        return None
    keys = raw.keys()
    if keys != _EVENT_KEYS and not (_EVENT_REQUIRED <= keys <= _EVENT_KEYS):
        return None
    event_id, type_, sender, created_at = raw["id"], raw["type"], raw["sender"], raw["created_at"]
    content, origin_ts = raw["content"], raw["origin_ts"]
    if type(origin_ts) is not int or type(content) is not dict:
        return None
    if (
        type(event_id) is not str
        or type(type_) is not str
        or type(sender) is not str
        or type(created_at) is not str
        or not (event_id + type_ + sender + created_at).isascii()
    ) and not _texts(event_id, type_, sender, created_at):
        return None
    get = raw.get
    original, edited_at, redacted_at = get("original_content"), get("edited_at"), get("redacted_at")
    if original is not None and type(original) is not dict:
        return None
    if (edited_at is not None and not _texts(edited_at)) or (
        redacted_at is not None and not _texts(redacted_at)
    ):
        return None
    relates_to = get("relates_to")
    if relates_to is not None:
        if type(relates_to) is not dict or relates_to.keys() != _RELATION_KEYS:
            return None
        rel_type, target = relates_to["rel_type"], relates_to["event_id"]
        if not _texts(rel_type, target):
            return None
        relates_to = Relation(rel_type=rel_type, event_id=target)
    media = get("media", _NO_MEDIA)
    if media is _NO_MEDIA:
        media = []
    elif type(media) is not list or (media and not _texts(*media)):
        return None
    else:
        media = list(media)
    return Event(
        id=event_id,
        type=type_,
        sender=sender,
        origin_ts=origin_ts,
        created_at=created_at,
        content=content,
        original_content=original,
        edited_at=edited_at,
        redacted_at=redacted_at,
        relates_to=relates_to,
        media=media,
    )


_NO_MEDIA = object()


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
