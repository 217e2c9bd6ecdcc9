"""`room delete`: a verified backup first, then the room's rows in bounded batches; resumable.

1. Look-ups: the tenant (in the actor's scope), the room; the counts (``--dry-run`` stops here).
2. The confirmation (``api.confirm``: the plan on stderr; ``--yes`` or a prompt).
3. ``--backup FILE``: the same deterministic bundle as `room export` (its use case) written
   atomically to FILE, then checked by `room verify` (its use case) and compared with the room
   (its id, its event count). Any failure: ``SW_ROOM_BACKUP_FAILED``, nothing deleted.
4. One transaction: the room still holds exactly what the backup holds (else ``SW_ROOM_CHANGED``),
   state ``deleting`` (compare and set), audit row ``room.delete.started`` (counts only).
   From here on the room is not open, export refuses it (``SW_ROOM_DELETING``) and so does any
   state change; running the same command again resumes here.
5. Batches, one transaction each: events (a range of stream positions), members, media rows.
   A media batch first removes the files no row outside this room references, then the rows:
   a kill in between leaves rows of a room marked ``deleting`` that point at removed files,
   which the next run deletes; no row of a visible room ever points at a missing file.
6. One transaction: the room row and the audit row ``room.delete`` (counts, never content).

Interrupted anywhere (kill -9), the room is whole (before 4) or marked ``deleting`` (after);
the same command finishes it. On a resumed delete the backup cannot be made again (the rows are
partly gone): ``--backup FILE`` must name the verified backup of the first run
(``SW_ROOM_BACKUP_MISSING`` otherwise; ``--no-backup`` finishes without one).
"""

from __future__ import annotations

import os

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.usecases.hooks import test_hook
from scaiwave_room.usecases.rooms import refuse_export

EVENT_BATCH = 5000


def plan_text(info: dict, counts: dict, backup, resuming: bool) -> str:
    lines = [
        f"delete room {info['room_id']} ({info['name']!r}, {info['state']}) of tenant "
        f"{info['tenant']}:",
        f"  {counts['events']} events ({counts['relations']} of them relations), "
        f"{counts['members']} members, {counts['media']} media references",
        f"  {counts['media_files']} media files no other room uses "
        f"({counts['media_bytes']} bytes) removed from the media store",
    ]
    if resuming:
        lines.append("  the room is already marked deleting (an interrupted delete): finishing it")
        lines.append(f"  backup: {backup} (the first run's; checked again)" if backup else
                     "  backup: none (--no-backup)")  # fmt: skip
    elif backup:
        lines.append(f"  backup: {backup} (written and verified before anything is deleted)")
    else:
        lines.append("  backup: none (--no-backup): the room cannot be restored")
    return "\n".join(lines)


def delete_room(
    app, *, room_id, tenant, backup=None, dry_run=False, yes=False, batch_size=EVENT_BATCH
) -> dict:
    """Delete the room (see the module docstring); returns the summary, or with ``dry_run``
    the counts and the plan."""
    from scaiwave_room.adapters import db, deletes

    store = app.store
    with store.read_session() as session:
        tenant_row = api.find_tenant(session, tenant, actor=app.actor)
        room = db.get_room(session, tenant_row.id, room_id)
        counts = deletes.delete_counts(session, room)
        info = {
            "room_id": room.id,
            "name": room.name,
            "state": room.state,
            "tenant": tenant_row.slug,
            "tenant_id": tenant_row.id,
        }
        resuming = room.state == "deleting"
        if backup and not resuming:
            refuse_export(room)  # before the plan: a room that cannot be backed up
    plan = plan_text(info, counts, backup, resuming)
    base = {"room_id": info["room_id"], "tenant": info["tenant"], **counts}
    if dry_run:
        app.out.info(plan)
        return {**base, "dry_run": True, "resuming": resuming, "backup": backup}
    backup_report = None
    if resuming and backup:
        backup_report = _check_backup(app, backup, info, expected_events=None, missing_ok=False)
    api.confirm(plan, yes=yes)

    if not resuming:
        before = None
        if backup:
            with store.read_session() as session:
                before = deletes.room_fingerprint(session, info["tenant_id"], room_id)
            from scaiwave_room.usecases.export import export_room

            exported = export_room(app, room_id=room_id, tenant=info["tenant_id"], to_file=backup)
            backup_report = _check_backup(app, backup, info, expected_events=exported["events"])
            backup_report["bytes"] = exported["bytes"]
        test_hook("backup")
        with store.transaction() as session:
            room = db.get_room(session, info["tenant_id"], room_id)
            if room.state == "deleting":
                pass  # a concurrent run marked it: resume its work
            else:
                if before is not None and before != deletes.room_fingerprint(
                    session, info["tenant_id"], room_id
                ):
                    raise api.DomainError(
                        f"room {room_id} changed while its backup was written; nothing was deleted",
                        code=errors.SW_ROOM_CHANGED,
                        hint="run the same command again (it writes a new backup)",
                    )
                if not deletes.mark_room_deleting(session, room, expected=info["state"]):
                    raise api.DomainError(
                        f"room {room_id} changed state meanwhile; nothing was deleted",
                        code=errors.SW_ROOM_CHANGED,
                        hint="check it with `scaiwave room show` and run the command again",
                    )
                api.audit.record(
                    session,
                    app.actor,
                    "room.delete.started",
                    f"room:{room_id}",
                    tenant_id=info["tenant_id"],
                    details={**counts, "state": info["state"], "backup": bool(backup)},
                )
        test_hook("marked")

    done = _delete_rows(app, info, batch_size=batch_size)
    summary = {
        **base,
        "result": "deleted",
        "resumed": resuming,
        "backup": backup,
        "backup_events": backup_report.get("events") if backup_report else None,
        "deleted_events": done["events"],
        "deleted_members": done["members"],
        "deleted_media": done["media"],
        "media_files_removed": done["files"],
        "bytes_freed": done["bytes"],
    }
    return summary


