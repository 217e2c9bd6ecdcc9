"""The sync's own bookkeeping tables: the run lock (``sync_locks``: one reconcile at a time),
the runs (``sync_runs``: one row per run) and the registrations (``scaikey_registrations``).

The lock and the run rows use their own short transactions on purpose: another process must
see them at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from scaiwave_cli import api

m = api.store.models

LOCK_NAME = "scaikey-sync"


def tenant_lock_name(tenant_id: str) -> str:
    """The lock of one tenant's apply (``sync --queue``): ``scaikey-sync:<tenant id>``, a hash
    of the id when that would not fit the 64 characters of ``sync_locks.name``."""
    name = f"{LOCK_NAME}:{tenant_id}"
    if len(name) <= 64:
        return name
    import hashlib

    return f"{LOCK_NAME}:#" + hashlib.sha256(tenant_id.encode()).hexdigest()[:48]


# -- the run lock (its own short transactions) ------------------------------------------------


@dataclass(frozen=True)
class LockInfo:
    holder: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


def acquire_lock(store, holder: str, ttl: int, name: str = LOCK_NAME) -> LockInfo | None:
    """Take the lock (None) or report who holds it. A lock past ``expires_at`` is stale and
    taken over. Works on SQLite and MariaDB: a primary-key insert, else a guarded update.
    ``name``: the run lock, or a tenant's (``tenant_lock_name``, the queue's apply jobs)."""
    now = api.store.utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    lock = m.SyncLock.__table__
    try:
        with store.transaction() as s:
            s.execute(
                insert(lock).values(name=name, holder=holder, acquired_at=now, expires_at=expires)
            )
        return None
    except IntegrityError:
        pass
    with store.transaction() as s:
        taken = s.execute(
            update(lock)
            .where(lock.c.name == name, lock.c.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=expires)
        ).rowcount
        if taken == 1:
            return None
        row = s.execute(select(lock).where(lock.c.name == name)).first()
    if row is None:  # released between our two statements: try once more
        return acquire_lock(store, holder, ttl, name)
    return LockInfo(row.holder, row.acquired_at, row.expires_at)


def refresh_lock(store, holder: str, ttl: int, name: str = LOCK_NAME) -> str | None:
    """Push the lock's expiry ``ttl`` seconds ahead if ``holder`` still holds it (None); else
    nothing is changed and the lock's current holder comes back (``"nobody"``: released)."""
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        kept = s.execute(
            update(lock)
            .where(lock.c.name == name, lock.c.holder == holder)
            .values(expires_at=api.store.utcnow() + dt.timedelta(seconds=ttl))
        ).rowcount
        if kept == 1:
            return None
        row = s.execute(select(lock.c.holder).where(lock.c.name == name)).first()
    return row.holder if row is not None else "nobody"


def take_over_lock(store, old_holder: str, holder: str, ttl: int, name: str = LOCK_NAME) -> bool:
    """Take the lock from ``old_holder`` (a dead process) if it still holds it: True if taken."""
    now = api.store.utcnow()
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        return (
            s.execute(
                update(lock)
                .where(lock.c.name == name, lock.c.holder == old_holder)
                .values(holder=holder, acquired_at=now, expires_at=now + dt.timedelta(seconds=ttl))
            ).rowcount
            == 1
        )


def release_lock(store, holder: str, name: str = LOCK_NAME) -> None:
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        s.execute(delete(lock).where(lock.c.name == name, lock.c.holder == holder))


def current_lock(session, name: str = LOCK_NAME) -> LockInfo | None:
    row = session.get(m.SyncLock, name)
    if row is None:
        return None
    return LockInfo(row.holder, row.acquired_at, row.expires_at)


# -- runs ---------------------------------------------------------------------------------------


def start_run(store, *, trigger: str, dry_run: bool) -> int:
    with store.transaction() as s:
        run = m.SyncRun(
            started_at=api.store.utcnow(),
            trigger=trigger,
            dry_run=dry_run,
            status="running",
            counts={},
        )
        s.add(run)
        s.flush()
        return run.id


def finish_run(session, run_id: int, *, status: str, counts: dict, error: str | None) -> None:
    run = session.get(m.SyncRun, run_id)
    run.finished_at = api.store.utcnow()
    run.status = status
    run.counts = counts
    run.error = error


def is_running(session, run_id: int, *, dry_run: bool) -> bool:
    """Is run ``run_id`` (of that kind) recorded here and still running? A worker of
    ``sync --queue`` asks its own database: no means it is not the coordinator's."""
    run = session.get(m.SyncRun, run_id)
    return run is not None and run.status == "running" and bool(run.dry_run) == dry_run


def last_run(session, *, dry_run: bool | None = None, status: str | None = None):
    stmt = select(m.SyncRun).order_by(m.SyncRun.started_at.desc(), m.SyncRun.id.desc()).limit(1)
    if dry_run is not None:
        stmt = stmt.where(m.SyncRun.dry_run.is_(dry_run))
    if status is not None:
        stmt = stmt.where(m.SyncRun.status == status)
    return session.scalar(stmt)


def run_record(run) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "status": run.status,
        "counts": run.counts or {},
        "error": run.error,
    }


# -- registration -------------------------------------------------------------------------------


def save_registration(session, **fields) -> None:
    existing = session.scalar(
        select(m.ScaikeyRegistration).where(
            m.ScaikeyRegistration.request_id == fields["request_id"]
        )
    )
    if existing is None:
        session.add(m.ScaikeyRegistration(**fields))
    else:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.updated_at = api.store.utcnow()
    session.flush()


def latest_registration(session):
    r = m.ScaikeyRegistration
    return session.scalar(select(r).order_by(r.created_at.desc(), r.id.desc()).limit(1))
