"""`room import`: check the target, check the bundle, write the room in one transaction.

1. the tenant (in the actor's scope), the workspace (slug or id, inside the tenant) and the
   ``--as`` participant (id or e-mail, of the tenant: ``api.find_participant``; ``create_note``
   in the workspace), and the tenant's room cap;
2. the ZIP (``bundle.reader.open_bundle``: structure, caps, every entry's size and sha256);
3. one transaction (``_write``): the manifest is validated event by event
   (``bundle.validate.validate``) and each accepted event becomes a row (``EventSink``) in the
   same streamed pass (media rows with their events); after the last event the audit row, then
   the media files (``app.store.media.put_stream``, verified against their sha256), then COMMIT.
   Any refusal rolls back (zero rows) and removes the media files this run created.
   ``--dry-run`` runs ``validate`` alone and writes nothing.
"""

from __future__ import annotations

import os

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import open_bundle
from scaiwave_room.bundle.validate import validate
from scaiwave_room.usecases.hooks import test_hook
from scaiwave_room.usecases.import_rows import EVENT_COLUMNS, EVENT_TEXT_COLUMNS, EventSink
from scaiwave_room.usecases.source import bundle_path
from scaiwave_room.usecases.writer_thread import BackgroundWriter


def import_room(
    app, *, workspace, tenant, as_participant, from_file=None, dry_run=False, via="db"
) -> dict:
    """Import the bundle at ``from_file`` (or stdin) as a new room; returns the summary (or,
    with ``dry_run``, the report of what would be imported)."""
    with bundle_path(app, from_file) as path:
        if via == "api":
            from scaiwave_room.adapters.http import RoomApi

            with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
                return client.import_bundle(
                    path,
                    workspace=workspace,
                    tenant=tenant,
                    as_participant=as_participant,
                    dry_run=dry_run,
                )
        return import_bundle(
            app,
            path=path,
            workspace=workspace,
            tenant_ref=tenant,
            as_participant=as_participant,
            dry_run=dry_run,
        )


def import_bundle(
    app, *, path, workspace, tenant_ref, as_participant, dry_run=False, bundle_sha256=None
) -> dict:
    """The database import of the bundle file at ``path`` (see the module docstring);
    ``bundle_sha256`` (the file's, `room import-all` knows it) goes into the audit row."""
    limits = Limits.from_settings(app.settings)
    with app.store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
        ws = api.find_workspace(session, tenant, workspace)
        participant = _importer(session, tenant, ws, as_participant)
        _check_room_capacity(session, tenant)
        target = {
            "tenant_id": tenant.id,
            "tenant": tenant.slug,
            "workspace_id": ws.id,
            "workspace": ws.slug,
            "creator_id": participant.id,
            "bundle_sha256": bundle_sha256,
        }
    with open_bundle(path, limits, defer_manifest=True) as opened:
        if dry_run:
            return {
                "dry_run": True,
                "valid": True,
                "tenant": target["tenant"],
                "workspace": target["workspace"],
                "as": str(participant.id),
                **validate(opened, limits).as_dict(),
            }
        with api.progress(f"importing into {ws.slug}", unit="events") as bar:
            report, result = _write(app, opened=opened, limits=limits, target=target, bar=bar)
            bar.set_total(report.events)
    summary = report.as_dict()
    return {
        "room_id": result["room_id"],
        "tenant": target["tenant"],
        "workspace": target["workspace"],
        "creator": str(participant.id),
        "room_name": report.header.room.name,
        "room_type": report.header.room.type,
        "events": result["events"],
        "edits": summary["edits"],
        "redactions": summary["redactions"],
        "reactions": summary["reactions"],
        "media": result["media"],
        "media_files_written": result["media_files_written"],
        "media_names_normalised": summary["media_names_normalised"],
        "foreign_senders": summary["foreign_senders"],
        "read_markers_skipped": summary["read_markers_skipped"],
        "source_room": summary["source_room"],
        "source_server": summary["source_server"],
    }


def _importer(session, tenant, workspace, participant_ref: str):
    """The ``--as`` participant: an id or e-mail of the tenant (``SW_PARTICIPANT_NOT_FOUND``,
    exit 1, otherwise) holding ``create_note`` in the workspace (``api.permissions.check``:
    workspace owner/editor rows, or a role granting it; exit 3 otherwise)."""
    participant = api.find_participant(session, tenant, participant_ref)
    decision = api.permissions.check(
        session,
        tenant_id=tenant.id,
        participant_id=participant.id,
        permission="create_note",
        workspace_id=workspace.id,
    )
    if not decision.allowed:
        raise api.PermissionDenied(
            f"participant {participant_ref!r} may not create rooms in workspace "
            f"{workspace.slug!r}: {decision.reason or 'create_note not held'}",
            code=api.errors.SW_AUTH_INSUFFICIENT_PERMISSION,
            hint="make the participant an owner or editor of the workspace "
            "(`scaiwave role …`), or import as someone who is",
            details={"permission": "create_note", "chain": list(decision.chain)},
        )
    return participant