def _check_backup(app, path, info, *, expected_events, missing_ok=False) -> dict:
    """`room verify` of the backup, and that it is this room's (and, fresh, holds every event)."""
    from scaiwave_room.usecases.verify import verify_bundle

    if not os.path.isfile(path):
        raise api.DomainError(
            f"the room is already partly deleted and its backup {path} is not there; "
            "no new backup can be made",
            code=errors.SW_ROOM_BACKUP_MISSING,
            hint="point --backup at the first run's backup file, or finish with --no-backup",
        )
    try:
        report = verify_bundle(app, from_file=path)
    except api.ScaiwaveError as exc:
        raise api.DomainError(
            f"the backup {path} did not verify ({exc.code}: {exc}); nothing was deleted",
            code=errors.SW_ROOM_BACKUP_FAILED,
            hint="check the disk holding the backup, then run the command again",
        ) from None
    if report.get("source_room") != info["room_id"] or (
        expected_events is not None and report.get("events") != expected_events
    ):
        raise api.DomainError(
            f"the backup {path} is not a complete bundle of room {info['room_id']} "
            f"({report.get('source_room')}, {report.get('events')} events); nothing was deleted",
            code=errors.SW_ROOM_BACKUP_FAILED,
            hint="run the command again (it writes a new backup)",
        )
    return report


def _delete_rows(app, info, *, batch_size) -> dict:
    """Steps 5 and 6 of the module docstring; what this run deleted."""
    from scaiwave_room.adapters import db, deletes

    store = app.store
    media_store = store.media
    tenant_id, room_id = info["tenant_id"], info["room_id"]
    done = {"events": 0, "members": 0, "media": 0, "files": 0, "bytes": 0}
    with store.read_session() as session:
        total = deletes.room_fingerprint(session, tenant_id, room_id)[0]
    with api.progress(f"deleting room {room_id}", total=total, unit="events") as bar:
        first = True
        while True:
            with store.transaction() as session:
                n = deletes.delete_event_batch(session, tenant_id, room_id, batch_size)
                if first and n:
                    test_hook("events-txn")
            done["events"] += n
            bar.advance(n)
            if first and n:
                test_hook("events")
            first = False
            if n < batch_size:
                break
    while True:
        with store.transaction() as session:
            room = db.get_room(session, tenant_id, room_id)
            n = deletes.delete_member_batch(session, room, batch_size)
        done["members"] += n
        if n < batch_size:
            break
    while True:
        with store.transaction() as session:
            room = db.get_room(session, tenant_id, room_id)
            rows = deletes.room_media_batch(session, room, min(batch_size, 1000))
            if not rows:
                break
            # a file goes when no row but this batch's names it (rows of a room marked
            # deleting may outlive their files: the next run deletes them)
            ids = [mid for mid, _ in rows]
            leaving = deletes.files_only_here(
                session, tenant_id, None, {sha for _, sha in rows}, except_ids=ids
            )
            for sha in sorted(leaving):
                freed = media_store.delete(tenant_id, sha)
                if freed:
                    done["files"] += 1
                    done["bytes"] += freed
            done["media"] += deletes.delete_media_rows(session, tenant_id, ids)
            test_hook("media")
    with store.transaction() as session:
        room = db.get_room(session, tenant_id, room_id)
        deletes.delete_room_row(session, room)
        api.audit.record(
            session,
            app.actor,
            "room.delete",
            f"room:{room_id}",
            tenant_id=tenant_id,
            details={
                "events": done["events"],
                "members": done["members"],
                "media": done["media"],
                "media_files_removed": done["files"],
                "bytes_freed": done["bytes"],
            },
        )
        test_hook("final")
    return done
