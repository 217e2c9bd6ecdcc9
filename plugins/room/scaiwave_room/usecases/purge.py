"""`room purge`: retention. Deletes the events created before a date, in bounded batches, and
keeps the rooms.

Relations stay consistent: a batch is the next old events (stream order) plus every event that
points at one of them (``relates_to_id``: reactions, edits, relation events of any kind, at any
depth), even a newer one; a reaction to a deleted message would point at nothing. A reply keeps
its own text (``content.reply_to_event_id`` then names a purged event, as it names a redacted
one); redactions are a field of the event itself and go with it. The media rows of those events
go in the same transaction.

Each batch is one transaction, so every committed state is consistent; killed anywhere, the
events not yet purged are whole and the same command purges them. After each commit the batch's
media files that no row references any more are removed; a kill in that instant leaves such
files for `scaiwave admin media purge-orphans`.
"""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_room.usecases.hooks import test_hook
from scaiwave_room.usecases.rooms import refuse_deleting

BATCH = 5000


def purge_events(
    app, *, tenant, before, room_id=None, dry_run=False, yes=False, batch_size=BATCH
) -> dict:
    """Purge (or with ``dry_run`` count) the events created before ``before`` (aware UTC)."""
    from scaiwave_room.adapters import db, deletes

    store = app.store
    with store.read_session() as session:
        tenant_row = api.find_tenant(session, tenant, actor=app.actor)
        if room_id:
            room = db.get_room(session, tenant_row.id, room_id)
            refuse_deleting(room)
            rooms = [room]
        else:
            rooms = deletes.purge_rooms(session, tenant_row.id)
        room_ids = [r.id for r in rooms]
        counts = deletes.purge_counts(session, tenant_row.id, room_ids, before)
    where = f"room {room_id}" if room_id else f"{len(room_ids)} rooms"
    plan = (
        f"purge the events created before {api.isoformat(before)} in {where} of tenant "
        f"{tenant_row.slug}:\n"
        f"  {counts['events']} events, and {counts['relations']} newer relation events "
        f"pointing at them (reactions, edits)\n"
        f"  {counts['media']} media references ({counts['media_bytes']} bytes); files no row "
        "uses any more are removed\n"
        "  the rooms, their members and newer events stay"
    )
    base = {
        "tenant": tenant_row.slug,
        "before": api.isoformat(before),
        "rooms": len(room_ids),
        **counts,
    }
    if dry_run:
        app.out.info(plan)
        return {**base, "dry_run": True}
    api.confirm(plan, yes=yes)
    with store.transaction() as session:
        api.audit.record(
            session,
            app.actor,
            "room.purge.started",
            f"room:{room_id}" if room_id else f"tenant:{tenant_row.id}",
            tenant_id=tenant_row.id,
            details={**base},
        )
    done = {"events": 0, "relations": 0, "media": 0, "files": 0, "bytes": 0}
    media_store = store.media
    with api.progress("purging events", total=counts["events"], unit="events") as bar:
        first = True
        for rid in room_ids:
            while True:
                with store.transaction() as session:
                    ids = deletes.old_event_ids(session, tenant_row.id, rid, before, batch_size)
                    if not ids:
                        break
                    related = deletes.relation_closure(session, tenant_row.id, ids)
                    newer = deletes.count_created_since(session, tenant_row.id, related, before)
                    media = deletes.media_of_events(session, tenant_row.id, ids + related)
                    done["media"] += deletes.delete_media_rows(
                        session, tenant_row.id, [mid for mid, _, _ in media]
                    )
                    n = deletes.delete_events_by_id(session, tenant_row.id, ids + related)
                    if first:
                        test_hook("purge-txn")
                done["events"] += n
                done["relations"] += newer
                bar.advance(n - newer)
                if media:
                    with store.read_session() as session:
                        gone = deletes.files_only_here(
                            session, tenant_row.id, None, {sha for _, sha, _ in media}
                        )
                    for sha in sorted(gone):
                        freed = media_store.delete(tenant_row.id, sha)
                        done["files"] += bool(freed)
                        done["bytes"] += freed
                if first:
                    test_hook("purge")
                first = False
    details = {
        "events": done["events"],
        "relations": done["relations"],
        "media": done["media"],
        "media_files_removed": done["files"],
        "bytes_freed": done["bytes"],
    }
    with store.transaction() as session:
        api.audit.record(
            session,
            app.actor,
            "room.purge",
            f"room:{room_id}" if room_id else f"tenant:{tenant_row.id}",
            tenant_id=tenant_row.id,
            details={"before": base["before"], "rooms": len(room_ids), **details},
        )
    return {
        "tenant": tenant_row.slug,
        "before": base["before"],
        "rooms": len(room_ids),
        "result": "purged",
        "purged_events": done["events"] - done["relations"],
        "purged_relations": done["relations"],
        "purged_media": done["media"],
        "media_files_removed": done["files"],
        "bytes_freed": done["bytes"],
    }
