"""`admin erase-participant`: one person's data leaves the tenant; the rooms stay whole.

Before anything: the look-ups (tenant in the actor's scope, the participant by id, e-mail or
FQID), the hand-over guards (the last active owner of a shared workspace, the last active
``tenant_admin``: refused with the `scaiwave role assign` that hands over), the counts and the
plan; ``--dry-run`` stops there, else ``api.confirm``. With ``--backup FILE`` the participant
export (``participant_export.export_to_file``, written atomically and verified) comes next.

Then, in this order, so that a crash anywhere is finished by running the same command again
(the person is found by e-mail or id until the last step):

0. One transaction: inactive, ``erased_at`` set (the "erasure under way" marker),
   ``operator_hold`` set (a sync cannot reactivate them meanwhile), audit row
   ``participant.erase-started`` (the backup's file and sha256, the counts). A run that finds
   ``erased_at`` set skips the guards and the backup (it says where the first run's backup is)
   and continues here.
1. Scrub, a batch per transaction: the text columns that may name the person outside their own
   rows (``adapters.erasure.TARGETS``: audit actor/target/details, role_assignments.created_by,
   room, workspace and custom role texts, sync_runs.error, ScaiKey registrations' contact) get the
   participant id instead of their e-mail, display name (three characters or more), FQID,
   avatar URL or ScaiKey user id (whole words, any case).
2. Their events, ``--batch-size`` per transaction (keyset on stream_position): content ``{}``,
   original_content NULL, redacted_at set; rows, relations and positions kept. Events a room
   import attributed to them on behalf of another author (``_imported_sender``) are not theirs
   and stay.
3. The media rows they uploaded (but not those of an event imported on behalf of another
   author), keyset on id: a file is removed when no other media row of the tenant names it
   (files first, then the rows, in one transaction: a kill in between leaves rows of a person
   under erasure pointing at removed files, which the next run deletes).
4. One transaction: workspace, room and group memberships and role assignments deleted; their
   personal workspace (they its only member) deleted when it holds no room, else kept without
   members under ``erased-<id>``; the profile becomes the tombstone; audit row
   ``participant.erase`` (counts only).

AI-token usage (``ai_token_usage``) has no participant column: kept, it never named anyone.
"""

from __future__ import annotations

import os

from scaiwave_admin import errors
from scaiwave_admin.usecases.handover import require_handover
from scaiwave_admin.usecases.hooks import test_hook
from scaiwave_cli import api

EVENT_BATCH = 5000
SCRUB_BATCH = 1000
MEDIA_BATCH = 1000
MIN_NAME = 3  # a shorter display name would match ordinary words: not searched for


def _terms(p) -> list[str]:
    name = (p.display_name or "").strip()
    terms = [p.email, p.scaikey_user_id, p.fqid, p.avatar_url]
    if len(name) >= MIN_NAME:
        terms.append(name)
    return [t for t in terms if t]


def _guard(session, tenant, p, *, lock: bool) -> None:
    """The hand-over guard (``usecases.handover``); an inactive person holds nothing."""
    if p.active:
        require_handover(
            session, tenant, p, lock=lock, doing="erasing", outcome="; nothing was erased"
        )


def _look(app, tenant_ref, ref) -> dict:
    """Everything the plan needs, read in one read-only session (guards included)."""
    from scaiwave_admin.adapters import erasure as db

    with app.store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
        p = api.find_participant(session, tenant, ref)
        info = {
            "tenant": tenant.slug,
            "tenant_id": tenant.id,
            "id": p.id,
            "kind": p.kind,
            "scaikey_user_id": p.scaikey_user_id,
            "erased_at": p.erased_at,
            "done": p.erased_at is not None and not p.operator_hold,
            "resuming": p.erased_at is not None and bool(p.operator_hold),
            "terms": _terms(p),
        }
        if info["done"]:
            return info
        if not info["resuming"]:
            _guard(session, tenant, p, lock=False)
        scrubber = db.Scrubber(info["terms"], p.id)
        info["counts"] = db.counts(session, tenant.id, p.id)
        info["scrub"] = {
            t.table: db.scrub_candidates(session, t, scrubber, tenant.id) for t in db.TARGETS
        }
        info["personal"] = db.personal_workspaces(session, tenant.id, p.id)
        info["fingerprint"] = db.fingerprint(session, tenant.id, p.id)
        info["first_backup"] = None
        if info["resuming"]:
            row = db.started_row(session, tenant.id, p.id)
            details = row.details if row is not None else {}
            info["first_backup"] = {
                "file": details.get("backup"),
                "sha256": details.get("backup_sha256"),
            }
        return info


