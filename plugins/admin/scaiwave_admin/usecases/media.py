"""`admin media purge-orphans`: find the media files no row references and remove them.

A file is an orphan when no ``media`` row of its tenant names its sha256 (or its tenant is
gone, or it is a temporary ``.incoming-*`` file a killed writer left) AND it is older than the
grace period (its mtime; storing existing content touches the file, so an import in progress
that re-uses a file keeps it young). Just before each removal the file is checked again: still
unreferenced (a fresh query) and unchanged (size and mtime). Audited: counts and bytes.
"""

from __future__ import annotations

import time

from scaiwave_cli import api

CHECK_CHUNK = 500


def purge_orphans(app, *, tenant_ref=None, grace, dry_run=False, yes=False) -> dict:
    from scaiwave_admin.adapters import media as db

    store = app.store
    media_store = store.media
    with store.read_session() as session:
        if tenant_ref:
            tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
            tenant_id, scope = tenant.id, tenant.slug
        else:
            app.actor.require_platform("purge orphaned media of every tenant")
            tenant_id, scope = None, "every tenant"
        cutoff = time.time() - grace.total_seconds()
        now = time.time()
        orphans, young, pending = [], 0, {}

        def check(tid, entries):
            used = db.referenced_shas(session, tid, [e.sha256 for e in entries]) if tid else set()
            orphans.extend(e for e in entries if e.sha256 not in used)

        for entry in media_store.files(tenant_id):
            if entry.mtime > cutoff:
                young += 1
                continue
            if entry.sha256 is None:
                orphans.append(entry)
                continue
            batch = pending.setdefault(entry.tenant_id, [])
            batch.append(entry)
            if len(batch) >= CHECK_CHUNK:
                check(entry.tenant_id, pending.pop(entry.tenant_id))
        for tid, entries in pending.items():
            check(tid, entries)
    listed = [
        {
            "tenant": e.tenant_id,
            "sha256": e.sha256,
            "bytes": e.size,
            "age_s": int(now - e.mtime),
            "path": str(e.path),
        }
        for e in orphans
    ]
    total = sum(e.size for e in orphans)
    result = {"scope": scope, "orphans": listed, "bytes": total, "kept_young": young}
    if dry_run:
        return {**result, "dry_run": True}
    plan = (
        f"remove {len(orphans)} media files of {scope} that no row references ({total} bytes); "
        f"{young} files younger than the grace period are kept"
    )
    api.confirm(plan, yes=yes)
    removed, freed = 0, 0
    with store.read_session() as session:
        for entry in orphans:
            if entry.sha256 is not None and db.referenced_shas(
                session, entry.tenant_id, [entry.sha256]
            ):
                continue  # a row appeared meanwhile
            size = media_store.delete_stored(entry)
            removed += bool(size) or (entry.size == 0)
            freed += size
    details = {"files": removed, "bytes": freed, "kept_young": young, "found": len(orphans)}
    with store.transaction() as session:
        api.audit.record(
            session,
            app.actor,
            "media.purge_orphans",
            f"tenant:{tenant_id}" if tenant_id else "media",
            tenant_id=tenant_id,
            details={**details, "grace_s": int(grace.total_seconds())},
        )
    return {"scope": scope, "result": "purged", "removed": removed, "bytes_freed": freed,
            "kept_young": young, "found": len(orphans)}  # fmt: skip
