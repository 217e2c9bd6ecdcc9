"""`room export` over the database: look the room up (tenant-scoped), refuse what may not leave,
then stream the bundle.

``write_bundle`` is the storage-free half: given a header, an iterator of manifest events and
the media list, it writes manifest.json incrementally (64 KiB at a time into the deflate
stream), then each media file, then integrity.json. Memory stays flat whatever the room size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from scaiwave_cli import api
from scaiwave_room import bundle as fmt

FLUSH_AT = 1 << 16


def write_bundle(
    out,
    *,
    header: dict,
    events: Iterable[dict],
    media: list[dict],
    read_media: Callable[[str], Iterable[bytes]],
    signer=None,
    progress=None,
) -> dict:
    """Write a whole bundle to ``out``. ``media``: dicts with sha256, name, size;
    ``read_media(sha256)`` yields the bytes (verified by the caller's media store).

    Returns {"events", "media", "bytes", "signed", "integrity_sha256"}."""
    writer = fmt.BundleWriter(out)
    try:
        return _write(writer, header, events, media, read_media, signer, progress)
    except BaseException:
        writer.abort()
        raise


def _write(writer, header, events, media, read_media, signer, progress) -> dict:
    count = 0
    with writer.open_entry(fmt.MANIFEST) as manifest:
        head = fmt.dumps(header)
        parts = [head[:-1], ',"events":[']
        size = sum(len(p) for p in parts)
        for event in events:
            text = fmt.dumps(event)
            parts.append("," + text if count else text)
            size += len(text) + 1
            count += 1
            if size >= FLUSH_AT:
                manifest.write("".join(parts))
                parts.clear()
                size = 0
                if progress is not None:
                    progress(events=count, bytes=writer.bytes_written)
        parts.append("]}")
        manifest.write("".join(parts))
    for item in sorted(media, key=lambda m: m["sha256"]):
        sha = item["sha256"]
        name = fmt.media_entry_name(sha, fmt.safe_media_name(item["name"], sha))
        digest = hashlib.sha256()
        with writer.open_entry(name, compress=False, size=item["size"]) as entry:
            for chunk in read_media(sha):
                digest.update(chunk)
                entry.write(chunk)
            written = entry.size
        if digest.hexdigest() != sha or written != item["size"]:
            raise api.DomainError(
                f"media {sha} in the media store has {written} bytes hashing to "
                f"{digest.hexdigest()}; its media row says {item['size']} bytes, {sha}",
                code="SW_MEDIA_CORRUPT",
                hint="the media store file or its row was changed or damaged; restore it",
            )
        if progress is not None:
            progress(events=count, bytes=writer.bytes_written)
    body = writer.finish(signer)
    if progress is not None:
        progress(events=count, bytes=writer.bytes_written)
    return {
        "events": count,
        "media": len(media),
        "bytes": writer.bytes_written,
        "signed": signer is not None,
        "integrity_sha256": hashlib.sha256(fmt.dumps(body).encode()).hexdigest(),
    }


def export_room(app, *, room_id, tenant_slug, out, sign=False, batch_size=2000, progress=None):
    """Look the room up inside the tenant, refuse what may not leave, stream the bundle.

    Every look-up runs before the first byte is written (a refused or missing room leaves
    stdout empty); then one session streams the events and runs nothing else meanwhile (the
    MariaDB server-side cursor). An audit row ``room.export`` follows in its own transaction."""
    from scaiwave_room.adapters import db

    store = app.store
    media_store = store.media
    with store.read_session() as session:
        tenant = db.get_tenant(session, tenant_slug)
        app.actor.require_tenant(tenant)
        room = db.get_room(session, tenant.id, room_id)
        db.refuse_export(room)
        signer = db.federation_signer(session, app.settings) if sign else None
        plan = db.plan_export(session, app.settings, tenant, room)
        for item in plan.media:
            if not media_store.exists(tenant.id, item["sha256"]):
                raise api.DomainError(
                    f"media {item['sha256']} ({item['name']!r}) of room {room.id} is missing "
                    "from the media store; nothing was written",
                    code="SW_MEDIA_MISSING",
                    hint="restore the media store (SCAIWAVE_MEDIA_DIR) before exporting",
                )
        events = db.iter_manifest_events(session, tenant, room, plan, batch_size=batch_size)
        summary = write_bundle(
            out,
            header=plan.header,
            events=events,
            media=plan.media,
            read_media=lambda sha: media_store.open_verified(tenant.id, sha),
            signer=signer,
            progress=progress,
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
