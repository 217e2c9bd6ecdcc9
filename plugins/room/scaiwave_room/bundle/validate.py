"""``validate(opened, limits)``: the whole DB-free check of a bundle's manifest, used by
``room verify``, ``room import`` (in the same streamed pass that writes) and ``--dry-run``; it
returns a ``Report`` of what the bundle holds."""

from __future__ import annotations

import attrs

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.bundle import fastjson
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.buckets import BUCKETS, HashBuckets
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.schema import (
    MAX_TS,
    READ_MARKER_TYPES,
    REFUSED_TYPES,
    REL_TYPE_RE,
    REL_TYPES,
    REPLY_KEY,
    ROOM_TYPES,
    Event,
    Header,
    RoomMeta,
    direct_event,
    structure,
)
from scaiwave_room.bundle.stream import (
    CountingReader,
    HashingReader,
    check_content,
    iter_raw_events,
    read_header,
)
from scaiwave_room.errors import BundleInvalid

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
    media_renamed: int = 0  # media names that were not a safe base name (kept normalised)
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
            "media_names_normalised": self.media_renamed,
            "senders": self.senders,
            "foreign_senders": self.foreign_senders,
            "signed": self.signed,
            "signature_checked": self.signature_checked,
            "problems": list(self.problems),
        }


def check_room_type(room: RoomMeta) -> None:
    kind = "federated" if room.federated or room.scope == "federated" else room.type
    if kind in REFUSED_TYPES:
        raise api.DomainError(
            f"the bundle holds a {kind} room, which cannot be imported",
            code=errors.SW_ROOM_IMPORT_REFUSED,
            hint="sidekick, bridge, incognito and federated rooms are never imported",
        )
    if room.type not in ROOM_TYPES:
        raise BundleInvalid(
            f"manifest.json: room type {room.type[:40]!r} is not one of "
            f"{', '.join(ROOM_TYPES)} @ $.room.type",
            path="$.room.type",
            entry=fmt.MANIFEST,
        )


PROGRESS_EVERY = 1024  # events between two progress reports


class _Advance:
    """Reports to a progress bar the events parsed and bytes read since the last report."""

    def __init__(self, bar, reader):
        self.bar = bar
        self.reader = reader
        self.events = 0
        self.bytes = 0

    def __call__(self, events: int) -> None:
        if self.bar is None:
            return
        size = self.reader.size
        self.bar.advance(events - self.events, nbytes=size - self.bytes)
        self.events, self.bytes = events, size


