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


# -- the run lock (its own short transactions) ------------------------------------------------


@dataclass(frozen=True)
class LockInfo:
    holder: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


def acquire_lock(store, holder: str, ttl: int) -> LockInfo | None:
    """Take the lock (None) or report who holds it. A lock past ``expires_at`` is stale and
    taken over. Works on SQLite and MariaDB: a primary-key insert, else a guarded update."""
    now = api.store.utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    lock = m.SyncLock.__table__
    try:
        with store.transaction() as s:
            s.execute(
                insert(lock).values(
                    name=LOCK_NAME, holder=holder, acquired_at=now, expires_at=expires
                )
            )
        return None
    except IntegrityError:
        pass
    with store.transaction() as s:
        taken = s.execute(
            update(lock)
            .where(lock.c.name == LOCK_NAME, lock.c.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=expires)
        ).rowcount
        if taken == 1:
            return None
        row = s.execute(select(lock).where(lock.c.name == LOCK_NAME)).first()
    if row is None:  # released between our two statements: try once more
        return acquire_lock(store, holder, ttl)
    return LockInfo(row.holder, row.acquired_at, row.expires_at)


def refresh_lock(store, holder: str, ttl: int) -> str | None:
    """Push the lock's expiry ``ttl`` seconds ahead if ``holder`` still holds it (None); else
    nothing is changed and the lock's current holder comes back (``"nobody"``: released)."""
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        kept = s.execute(
            update(lock)
            .where(lock.c.name == LOCK_NAME, lock.c.holder == holder)
            .values(expires_at=api.store.utcnow() + dt.timedelta(seconds=ttl))
        ).rowcount
        if kept == 1:
            return None
        row = s.execute(select(lock.c.holder).where(lock.c.name == LOCK_NAME)).first()
    return row.holder if row is not None else "nobody"


def take_over_lock(store, old_holder: str, holder: str, ttl: int) -> bool:
    """Take the lock from ``old_holder`` (a dead process) if it still holds it: True if taken."""
    now = api.store.utcnow()
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        return (
            s.execute(
                update(lock)
                .where(lock.c.name == LOCK_NAME, lock.c.holder == old_holder)
                .values(holder=holder, acquired_at=now, expires_at=now + dt.timedelta(seconds=ttl))
            ).rowcount
            == 1
        )


def release_lock(store, holder: str) -> None:
    lock = m.SyncLock.__table__
    with store.transaction() as s:
        s.execute(delete(lock).where(lock.c.name == LOCK_NAME, lock.c.holder == holder))


def current_lock(session) -> LockInfo | None:
    row = session.get(m.SyncLock, LOCK_NAME)
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