def _check_room_capacity(session, tenant) -> None:
    """``SW_ROOM_CAPACITY`` (exit 1) when the tenant already has ``max_rooms`` rooms that are
    not closed."""
    from scaiwave_room.adapters import db

    if tenant.max_rooms is None:
        return
    used = db.open_room_count(session, tenant.id)
    if used >= tenant.max_rooms:
        raise api.DomainError(
            f"tenant {tenant.slug!r} has {used} rooms; its limit is {tenant.max_rooms}",
            code=errors.SW_ROOM_CAPACITY,
            hint="close or delete rooms, or raise the tenant's max_rooms",
        )


def _write(app, *, opened, limits, target, bar=None, batch_size=2000):
    """Validate and write in one pass, inside one transaction: the room row is added when the
    header passed, events and their media rows as they pass (by one writer thread, which also
    draws the stream positions), the audit row after the last event, media files last; then
    COMMIT. Any error rolls everything back and removes the media files this run created.
    Returns (report, result)."""
    from scaiwave_room.adapters import db, inserts

    media_store = app.store.media
    created: list[str] = []  # sha256 of the media files this run wrote
    now = api.store.utcnow()
    room_id = api.store.new_id("room")
    tenant_id = target["tenant_id"]
    creator_id = target["creator_id"]
    try:
        with app.store.transaction() as session:
            insert = inserts.event_writer(session, EVENT_COLUMNS, EVENT_TEXT_COLUMNS)

            def write(batch):
                # the writer thread: the only user of the connection while events flow
                insert(batch)
                test_hook("events")  # tests: park here once the first batch is in

            writer = BackgroundWriter(write)
            sink = EventSink(
                room_id=room_id,
                tenant_id=tenant_id,
                creator_id=creator_id,
                flush=lambda batch: writer(insert.prepare(batch)),  # prepared in this thread
                batch_size=batch_size,
            )

            def on_header(header):
                sink.header(header)
                db.add_room(
                    session,
                    room_id=room_id,
                    tenant_id=tenant_id,
                    workspace_id=target["workspace_id"],
                    creator_id=creator_id,
                    room=header.room,
                    created_at=now,
                )

            try:
                report = validate(
                    opened, limits, on_event=sink.event, on_header=on_header, progress=bar
                )
                sink.flush()
            except BaseException:
                writer.close(discard=True)
                raise
            writer.close()
            media_refs = {ref.sha256: ref for ref in report.header.media}
            api.audit.record(
                session,
                app.actor,
                "room.import",
                f"room:{room_id}",
                tenant_id=tenant_id,
                details={
                    "workspace_id": target["workspace_id"],
                    "creator_id": creator_id,
                    "events": sink.count,
                    "media": len(media_refs),
                    "source_room": report.header.source.room_id,
                    "source_server": report.header.source.server_name,
                    "bundle_signed": report.signed,
                    **({"bundle_sha256": sha} if (sha := target.get("bundle_sha256")) else {}),
                },
            )
            session.flush()
            for sha in sorted(media_refs):
                if media_store.refresh(tenant_id, sha):  # present: protected from purge-orphans
                    continue
                with opened.open_media(sha) as src:
                    created.append(sha)
                    media_store.put_stream(tenant_id, src, expected_sha256=sha)
            test_hook("media")
    except BaseException as exc:
        for sha in created:
            try:
                os.unlink(media_store.path_for(tenant_id, sha))
            except OSError:
                pass
        if db.is_integrity_error(exc):
            # Rows go in before the whole manifest is checked: a bundle that repeats an event
            # id hits the primary key first. Name the bundle's defect if it has one.
            validate(opened, limits)
            raise api.DomainError(
                "the import collided with a concurrent write (stream positions or ids); "
                "nothing was written",
                code=errors.SW_CONFLICT,
                hint="run the import again",
            ) from None
        raise
    result = {
        "room_id": room_id,
        "events": sink.count,
        "media": len(report.header.media),
        "media_files_written": len(created),
    }
    return report, result
