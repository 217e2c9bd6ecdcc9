"""`room export`: look the room up (tenant-scoped), refuse what may not leave, stream the bundle
to stdout or a file written atomically; over the database or the HTTP API.

Every look-up runs before the first byte is written (a refused or missing room leaves stdout
empty); then one session streams the events and runs nothing else meanwhile (the MariaDB
server-side cursor). An audit row ``room.export`` follows in its own transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import sys

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.schema import MAX_ID, MEDIA_KEYS, MEDIA_REF_PREFIX, format_time
from scaiwave_room.bundle.signing import Ed25519Signer
from scaiwave_room.bundle.writer import write_bundle
from scaiwave_room.usecases.hooks import test_hook
from scaiwave_room.usecases.rooms import refuse_export

# Participants of these kinds are not local people: their events travel as foreign senders.
FOREIGN_KINDS = ("federated", "shadow")


def export_room(
    app,
    *,
    room_id,
    tenant,
    to_file=None,
    sign=False,
    server_name=None,
    via="db",
    batch_size=2000,
    epoch=None,
):
    """Write the bundle to ``to_file`` (atomically: the whole file or none) or stdout; returns
    the summary ({"room_id", "tenant", "events", "media", "bytes", ...}; with ``to_file`` also
    the file's ``sha256``). A signed bundle names a real server
    (``api.fedkeys.require_server_name``: never unset or localhost) before anything is written;
    over the API the server signs under its own name. ``epoch``: the export's own time (the
    manifest's ``exported_at`` and the ZIP entries' time), as ``SOURCE_DATE_EPOCH`` would set
    it (`room export-all` pins one for every room)."""
    server = None
    if via != "api" and (sign or server_name is not None):
        server = api.fedkeys.require_server_name(app.settings, server_name)
    with _target(to_file) as out:
        if via == "api":
            return _export_via_api(app, room_id, tenant, out, sign)
        summary = _export_from_db(app, room_id, tenant, out, sign, batch_size, server, epoch)
        if isinstance(out, _HashingStream):
            summary["sha256"] = out.hexdigest()
        return summary


@contextlib.contextmanager
def _target(to_file):
    """stdout (binary), or ``to_file`` through ``api.atomic_writer``, mode 0600 whatever the
    umask: a bundle holds every message of the room."""
    if to_file is None:
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    with api.atomic_writer(to_file, mode=0o600) as out:
        yield _HashingStream(out)


class _HashingStream:
    """The file being written, hashed on the way (the bundle's sha256 without reading it back)."""

    def __init__(self, raw):
        import hashlib

        self._raw = raw
        self._hash = hashlib.sha256()
        self._started = False

    def write(self, data) -> int:
        if not self._started:
            self._started = True
            test_hook("bundle")  # tests: park once the temporary file holds its first bytes
        self._hash.update(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _export_via_api(app, room_id, tenant, out, sign) -> dict:
    from scaiwave_room.adapters.http import RoomApi

    with (
        api.progress(f"exporting room {room_id}", unit="bytes") as bar,
        RoomApi(app.settings.api_url, app.settings.admin_token) as client,
    ):
        seen = [0]

        def advance(total: int) -> None:
            bar.advance(total - seen[0], nbytes=total - seen[0])
            seen[0] = total

        size = client.export(room_id, tenant, out, sign=sign, progress=advance)
    return {"room_id": room_id, "tenant": tenant, "bytes": size, "via": "api"}


def _export_from_db(app, room_id, tenant_ref, out, sign, batch_size, server=None, epoch=None):
    from scaiwave_room.adapters import db

    store = app.store
    media_store = store.media
    with store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
        room = db.get_room(session, tenant.id, room_id)
        refuse_export(room)
        signer = federation_signer(session, app.settings) if sign else None
        plan = plan_export(session, app.settings, tenant, room, server_name=server, epoch=epoch)
        for item in plan.media:
            if not media_store.exists(tenant.id, item["sha256"]):
                raise api.DomainError(
                    f"media {item['sha256']} ({item['name']!r}) of room {room.id} is missing "
                    "from the media store; nothing was written",
                    code=api.errors.SW_MEDIA_MISSING,
                    hint="restore the media store (SCAIWAVE_MEDIA_DIR) before exporting",
                )
        from scaiwave_room.usecases.export_rows import manifest_events

        rows = db.stream_events(session, tenant.id, room.id, batch_size=batch_size)
        events = manifest_events(rows, plan, db.StoredDecoders(session))
        with api.progress(f"exporting room {room.id}", total=plan.events, unit="events") as bar:
            summary = write_bundle(
                out,
                header=plan.header,
                events=events,
                media=plan.media,
                read_media=lambda sha: media_store.open_verified(tenant.id, sha),
                signer=signer,
                progress=bar,
                epoch=epoch,
            )
        room_id, tenant_id = room.id, tenant.id
        summary.update({"room_id": room_id, "tenant": tenant.slug})
    if signer is not None:
        summary["key_id"] = signer.key_id
    try:
        with store.transaction() as session:
            api.audit.record(
                session,
                app.actor,
                "room.export",
                f"room:{room_id}",
                tenant_id=tenant_id,
                details={
                    k: summary.get(k) for k in ("events", "media", "bytes", "signed", "key_id")
                },
            )
    except Exception as exc:  # a read-only database must not fail a finished export
        app.warn(f"the export finished but its audit row could not be written: {exc}")
    return summary


def federation_signer(session, settings) -> Ed25519Signer:
    """The server's active federation Ed25519 key (``api.fedkeys``) as a bundle signer; the
    key id is the row's id. ``SW_FEDERATION_KEY_MISSING`` (exit 1) when there is none. The
    private key is never printed."""
    row = api.fedkeys.active_key(session)
    signer = Ed25519Signer(api.fedkeys.private_key(row, settings), key_id=row.id)
    if signer.public_key_raw != api.fedkeys.unb64(row.public_key):
        raise api.ConfigError(
            f"federation key {row.id}: the stored private key does not match its public key",
            code=errors.SW_FEDERATION_KEY_INVALID,
            hint="rotate the key with `scaiwave admin federation key rotate`",
        )
    return signer


# -- the manifest's header and events ----------------------------------------------------------


class ExportPlan:
    """What the export needs besides the events themselves, read before the event stream opens:
    the manifest header, the media list, each sender's FQID, each event's media, the media
    id -> sha256 map (``content.media_id`` travels as ``sha256:<hex>``) and the event count."""

    def __init__(self, header, media, fqids, media_of, media_ids, events=None):
        self.server = header["source"]["server_name"]
        self.header = header
        self.media = media
        self.fqids = fqids
        self.media_of = media_of
        self.media_ids = media_ids
        self.events = events


def participant_fqid(participant, server_name: str) -> str:
    """``@<id>:<server>`` for a local participant; a foreign one's own ``fqid`` when known."""
    if participant is not None and participant.fqid:
        return participant.fqid
    return f"@{participant.id}:{server_name}"


def _imported_block(value):
    """A valid ``_imported_sender`` block (a dict with a usable ``fqid``) or None."""
    if isinstance(value, dict):
        fqid = value.get("fqid")
        if isinstance(fqid, str) and 0 < len(fqid) <= MAX_ID:
            return value
    return None


def _str_or_none(value, limit: int):
    """A string the manifest accepts (the store's column width), else None."""
    if not isinstance(value, str):
        return None
    return value[:limit]


def plan_export(session, settings, tenant, room, *, server_name=None, epoch=None) -> ExportPlan:
    from scaiwave_room.adapters import db

    server = server_name or settings.server_name
    senders: dict = {}
    local_ids = set()
    foreign = []
    for sender_id, raw in db.sender_blocks(session, tenant.id, room.id):
        parsed = None
        if isinstance(raw, str):
            try:
                parsed = _imported_block(json.loads(raw))
            except ValueError:
                parsed = None
        if parsed is None:
            local_ids.add(sender_id)
        else:
            foreign.append((parsed["fqid"], json.dumps(parsed, sort_keys=True), parsed))
    participants = db.participants(session, tenant.id, local_ids)
    fqids = {}
    for pid in sorted(local_ids):
        p = participants.get(pid)
        key = participant_fqid(p, server) if p is not None else f"@{pid}:{server}"
        fqids[pid] = key
        senders[key] = {
            "id": key,
            "display_name": p.display_name if p is not None else None,
            "avatar_url": p.avatar_url if p is not None else None,
            "local": p is not None and p.kind not in FOREIGN_KINDS,
        }
    # one block per FQID, the same whatever order the database returns them in
    for fqid, _, parsed in sorted(foreign, key=lambda f: (f[0], f[1])):
        senders.setdefault(
            fqid,
            {
                "id": fqid,
                "display_name": _str_or_none(parsed.get("display_name"), 200),
                "avatar_url": _str_or_none(parsed.get("avatar_url"), 1024),
                "local": False,
            },
        )

    media: dict = {}
    media_of: dict = {}
    media_ids: dict = {}
    for media_id, event_id, sha, name, size, content_type in db.room_media(
        session, tenant.id, room.id
    ):
        media.setdefault(
            sha, {"sha256": sha, "name": name, "size": size, "content_type": content_type}
        )
        media_ids[media_id] = sha
        if event_id is not None:
            shas = media_of.setdefault(event_id, [])
            if sha not in shas:
                shas.append(sha)

    count, last = db.event_summary(session, tenant.id, room.id)
    if epoch is None:
        epoch = fmt.source_date_epoch()
    if epoch is not None:
        exported = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
    else:
        # never the wall clock: the room's last event (or its creation) dates the export
        exported = max(filter(None, [last, room.created_at]))
    header = {
        "format": fmt.FORMAT,
        "format_version": fmt.FORMAT_VERSION,
        "exported_at": format_time(exported),
        "source": {"server_name": server, "room_id": room.id, "tenant": tenant.slug},
        "room": {
            "name": room.name,
            "topic": room.topic,
            "type": room.type,
            "scope": room.scope,
            "created_at": format_time(room.created_at),
            "federated": bool(room.federated),
        },
        "senders": sorted(senders.values(), key=lambda s: s["id"]),
        "media": list(media.values()),
    }
    return ExportPlan(header, list(media.values()), fqids, media_of, media_ids, events=count)


def to_manifest_event(row, plan: ExportPlan, _time=format_time) -> dict:
    """One row of ``adapters.db.stream_events`` as a manifest event record."""
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
    content = content if isinstance(content, dict) else {}
    block = _imported_block(content.get("_imported_sender"))
    if block is not None:
        sender = block["fqid"]
        content = {k: v for k, v in content.items() if k != "_imported_sender"}
    else:
        sender = plan.fqids.get(sender_id) or f"@{sender_id}:{plan.server}"
    media = plan.media_of.get(event_id, ())
    if plan.media_ids and not MEDIA_KEYS.isdisjoint(content):
        # media ids mean nothing on another server: the bundle names media by sha256
        media = list(media)
        content = dict(content)
        for key in sorted(MEDIA_KEYS):
            value = content.get(key)
            sha = plan.media_ids.get(value) if isinstance(value, str) else None
            if sha is not None:
                content[key] = MEDIA_REF_PREFIX + sha
                if sha not in media:
                    media.append(sha)
    return {
        "id": event_id,
        "type": event_type,
        "sender": sender,
        "origin_ts": origin_ts,
        "created_at": _time(created_at),
        "content": content,
        "original_content": original if isinstance(original, dict) else None,
        "edited_at": _time(edited_at),
        "redacted_at": _time(redacted_at),
        "relates_to": {"rel_type": relation_type or "relation", "event_id": relates_to_id}
        if relates_to_id
        else None,
        "media": list(media),
    }
