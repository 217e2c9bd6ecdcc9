"""`admin delete-tenant`: a suspended tenant and everything of it, after a verified backup, in
bounded batches; resumable. Platform admins only.

1. The plan (read only): the tenant (``suspended``, or ``deleting`` from an interrupted run; an
   ``active`` one is refused: suspend it first), the rows of every table that has a tenant
   (``adapters.tenant_deletion.steps``: the schema's metadata, never a list), the media files,
   the audit rows that stay (under the platform), the rooms `room export` refuses, the backup.
   ``--backup-dir``: the room plugin is there and DIR holds nothing but this tenant's backup.
   ``--dry-run`` stops here.
2. The confirmation (``api.confirm``: the plan on stderr; ``--yes`` or a prompt).
3. ``--backup-dir DIR`` (``usecases.tenant_backup``): room bundles, people.zip, backup.json,
   each verified, while the tenant is still ``suspended``. Any failure: nothing deleted.
4. One transaction: the tenant still holds what the backup holds (else ``SW_TENANT_CHANGED``),
   status ``deleting`` (compare and set), audit row ``tenant.delete-started`` (the counts, the
   backup's directory and backup.json's sha256). From here on running the same command again
   resumes here (no new backup: rows are going).
5. The tenant's rows, table by table (children first), ``--batch-size`` rows per transaction;
   then the tenant's audit rows move to the platform (``tenant_id`` NULL, ``details`` as they
   were); then the tenant's media files leave the media store.
6. One transaction: the tenant row (the foreign keys' ON DELETE CASCADE takes a row that
   arrived meanwhile) and the platform's audit row ``tenant.delete`` (counts, backup.json's
   sha256; never content).

Interrupted anywhere (kill -9): the tenant is whole and ``suspended`` (before 4) or
``deleting``; the same command finishes it. `update-tenant` does not change the status of a
``deleting`` tenant, and the sync skips it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaiwave_admin import errors
from scaiwave_admin.usecases.hooks import test_hook
from scaiwave_cli import api

BATCH = 5000


@dataclass
class Plan:
    tenant_id: str
    slug: str
    status: str
    tenant_record: dict
    counts: dict
    tables: dict
    rooms: list = field(default_factory=list)  # exportable: room_id, name, events, file
    not_exportable: list = field(default_factory=list)  # room_id, name, reason
    backup_dir: str | None = None
    started: dict | None = None  # resuming: the tenant.delete-started row's details

    @property
    def resuming(self) -> bool:
        return self.status == "deleting"

    def text(self) -> str:
        c = self.counts
        lines = [
            f"delete tenant {self.slug!r} ({self.tenant_id}, {self.tenant_record['name']!r}, "
            f"{self.status}) and everything of it, for good:",
            f"  {c['rooms']} rooms, {c['events']} events, {c['media']} media rows; "
            f"{c['media_files']} media files ({api.human_bytes(c['media_bytes'])}) removed from "
            "the media store",
            f"  {c['participants']} participants, {c['workspaces']} workspaces, {c['roles']} "
            f"custom roles; {sum(self.tables.values())} rows in {len(self.tables)} tables in all",
            f"  {c['audit_rows']} audit rows of the tenant are kept under the platform "
            "(tenant_id NULL), with the audit rows of this deletion",
        ]
        if self.resuming:
            lines.append(
                "  the tenant is already marked deleting (an interrupted delete-tenant): "
                "finishing it"
            )
            lines.append(
                f"  backup: {self.backup_dir} (the first run's; checked)"
                if self.backup_dir
                else "  backup: none (--no-backup)"
            )
            return "\n".join(lines)
        if self.backup_dir:
            lines.append(
                f"  backup first, into {self.backup_dir}: {len(self.rooms)} room bundles "
                "(`room export`, each checked by `room verify`), people.zip and backup.json; "
                "any failure stops before anything is deleted"
            )
            if self.not_exportable:
                shown = ", ".join(f"{r['room_id']} ({r['reason']})" for r in self.not_exportable)
                lines.append(
                    f"  {len(self.not_exportable)} rooms cannot be exported and are not "
                    f"in the backup: {shown}"
                )
        else:
            lines.append(
                "  no backup (--no-backup): the tenant's rooms and people cannot be restored"
            )
        return "\n".join(lines)

    def record(self) -> dict:
        return {
            "result": "would delete",
            "dry_run": True,
            "tenant": self.slug,
            "tenant_id": self.tenant_id,
            "status": self.status,
            "resuming": self.resuming,
            "counts": self.counts,
            "tables": self.tables,
            "rooms_to_export": len(self.rooms) if self.backup_dir and not self.resuming else 0,
            "not_exportable": self.not_exportable,
            "backup_dir": self.backup_dir,
        }


def make_plan(app, tenant_ref: str, backup_dir) -> Plan:
    """Step 1 of the module docstring (read only)."""
    from scaiwave_admin.adapters import room_cli
    from scaiwave_admin.adapters import tenant_deletion as db
    from scaiwave_admin.usecases.tenant_backup import room_file

    with app.store.read_session() as s:
        tenant = api.find_tenant(s, tenant_ref, actor=app.actor)
        if tenant.status == "active":
            raise api.DomainError(
                f"tenant {tenant.slug!r} is active: only a suspended tenant can be deleted",
                code=errors.SW_TENANT_ACTIVE,
                hint=f"suspend it first (its people lose access at once): scaiwave admin "
                f"update-tenant {tenant.slug} --status suspended",
            )
        tables = {st.name: db.count(s, st, tenant.id) for st in db.steps() if st.kind != "audit"}
        audit = next(st for st in db.steps() if st.kind == "audit")
        rooms = db.rooms(s, tenant.id)
        events = db.events_per_room(s, tenant.id, [r.id for r in rooms])
        started = db.started_entry(s, tenant) if tenant.status == "deleting" else None
        plan = Plan(
            tenant_id=tenant.id,
            slug=tenant.slug,
            status=tenant.status,
            tenant_record={
                "id": tenant.id,
                "slug": tenant.slug,
                "name": tenant.name,
                "scaikey_tenant_id": tenant.scaikey_tenant_id,
                "partner": tenant.partner.slug if tenant.partner else None,
            },
            counts={},
            tables=tables,
            backup_dir=str(backup_dir) if backup_dir else None,
            started=started.details if started is not None else None,
        )
        audit_rows = db.count(s, audit, tenant.id)
    for room in rooms:
        reason = room_cli.export_refusal(room)
        if reason:
            plan.not_exportable.append({"room_id": room.id, "name": room.name, "reason": reason})
        else:
            plan.rooms.append(
                {
                    "room_id": room.id,
                    "name": room.name,
                    "events": events[room.id],
                    "file": room_file(room.id),
                }
            )
    files = list(app.store.media.files(tenant.id))
    plan.counts = {
        **{
            k: tables.get(k, 0)
            for k in ("rooms", "events", "media", "participants", "workspaces", "roles")
        },
        "media_files": len(files),
        "media_bytes": sum(f.size for f in files),
        "audit_rows": audit_rows,
    }
    return plan


def delete_tenant(
    app, *, tenant_ref, backup_dir=None, dry_run=False, yes=False, batch_size=BATCH
) -> dict:
    """Delete the tenant (see the module docstring); the summary, or with ``dry_run`` the plan."""
    from scaiwave_admin.usecases import tenant_backup

    app.actor.require_platform("delete tenants")
    plan = make_plan(app, tenant_ref, backup_dir)
    backup = None
    if plan.resuming and backup_dir:
        backup = tenant_backup.check_resumed(backup_dir, (plan.started or {}).get("backup"))
    elif backup_dir:
        if plan.rooms:
            from scaiwave_admin.adapters.room_cli import RoomCli

            RoomCli(app.settings).require()
        tenant_backup.check_dir(backup_dir, plan.tenant_id, [r["file"] for r in plan.rooms])
    if dry_run:
        app.out.info(f"{plan.text()}\ndry run: nothing was changed")
        return plan.record()
    api.confirm(plan.text(), yes=yes)
    if not plan.resuming:
        backup = _backup_and_mark(app, plan, backup_dir)
    return _finish(app, plan, backup, batch_size)


def _backup_and_mark(app, plan: Plan, backup_dir) -> dict | None:
    """Steps 3 and 4: the backup (if asked), then ``deleting`` with its audit row."""
    from scaiwave_admin.adapters import tenant_deletion as db
    from scaiwave_admin.usecases import tenant_backup

    store = app.store
    backup, before = None, None
    if backup_dir:
        with store.read_session() as s:
            before = db.fingerprint(s, plan.tenant_id)
        backup = tenant_backup.write(app, plan, backup_dir)
    with store.transaction() as s:
        tenant = api.find_tenant(s, plan.tenant_id, actor=app.actor, for_update=True)
        if tenant.status == "deleting":
            return backup  # a concurrent run marked it: carry on with its work
        if before is not None and before != db.fingerprint(s, plan.tenant_id):
            raise api.DomainError(
                f"tenant {plan.slug!r} changed while its backup was written; nothing was deleted",
                code=errors.SW_TENANT_CHANGED,
                hint="check that it is suspended, then run the same command again (bundles "
                "still whole are kept)",
            )
        if not db.mark_deleting(s, plan.tenant_id):
            raise api.DomainError(
                f"tenant {plan.slug!r} is {tenant.status} now, not suspended; nothing was deleted",
                code=errors.SW_TENANT_ACTIVE,
                hint=f"suspend it again: scaiwave admin update-tenant {plan.slug} --status "
                "suspended",
            )
        api.audit.record(
            s,
            app.actor,
            "tenant.delete-started",
            f"tenant:{plan.slug}",
            tenant_id=plan.tenant_id,
            details={
                "tenant_id": plan.tenant_id,
                "slug": plan.slug,
                "counts": plan.counts,
                "tables": plan.tables,
                "backup": {"dir": backup["dir"], "sha256": backup["sha256"]} if backup else None,
                "not_exported": [r["room_id"] for r in plan.not_exportable] if backup else None,
            },
        )
    test_hook("marked")
    return backup


def _finish(app, plan: Plan, backup: dict | None, batch_size: int) -> dict:
    """Steps 5 and 6: the rows, the audit rows, the media files, then the tenant row."""
    from scaiwave_admin.adapters import tenant_deletion as db

    store = app.store
    tid = plan.tenant_id
    deleted = _delete_rows(app, plan, batch_size)
    moved = 0
    while True:
        with store.transaction() as s:
            n = db.move_audit_batch(s, tid, batch_size)
        moved += n
        if n:
            test_hook("audit")
        if n < batch_size:
            break
    media_store = store.media
    files, freed = 0, 0
    for entry in list(media_store.files(tid)):
        size = media_store.delete(tid, entry.sha256)
        files += 1
        freed += size
        test_hook("media")
    db.remove_empty_media_dirs(media_store, tid)
    started = plan.started or {}
    if backup is None and plan.resuming:
        first = started.get("backup")
        backup = {"dir": first["dir"], "sha256": first["sha256"]} if first else None
    with store.transaction() as s:
        moved += db.move_audit_batch(s, tid, batch_size)  # a row written meanwhile
        deleted["tenants"] = db.delete_tenant_row(s, tid)
        details = {
            "tenant_id": tid,
            "slug": plan.slug,
            "name": plan.tenant_record["name"],
            "resumed": plan.resuming,
            "deleted": deleted,
            "planned": started.get("tables") if plan.resuming else plan.tables,
            "audit_rows_moved": moved,
            "media_files_removed": files,
            "bytes_freed": freed,
            "backup": {"dir": backup["dir"], "sha256": backup["sha256"]} if backup else None,
        }
        if deleted["tenants"]:
            api.audit.record(
                s,
                app.actor,
                "tenant.delete",
                f"tenant:{plan.slug}",
                tenant_id=None,
                details=details,
            )
        test_hook("final")
    return {
        "result": "deleted",
        "tenant": plan.slug,
        "tenant_id": tid,
        "resumed": plan.resuming,
        "backup": backup,
        "not_exported": (
            started.get("not_exported")
            if plan.resuming
            else [r["room_id"] for r in plan.not_exportable]
            if backup
            else None
        ),
        "deleted": deleted,
        "audit_rows_moved": moved,
        "media_files_removed": files,
        "bytes_freed": freed,
    }


def _delete_rows(app, plan: Plan, batch_size: int) -> dict:
    """Every step of the walk but the audit rows, ``batch_size`` rows per transaction."""
    from scaiwave_admin.adapters import tenant_deletion as db

    store = app.store
    tid = plan.tenant_id
    deleted: dict = {}
    first = [True]
    total = sum(plan.tables.values())  # resuming: what is left

    with api.progress(f"deleting tenant {plan.slug}", total=total, unit="rows") as bar:

        def drain(step, where) -> None:
            while True:
                with store.transaction() as s:
                    n = db.delete_batch(s, step, where, batch_size, tid)
                    if n and first[0]:
                        test_hook("rows-txn")
                deleted[step.name] = deleted.get(step.name, 0) + n
                bar.advance(n)
                if n and first[0]:
                    first[0] = False
                    test_hook("rows")
                if n < batch_size:
                    return

        for step in db.steps():
            if step.kind == "audit":
                continue
            deleted.setdefault(step.name, 0)
            if step.parent_key is None:
                drain(step, db.scopes(step, tid))
                continue
            for page in _pages(store, step, tid):
                drain(step, db.scopes(step, tid, page))
            if step.kind == "rows":  # a row whose parent is another's (or none)
                drain(step, db.scopes(step, tid))
    return deleted


def _pages(store, step, tid):
    """The parent keys of ``step`` a page at a time, each page read in a short session."""
    from scaiwave_admin.adapters import tenant_deletion as db

    last = None
    while True:
        with store.read_session() as s:
            page = db.parent_page(s, step, tid, after=last)
        if not page:
            return
        yield page
        last = page[-1]