def plan_text(info: dict, backup) -> str:
    c, t = info["counts"], info["tenant"]
    lines = [f"erase participant {info['id']} ({info['kind']}) of tenant {t}:"]
    if info["resuming"]:
        lines.append(
            f"  an erasure is under way (since {api.isoformat(info['erased_at'])}): finishing it"
        )
    lines += [
        "  profile: becomes the tombstone 'Erased participant' (no e-mail, FQID, avatar or "
        "ScaiKey id; inactive); the id stays so that rooms stay consistent",
        f"  {c['events']} events they sent: redacted in place (content emptied, edit history "
        f"dropped; the rows stay, and so do relations: {c['relations']} of them point at "
        "another event, e.g. reactions)",
    ]
    if c["imported_events_kept"]:
        lines.append(
            f"  of them {c['imported_events_kept']} imported on behalf of another author "
            "(_imported_sender): not theirs, kept"
        )
    lines += [
        f"  {c['media_rows']} media rows they uploaded: deleted; files no other row names: "
        f"{c['media_files']} ({c['media_bytes']} bytes), removed from the media store",
        f"  ended: {c['workspace_memberships']} workspace memberships, {c['room_memberships']} "
        f"room memberships, {c['role_assignments']} role assignments, "
        f"{c['group_memberships']} ScaiKey group memberships",
    ]
    for ws in info["personal"]:
        if ws["rooms"]:
            lines.append(
                f"  personal workspace {ws['slug']!r}: kept without members, renamed "
                f"'erased-…' (its rooms stay: {ws['rooms']}; remove them with `scaiwave room "
                f"delete ROOM --tenant {t} --backup FILE` if wanted)"
            )
        else:
            lines.append(f"  personal workspace {ws['slug']!r} (no rooms): deleted")
    scrub = ", ".join(f"{n} {table}" for table, n in info["scrub"].items() if n) or "none"
    lines += [
        f"  rows naming them elsewhere (e-mail, name, FQID, avatar, ScaiKey id replaced by "
        f"{info['id']}): {scrub}",
        "  kept: AI token usage (ai_token_usage has no participant column: kept, they never "
        "named anyone); what others wrote about them in their own messages",
        "  audit: participant.erase-started now, participant.erase at the end (counts only)",
    ]
    if info["resuming"]:
        first = info["first_backup"] or {}
        lines.append(
            f"  backup: the first run's, {first['file']} (sha256 {first['sha256']}); no new one"
            if first.get("file")
            else "  backup: none (the first run had --no-backup); no new one"
        )
    elif backup:
        lines.append(f"  backup: {backup} (written and verified before anything changes)")
    else:
        lines.append("  backup: none (--no-backup): the erased data cannot be restored")
    if info["scaikey_user_id"]:
        lines.append(
            f"  ScaiKey: linked to user {info['scaikey_user_id']}; remove them in ScaiKey too, "
            "or the next `scaiwave sync` brings them back as a new participant"
        )
    return "\n".join(lines)


def erase_participant(
    app, *, ref, tenant_ref, backup=None, dry_run=False, yes=False, batch_size=EVENT_BATCH
) -> dict:
    """Erase the participant (see the module docstring); the summary, or with ``dry_run``
    the counts and the plan."""
    info = _look(app, tenant_ref, ref)
    base = {"participant_id": info["id"], "tenant": info["tenant"]}
    if info["done"]:
        app.out.info(
            f"participant {info['id']} of tenant {info['tenant']} is already erased "
            f"({api.isoformat(info['erased_at'])}); nothing to do"
        )
        return {**base, "result": "already erased", "erased_at": info["erased_at"]}
    plan = plan_text(info, backup)
    planned = {
        **base,
        **info["counts"],
        "scrub": info["scrub"],
        "personal_workspaces": [
            {"slug": w["slug"], "rooms": w["rooms"], "action": "keep" if w["rooms"] else "delete"}
            for w in info["personal"]
        ],
        "resuming": info["resuming"],
        "backup": backup,
    }
    if dry_run:
        app.out.info(plan)
        return {**planned, "dry_run": True}
    api.confirm(plan, yes=yes)
    backup_report = None
    if info["resuming"]:
        backup_report = info["first_backup"] if (info["first_backup"] or {}).get("file") else None
        where = backup_report["file"] if backup_report else "none (--no-backup)"
        if backup_report and not os.path.isfile(backup_report["file"]):
            where += " (not there any more)"
        app.out.info(f"resuming the erasure under way; no new backup: the first run's is {where}")
    else:
        if backup:
            backup_report = _write_backup(app, info, backup)
        _start(app, info, backup_report)
        test_hook("started")
    done = _run_phases(app, info, batch_size=batch_size)
    return {
        **base,
        "result": "erased",
        "resumed": info["resuming"],
        "backup": backup_report,
        **done,
    }


