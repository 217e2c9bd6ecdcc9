"""`room import-all`'s store queries: "was this bundle already imported into this tenant?" and
the lock that makes the question and the import one step.

Recognised: an audit row ``room.import`` of the tenant whose details name the bundle's sha256
(``bundle_sha256``, written in the import's own transaction) and whose room still exists (a room
deleted since, or being deleted, does not count: the bundle is imported again).

The lock serialises two imports of one bundle into one tenant (two workers, two runs): on
MariaDB a named lock (``GET_LOCK``) held by a connection of its own, released when the import is
done or when the process dies (the server drops a dead client's locks); on SQLite an ``flock``
on a file beside the database (every writer of a SQLite file is on its machine), released by
the kernel when the process dies; one file per database, so the imports of a SQLite store run
one after the other (it has one writer at a time anyway) instead of timing out on its lock.
The check runs after the lock is taken, in a new transaction, so it sees what the previous
holder committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os

from sqlalchemy import select, text

from scaiwave_cli import api

m = api.store.models

LOCK_WAIT = 6 * 3600  # seconds a job waits for another one importing the same bundle


def lock_name(tenant_id: str, sha256: str) -> str:
    """At most 64 characters (MariaDB's limit for a lock name)."""
    digest = hashlib.sha256(f"{tenant_id}\0{sha256}".encode()).hexdigest()[:40]
    return f"scaiwave-room-import:{digest}"


@contextlib.contextmanager
def bundle_lock(store, tenant_id: str, sha256: str, *, wait: int = LOCK_WAIT):
    """Held while one bundle is checked and imported into one tenant (see the docstring)."""
    name = lock_name(tenant_id, sha256)
    if store.dialect == "mysql":
        with store.engine.connect() as conn:
            got = conn.execute(text("SELECT GET_LOCK(:n, :w)"), {"n": name, "w": wait}).scalar()
            conn.commit()
            if got != 1:
                raise api.store.busy_error(store.url)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                    conn.commit()
        return
    path = api.store.sqlite_path(store.url)
    if path is None:  # in memory: one process, one connection
        yield
        return
    import fcntl

    fd = os.open(f"{path}.room-import.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def imported_room(session, tenant_id: str, sha256: str) -> str | None:
    """The id of a room of the tenant imported from the bundle ``sha256`` that still exists
    (not being deleted), or None."""
    audit = m.AuditEntry
    targets = session.scalars(
        select(audit.target).where(
            audit.tenant_id == tenant_id,
            audit.action == "room.import",
            audit.details["bundle_sha256"].as_string() == sha256,
        )
    ).all()
    ids = [t.split(":", 1)[1] for t in targets if t.startswith("room:")]
    if not ids:
        return None
    found = session.scalars(
        select(m.Room.id)
        .where(m.Room.tenant_id == tenant_id, m.Room.id.in_(ids), m.Room.state != "deleting")
        .order_by(m.Room.id)
    ).first()
    return found