def validate(
    opened, limits: Limits | None = None, on_event=None, on_header=None, progress=None
) -> Report:
    """Check the manifest of an ``OpenedBundle`` against the schema and the bundle's media.

    One streamed pass over ``$.events``: relation targets and duplicate ids are checked after
    it, from an array of 64-bit id hashes (8 bytes an event). ``on_header(header)`` and
    ``on_event(event, content_json)`` (each accepted event, in order, with its content's compact
    JSON) let the importer write inside its transaction during the same pass; whatever they
    wrote must be rolled back if ``validate`` raises. ``progress`` (an ``api.progress`` bar) is
    advanced by the events parsed and the manifest bytes read."""
    limits = limits or Limits()
    with opened.open_manifest() as fh:
        header = read_header(fh, limits=limits)
    check_room_type(header.room)
    with opened.open_manifest() as raw:
        if opened.manifest_pending is not None:
            fh = HashingReader(raw)
        elif progress is not None:
            fh = CountingReader(raw)
        else:
            fh = raw
        advance = _Advance(progress, fh)
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
        header = report.header = _safe_media_names(header, report)
        if on_header is not None:
            on_header(header)

        # id hashes, relations and threaded replies' parents, bucketed and spilled to a
        # temporary file as they grow, so memory stays flat however many events there are
        ids = HashBuckets(2)  # (id hash, position)
        relations = HashBuckets(3)  # (target id hash, position, kind)
        replies = HashBuckets(1)  # (parent id hash,)
        count = 0
        max_events, max_depth = limits.max_events, limits.max_depth
        max_content = limits.max_content_bytes
        add_id = ids.add2
        for raw in iter_raw_events(fh, limits):
            if count >= max_events:
                raise BundleInvalid(
                    f"manifest.json holds more than {limits.max_events} events",
                    path=f"$.events[{count}]",
                    entry=fmt.MANIFEST,
                    hint="raise SCAIWAVE_ROOM_MAX_EVENTS if this bundle is trusted",
                )
            event = direct_event(raw) or structure(raw, Event, f"$.events[{count}]")
            if event.sender not in senders:
                path = f"$.events[{count}]"
                raise BundleInvalid(
                    f"manifest.json: {path}.sender {event.sender[:80]!r} is not in $.senders",
                    path=f"{path}.sender",
                    entry=fmt.MANIFEST,
                )
            if not 0 <= event.origin_ts <= MAX_TS:
                path = f"$.events[{count}]"
                raise BundleInvalid(
                    f"manifest.json: {path}.origin_ts is out of range",
                    path=f"{path}.origin_ts",
                    entry=fmt.MANIFEST,
                )
            # the compact text, or check_content's checks (and errors) the long way
            content_json = fastjson.dumps_compact_ascii(event.content, max_depth)
            if content_json is None or len(content_json) > max_content:
                content_json = check_content(event.content, f"$.events[{count}].content", limits)
            if event.original_content is not None:
                check_content(event.original_content, f"$.events[{count}].original_content", limits)
            for j, sha in enumerate(event.media) if event.media else ():
                if sha not in media:
                    path = f"$.events[{count}]"
                    raise BundleInvalid(
                        f"manifest.json: {path}.media[{j}] names media {sha[:80]!r}, which "
                        "the bundle does not hold (missing media)",
                        path=f"{path}.media[{j}]",
                        entry=fmt.MANIFEST,
                    )
            rel = event.relates_to
            if rel is not None:
                if not REL_TYPE_RE.match(rel.rel_type):
                    path = f"$.events[{count}]"
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
            add_id(hash(event.id), count)
            count += 1
            if on_event is not None:
                on_event(event, content_json)
            if not count % PROGRESS_EVERY:
                advance(count)
        advance(count)
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


def _safe_media_names(header: Header, report: Report) -> Header:
    """The header with every media name reduced to a safe base name (``fmt.safe_base_name``:
    ``../../tmp/evil`` -> ``evil``, no NUL or control characters, never empty): the name is
    only a label (media are stored and found by sha256), so an unsafe one is normalised, and
    counted in the report, rather than the whole room refused."""
    renamed = []
    refs = []
    for ref in header.media:
        safe = fmt.safe_base_name(ref.name, ref.sha256)
        if safe != ref.name:
            renamed.append((ref.name, safe))
            ref = attrs.evolve(ref, name=safe)
        refs.append(ref)
    if not renamed:
        return header
    report.media_renamed = len(renamed)
    first, safe = renamed[0]
    report.problems.append(
        f"{len(renamed)} media {'name was' if len(renamed) == 1 else 'names were'} not a safe "
        f"file name and {'is' if len(renamed) == 1 else 'are'} kept as a base name "
        f"({first[:80]!r} -> {safe[:80]!r})"
    )
    return attrs.evolve(header, media=refs)


def _check_relations(ids, relations, replies, report: Report) -> None:
    """Event ids must be unique; each relation must point at an earlier event of the bundle;
    threaded replies whose parent is not in the bundle are counted as a problem.

    Done bucket by bucket (by the low bits of the id hashes), so the largest dict ever built
    holds 1/256 of the events: memory stays flat however long the room."""
    if ids.rows < 2 and not relations.rows and not replies.rows:
        return
    errors = []  # (position, message, path): the earliest is reported
    missing_parents = 0
    for b in range(BUCKETS):
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