def _write_backup(app, info, path) -> dict:
    from scaiwave_admin.usecases import participant_export

    try:
        report = participant_export.export_to_file(app.store, info["tenant_id"], info["id"], path)
    except api.ScaiwaveError:
        app.out.info(f"the backup {path} could not be written and verified; nothing was erased")
        raise
    return {"file": report.get("file", str(path)), "sha256": report.get("sha256"),
            "bytes": report.get("bytes"), "events": report.get("events")}  # fmt: skip


def _start(app, info, backup_report) -> None:
    """Phase 0 (re-checked under locks): the marker and ``participant.erase-started``."""
    from scaiwave_admin.adapters import erasure as db
    from scaiwave_admin.adapters import participant_status as holders

    with app.store.transaction() as session:
        tenant = api.find_tenant(session, info["tenant_id"])
        holders.tenant_admins(session, tenant.id, lock=True)  # admins first, then the person
        p = db.lock_participant(session, info["id"])
        if p.erased_at is not None:
            info["resuming"] = True  # a concurrent run marked it: finish its work
            return
        _guard(session, tenant, p, lock=True)
        if backup_report and db.fingerprint(session, tenant.id, p.id) != info["fingerprint"]:
            raise api.DomainError(
                f"participant {p.id} posted or uploaded while the backup was written; "
                "nothing was erased",
                code=errors.SW_PARTICIPANT_CHANGED,
                hint="run the same command again (it writes a new backup)",
            )
        db.mark_started(session, p.id, api.store.utcnow())
        api.audit.record(
            session,
            app.actor,
            "participant.erase-started",
            f"participant:{p.id}",
            tenant_id=tenant.id,
            details={
                "backup": backup_report["file"] if backup_report else None,
                "backup_sha256": backup_report["sha256"] if backup_report else None,
                **info["counts"],
            },
        )


def _run_phases(app, info, *, batch_size) -> dict:
    """Phases 1 to 4; what this run did."""
    from scaiwave_admin.adapters import erasure as db

    store = app.store
    tenant_id, pid = info["tenant_id"], info["id"]
    now = api.store.utcnow()
    scrubber = db.Scrubber(info["terms"], pid)
    done = {"scrubbed_rows": 0, "events_redacted": 0, "imported_events_kept": 0,
            "media_rows_deleted": 0, "media_files_removed": 0, "bytes_freed": 0}  # fmt: skip

    # (1) scrub
    limit, first = min(batch_size, SCRUB_BATCH), True
    for target in db.TARGETS:
        after = None
        while True:
            with store.transaction() as session:
                after, read, changed = db.scrub_batch(
                    session, target, scrubber, tenant_id, after, limit
                )
            done["scrubbed_rows"] += changed
            if first and read:
                first = False
                test_hook("scrub")
            if read < limit:
                break

    # (2) their events, keyset on stream_position
    after, first = -1, True
    with api.progress(f"redacting {pid}'s events", total=info["counts"]["events"],
                      unit="events") as bar:  # fmt: skip
        while True:
            with store.transaction() as session:
                rows = db.event_batch(session, tenant_id, pid, after, batch_size)
                ids = [r.id for r in rows if not db.is_imported(r.content)]
                done["events_redacted"] += db.redact_events(session, tenant_id, ids, now)
                done["imported_events_kept"] += len(rows) - len(ids)
                if first and rows:
                    test_hook("events-txn")
            bar.advance(len(rows))
            if first and rows:
                first = False
                test_hook("events")
            if len(rows) < batch_size:
                break
            after = rows[-1].stream_position

    # (3) media they uploaded: files no other row names, then the rows
    media, after = store.media, ""
    while True:
        with store.transaction() as session:
            rows = db.media_batch(session, tenant_id, pid, after, min(batch_size, MEDIA_BATCH))
            if not rows:
                break
            after = rows[-1].id
            rows = [r for r in rows if not db.is_imported(r.content)]  # another author's
            ids = [r.id for r in rows]
            shas = {r.sha256 for r in rows}
            for sha in sorted(shas - db.shas_named_elsewhere(session, tenant_id, shas, ids)):
                freed = media.delete(tenant_id, sha)
                if freed:
                    done["media_files_removed"] += 1
                    done["bytes_freed"] += freed
            done["media_rows_deleted"] += db.delete_media_rows(session, tenant_id, ids)
            test_hook("media")

    # (4) the last transaction
    with store.transaction() as session:
        personal = db.personal_workspaces(session, tenant_id, pid)
        done.update(db.end_memberships(session, tenant_id, pid))
        done["personal_workspaces"] = [
            db.retire_personal_workspace(session, tenant_id, ws, pid) for ws in personal
        ]
        db.tombstone(session, pid, now)
        details = {k: v for k, v in done.items() if k != "personal_workspaces"}
        details["personal_workspaces"] = [w["action"] for w in done["personal_workspaces"]]
        api.audit.record(
            session,
            app.actor,
            "participant.erase",
            f"participant:{pid}",
            tenant_id=tenant_id,
            details=details,
        )
        test_hook("final")
    return done
