"""`room import`'s rows: each accepted manifest event becomes an ``events`` row (and a media row
per attachment) ready for ``adapters.inserts.event_writer``, with new ids derived from the old ones.
Times become the UTC text the store keeps (``db_time``)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import uuid

from scaiwave_cli import api
from scaiwave_room.bundle import fastjson
from scaiwave_room.bundle import schema as mf
from scaiwave_room.bundle.stream import encode_compact


def encode_fast(value) -> str:
    """``encode_compact(value)``, through orjson where it gives the same text."""
    text = fastjson.dumps_compact_ascii(value, _ANY_DEPTH)
    return text if text is not None else encode_compact(value)


_ANY_DEPTH = 1 << 30  # the manifest's depth cap was checked before


def imported_sender(sender: mf.Sender) -> dict:
    return {
        "display_name": sender.display_name,
        "avatar_url": sender.avatar_url,
        "fqid": sender.id,
    }


def strip_sidekick(content: dict) -> dict:
    if any(k in content for k in mf.SIDEKICK_KEYS):
        return {k: v for k, v in content.items() if k not in mf.SIDEKICK_KEYS}
    return content


_SIDEKICK = frozenset(mf.SIDEKICK_KEYS)

# stream_position comes last: the writer thread appends it (``adapters.inserts.event_writer``);
# JSON columns are given as JSON text and times as UTC text (``db_time``)
EVENT_TEXT_COLUMNS = ("content", "original_content", "created_at", "edited_at", "redacted_at")
EVENT_COLUMNS = (
    "id",
    "tenant_id",
    "room_id",
    "sender_id",
    "event_type",
    "content",
    "original_content",
    "origin_ts",
    "created_at",
    "edited_at",
    "redacted_at",
    "relation_type",
    "relates_to_id",
    "do_not_index",
    "event_uuid",
    "stream_position",
)


class EventSink:
    """Turns each accepted manifest event into an events row (and a media row per attachment)
    and hands them to ``flush`` in batches ``(event_rows, media_rows)``. New ids are derived
    from the old ones (``evt-`` + blake2b(per-import nonce + old id)), so an edit, redaction,
    reaction or threaded reply finds its target's new id without a table of every id."""

    def __init__(self, *, room_id, tenant_id, creator_id, flush, batch_size=2000):
        self._blake = hashlib.blake2b
        self._nonce = uuid.uuid4().hex.encode()
        self._encode = encode_fast  # ASCII JSON text, as the store's JSON type writes it
        self._storage_key = api.store.media.storage_key
        self.room_id = room_id
        self.tenant_id = tenant_id
        self.creator_id = creator_id
        self._flush = flush
        self.batch_size = batch_size
        self.rows: list[tuple] = []
        self.media_rows: list[dict] = []
        self.media: dict = {}  # sha256 -> manifest MediaRef
        self.count = 0
        self.media_count = 0
        self.skipped = 0
        self.inline: dict[str, str] = {}

    def new_id(self, old_id: str) -> str:
        return "evt-" + self._blake(self._nonce + old_id.encode(), digest_size=16).hexdigest()

    def media_id(self, old_event_id: str, sha: str) -> str:
        """The new media id of ``sha`` on the event (known before the row exists)."""
        digest = self._blake(self._nonce + old_event_id.encode() + sha.encode(), digest_size=16)
        return "med-" + digest.hexdigest()

    def header(self, header: mf.Header) -> None:
        # the JSON text of each author's _imported_sender block, spliced into content
        self.inline = {s.id: self._encode(imported_sender(s)) for s in header.senders}
        self.media = {ref.sha256: ref for ref in header.media}

    def event(self, event: mf.Event, content_json: str) -> None:
        if event.type in mf.READ_MARKER_TYPES:
            self.skipped += 1
            return
        content = event.content
        if "_imported_sender" in content or not _SIDEKICK.isdisjoint(content):
            content = {
                k: v
                for k, v in content.items()
                if k != "_imported_sender" and k not in mf.SIDEKICK_KEYS
            }
            content_json = None
        rewritten = None
        if event.media and not mf.MEDIA_KEYS.isdisjoint(content):
            rewritten = dict(content)
            for key in mf.MEDIA_KEYS:
                value = rewritten.get(key)
                if isinstance(value, str) and value.startswith(mf.MEDIA_REF_PREFIX):
                    sha = value[len(mf.MEDIA_REF_PREFIX) :]
                    if sha in event.media:
                        rewritten[key] = self.media_id(event.id, sha)
        parent = content.get(mf.REPLY_KEY)
        if type(parent) is str:
            rewritten = rewritten if rewritten is not None else dict(content)
            rewritten[mf.REPLY_KEY] = self.new_id(parent)
        if rewritten is not None and rewritten != content:
            content = rewritten
            content_json = None
        if content_json is None:
            content_json = self._encode(content)
        block = self.inline[event.sender]
        if content_json == "{}":
            content_json = '{"_imported_sender":' + block + "}"
        else:
            content_json = "".join((content_json[:-1], ',"_imported_sender":', block, "}"))
        original = event.original_content
        if original is not None:
            original = self._encode(strip_sidekick(original))
        rel = event.relates_to
        event_id = self.new_id(event.id)
        created_at = db_time(event.created_at)
        edited_at, redacted_at = event.edited_at, event.redacted_at
        self.rows.append(
            (
                event_id,
                self.tenant_id,
                self.room_id,
                self.creator_id,
                event.type,
                content_json,
                original,
                event.origin_ts,
                created_at,
                db_time(edited_at) if edited_at is not None else None,
                db_time(redacted_at) if redacted_at is not None else None,
                rel.rel_type if rel else None,
                self.new_id(rel.event_id) if rel else None,
                True,
                None,  # event_uuid: the source's idempotency keys mean nothing here
            )
        )
        for sha in dict.fromkeys(event.media) if event.media else ():
            ref = self.media[sha]
            self.media_rows.append(
                {
                    "id": self.media_id(event.id, sha),
                    "tenant_id": self.tenant_id,
                    "sha256": sha,
                    "name": ref.name,
                    "size": ref.size,
                    "content_type": ref.content_type or "application/octet-stream",
                    "storage_key": self._storage_key(self.tenant_id, sha),
                    "room_id": self.room_id,
                    "event_id": event_id,
                    "uploader_id": self.creator_id,
                    "created_at": _utc(event.created_at),
                }
            )
            self.media_count += 1
        self.count += 1
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.rows or self.media_rows:
            self._flush((self.rows, self.media_rows))
            self.rows = []
            self.media_rows = []


def _utc(text: str | None, _utc=_dt.UTC):
    """Manifest time text (validated) -> naive UTC datetime (how the store keeps times)."""
    if text is None:
        return None
    value = _dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value
    if value.tzinfo is not _utc:
        value = value.astimezone(_utc)
    return value.replace(tzinfo=None)


_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII).fullmatch


def db_time(text: str | None) -> str | None:
    """Manifest time text (validated) -> ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC: the text
    SQLAlchemy stores for a DATETIME on SQLite and a literal MariaDB's DATETIME(6) takes. The
    canonical form an export writes (``YYYY-MM-DDTHH:MM:SS.ffffffZ``) is sliced, anything
    else parsed."""
    if text is None:
        return None
    if _CANONICAL_TIME(text):
        return text[:10] + " " + text[11:26]
    return _utc(text).isoformat(" ", "microseconds")
