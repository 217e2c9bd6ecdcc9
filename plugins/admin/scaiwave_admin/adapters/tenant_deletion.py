"""The admin plugin's SQL for `admin delete-tenant`: which tables hold a tenant's rows, found in
the schema's metadata (never a hand list, so a table added later is covered), their counts,
and bounded deletes. Same rules as ``db.py``: SQLAlchemy on both engines, no commits (the use
case owns the transactions).

``steps()`` walks ``Base.metadata.sorted_tables`` backwards (children before parents):

- ``rows``: a table with a tenant column (``tenant_id``, or a foreign key to ``tenants.id``).
  When no index starts with that column (events, room_members, scaikey_group_members) the rows
  are reached through a foreign key that leads an index, page by page of the parent's keys
  (events by room_id, the (room_id, stream_position) index), then one sweep on the tenant
  column catches a row whose parent is elsewhere;
- ``owned``: a table without a tenant column whose foreign key points at a table with one
  (role_permissions of the tenant's custom roles): the rows of the tenant's parent rows;
- ``audit``: ``audit_log`` last: its rows are kept, their ``tenant_id`` set to NULL (the
  platform's); ``details`` are not rewritten;
- the ``tenants`` row itself is the use case's last transaction.

Every batch selects at most ``batch_size`` primary keys (through an index) and deletes by them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table, UniqueConstraint, delete, func, select, tuple_, update

from scaiwave_cli import api

m = api.store.models

ID_CHUNK = 500  # keys per IN (...) list
PARENT_PAGE = 500  # parent keys per page when rows are reached through their parent


def tenant_column(table: Table) -> Column | None:
    """The column naming the tenant: ``tenant_id``, or a foreign key to tenants.id."""
    for column in table.columns:
        if column.name == "tenant_id" or any(
            fk.column.table.name == "tenants" for fk in column.foreign_keys
        ):
            return column
    return None


def _leads(table: Table, column: Column) -> bool:
    """Some index of ``table`` (primary key, unique constraint, index) starts with ``column``."""
    firsts = [list(table.primary_key.columns)]
    firsts += [list(ix.columns) for ix in table.indexes]
    firsts += [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    return any(cols and cols[0].name == column.name for cols in firsts)


@dataclass(frozen=True)
class Step:
    """One table of the walk. ``column``: the tenant column (rows, audit) or the foreign key
    (owned). ``parent_key``/``parent_tenant``: the parent's key and tenant column, for owned
    rows and for rows reached through their parent (``column`` then is the foreign key and
    ``tenant`` the table's own tenant column)."""

    table: Table
    kind: str  # rows | owned | audit
    column: Column
    tenant: Column | None = None
    parent_key: Column | None = None
    parent_tenant: Column | None = None

    @property
    def name(self) -> str:
        return self.table.name


def _parents(table: Table, *, indexed: bool):
    """(fk column, parent key, parent tenant column) of ``table``'s foreign keys into tables
    with a tenant column (not tenants itself); ``indexed``: only those an index leads with."""
    for column in table.columns:
        for fk in column.foreign_keys:
            parent = fk.column.table
            ptc = tenant_column(parent)
            if ptc is None or parent.name == "tenants":
                continue
            if indexed and not (_leads(table, column) and _leads(parent, ptc)):
                continue
            yield column, fk.column, ptc


def steps(metadata=None) -> list[Step]:
    """The walk, in order (see the module docstring)."""
    metadata = metadata or m.Base.metadata
    audit = m.AuditEntry.__table__
    out, last = [], []
    for table in reversed(metadata.sorted_tables):
        if table.name == "tenants":
            continue
        tc = tenant_column(table)
        if table is audit:
            last.append(Step(table, "audit", tc))
        elif tc is not None:
            via = None if _leads(table, tc) else next(_parents(table, indexed=True), None)
            if via is None:
                out.append(Step(table, "rows", tc))
            else:
                out.append(Step(table, "rows", via[0], tc, via[1], via[2]))
        else:
            out += [
                Step(table, "owned", col, None, key, ptc)
                for col, key, ptc in _parents(table, indexed=False)
            ]
    return out + last


def _chunks(values, size=ID_CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _own_rows(step: Step, tenant_id: str) -> list:
    """The WHERE of the step's rows, for counting (a subquery of the parent's keys)."""
    if step.parent_key is None:
        return [step.column == tenant_id]
    parents = select(step.parent_key).where(step.parent_tenant == tenant_id)
    where = [step.column.in_(parents)]
    if step.tenant is not None:
        where.append(step.tenant == tenant_id)
    return where


def count(session, step: Step, tenant_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(step.table).where(*_own_rows(step, tenant_id))
    )


def parent_page(session, step: Step, tenant_id: str, *, after=None) -> list:
    """Up to ``PARENT_PAGE`` of the tenant's parent keys of ``step`` above ``after`` (keyset
    order)."""
    q = select(step.parent_key).where(step.parent_tenant == tenant_id)
    if after is not None:
        q = q.where(step.parent_key > after)
    return list(session.scalars(q.order_by(step.parent_key).limit(PARENT_PAGE)))


def scopes(step: Step, tenant_id: str, page=None) -> list:
    """The WHERE of one batch: the tenant column, or the page of parent keys (and the tenant)."""
    if page is None:
        return [(step.tenant if step.tenant is not None else step.column) == tenant_id]
    where = [step.column.in_(page)]
    if step.tenant is not None:
        where.append(step.tenant == tenant_id)
    return where


def delete_batch(session, step: Step, where: list, batch_size: int, tenant_id: str) -> int:
    """Delete up to ``batch_size`` rows of ``step.table`` matching ``where``, by primary key
    (and the tenant column, when the table has one); the number deleted. The DELETE names
    nothing but the key, so the planner never trades the primary key for ``where``'s index
    (on SQLite, without statistics, it would: every batch would then read every row left)."""
    table = step.table
    pk = list(table.primary_key.columns)
    keys = session.execute(select(*pk).where(*where).limit(batch_size)).all()
    tenant = step.tenant if step.tenant is not None else step.column
    own = [tenant == tenant_id] if step.kind == "rows" else []
    n = 0
    for chunk in _chunks(keys):
        if len(pk) == 1:
            match = pk[0].in_([k[0] for k in chunk])
        else:
            match = tuple_(*pk).in_([tuple(k) for k in chunk])
        n += session.execute(
            delete(table).where(match, *own).execution_options(synchronize_session=False)
        ).rowcount
    return n


def move_audit_batch(session, tenant_id: str, batch_size: int) -> int:
    """Up to ``batch_size`` of the tenant's audit rows become the platform's (tenant_id NULL)."""
    A = m.AuditEntry
    ids = list(session.scalars(select(A.id).where(A.tenant_id == tenant_id).limit(batch_size)))
    n = 0
    for chunk in _chunks(ids):
        n += session.execute(
            update(A)
            .where(A.tenant_id == tenant_id, A.id.in_(chunk))
            .values(tenant_id=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return n


# -- the plan -------------------------------------------------------------------------------------


def rooms(session, tenant_id: str) -> list:
    """The tenant's rooms (every state), by id."""
    return list(
        session.scalars(select(m.Room).where(m.Room.tenant_id == tenant_id).order_by(m.Room.id))
    )


def events_per_room(session, tenant_id: str, room_ids) -> dict:
    """room id -> number of events (through the (room_id, stream_position) index)."""
    E = m.Event
    out = {}
    for chunk in _chunks(room_ids):
        out.update(
            session.execute(
                select(E.room_id, func.count())
                .where(E.tenant_id == tenant_id, E.room_id.in_(chunk))
                .group_by(E.room_id)
            ).all()
        )
    return {rid: out.get(rid, 0) for rid in room_ids}


def fingerprint(session, tenant_id: str) -> tuple:
    """(rooms, events, highest stream position, participants, media rows): changes when a row
    arrives or goes."""
    E, R = m.Event, m.Room
    room_ids = select(R.id).where(R.tenant_id == tenant_id)
    events, top = session.execute(
        select(func.count(), func.max(E.stream_position)).where(
            E.room_id.in_(room_ids), E.tenant_id == tenant_id
        )
    ).one()
    rooms_n = session.scalar(select(func.count()).where(R.tenant_id == tenant_id))
    people = session.scalar(select(func.count()).where(m.Participant.tenant_id == tenant_id))
    media = session.scalar(select(func.count()).where(m.Media.tenant_id == tenant_id))
    return (rooms_n, events, top, people, media)


def started_entry(session, tenant):
    """The ``tenant.delete-started`` audit row of this tenant's deletion (the newest), or None."""
    A = m.AuditEntry
    q = (
        select(A)
        .where(A.action == "tenant.delete-started", A.target == f"tenant:{tenant.slug}")
        .order_by(A.id.desc())
    )
    for entry in session.scalars(q.limit(20)):
        if (entry.details or {}).get("tenant_id") == tenant.id:
            return entry
    return None


# -- state --------------------------------------------------------------------------------------


def mark_deleting(session, tenant_id: str) -> bool:
    """Status ``deleting`` if the tenant is still ``suspended`` (compare and set)."""
    T = m.Tenant
    result = session.execute(
        update(T)
        .where(T.id == tenant_id, T.status == "suspended")
        .values(status="deleting", updated_at=api.store.utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def delete_tenant_row(session, tenant_id: str) -> int:
    T = m.Tenant
    return session.execute(
        delete(T)
        .where(T.id == tenant_id, T.status == "deleting")
        .execution_options(synchronize_session=False)
    ).rowcount


def remove_empty_media_dirs(media_store, tenant_id: str) -> None:
    """The tenant's folders of a local media store, once empty (best effort)."""
    import os

    root = getattr(media_store, "root", None)
    if root is None:
        return
    base = os.path.join(os.fspath(root), tenant_id)
    if not os.path.isdir(base) or os.path.islink(base):
        return
    for dirpath, _dirs, _files in os.walk(base, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError:
            continue
