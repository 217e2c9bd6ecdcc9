"""The ScaiWave database side of the sync: every query and write it makes, in one place.

Tables (the core's schema, ``scaiwave_cli.store.models``): ``tenants``/``partners`` (a tenant is
linked to ScaiKey by ``scaikey_tenant_id``), ``participants`` (humans: ``scaikey_user_id``),
``workspaces``/``workspace_members`` (a new human gets a personal workspace it owns),
``scaikey_groups``/``scaikey_group_members``, ``role_assignments`` (ScaiKey admin roles; the
sync's own grants carry ``created_by = 'scaikey-sync'`` and are the only ones it ever revokes).
The sync's bookkeeping (``sync_runs``, ``sync_locks``, ``scaikey_registrations``) is in
``db_runs.py``.

Reads return small plain records; writes take lists of dicts and run as executemany batches in
the caller's transaction. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update

from scaiwave_cli import api

m = api.store.models

SYNC_CREATOR = "scaikey-sync"


# -- records ----------------------------------------------------------------------------------


@dataclass
class TenantRow:
    id: str
    slug: str
    name: str
    scaikey_tenant_id: str | None
    partner_id: str | None
    partner: Any = None  # the Partner row, for Actor.can_see_tenant
    new: bool = False
    status: str = "active"  # active | suspended | deleting (`admin delete-tenant` under way)


@dataclass(frozen=True, slots=True)
class LocalParticipant:
    id: str
    display_name: str
    email: str | None
    active: bool
    operator_hold: bool = False  # `admin deactivate-participant --force-local`: never reactivated
    erased: bool = False  # `admin erase-participant` left a tombstone: never touched


@dataclass(frozen=True, slots=True)
class LocalGroup:
    id: int
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class LocalAssignment:
    id: int
    participant_id: str
    role: str
    created_by: str | None
    participant_active: bool


@dataclass
class TenantState:
    participants: dict[str, LocalParticipant]  # by scaikey_user_id
    groups: dict[str, LocalGroup]  # by scaikey_group_id
    members: set[tuple[int, str]]  # (group id, participant id)
    assignments: list[LocalAssignment]  # tenant-scope assignments of the mapped roles


# -- reads ------------------------------------------------------------------------------------


def tenants(session) -> list[TenantRow]:
    """Every tenant with its partner (linked or not: the caller decides)."""
    partners = {p.id: p for p in session.scalars(select(m.Partner))}
    rows = session.execute(
        select(
            m.Tenant.id,
            m.Tenant.slug,
            m.Tenant.name,
            m.Tenant.scaikey_tenant_id,
            m.Tenant.partner_id,
            m.Tenant.status,
        ).order_by(m.Tenant.slug)
    )
    return [
        TenantRow(
            r.id,
            r.slug,
            r.name,
            r.scaikey_tenant_id,
            r.partner_id,
            partners.get(r.partner_id),
            status=r.status,
        )
        for r in rows
    ]


def tenant_deleting(session, tenant_id: str) -> bool:
    """True when the tenant is being deleted (status ``deleting``). Read with a shared lock
    (MariaDB), so `admin delete-tenant` cannot mark it between this read and the caller's
    writes in the same transaction; a tenant not created yet is not being deleted."""
    global _deleting_stmt
    if _deleting_stmt is None:  # built once: it runs before every batch a sync writes
        t = m.Tenant.__table__
        _deleting_stmt = (
            select(t.c.status).where(t.c.id == bindparam("b_id")).with_for_update(read=True)
        )
    status = session.connection().execute(_deleting_stmt, {"b_id": tenant_id}).scalar()
    return status == "deleting"


_deleting_stmt = None


def partner_by_scaikey_id(session, scaikey_partner_id: str | None):
    if not scaikey_partner_id:
        return None
    return session.scalar(
        select(m.Partner).where(m.Partner.scaikey_partner_id == scaikey_partner_id)
    )


def tenant_state(session, tenant_id: str, roles: tuple[str, ...]) -> TenantState:
    """What the sync compares with ScaiKey for one tenant (four statements)."""
    p = m.Participant
    participants = {
        r.scaikey_user_id: LocalParticipant(
            r.id,
            r.display_name,
            r.email,
            bool(r.active),
            bool(r.operator_hold),
            r.erased_at is not None,
        )
        for r in session.execute(
            select(
                p.id,
                p.scaikey_user_id,
                p.display_name,
                p.email,
                p.active,
                p.operator_hold,
                p.erased_at,
            ).where(p.tenant_id == tenant_id, p.kind == "human", p.scaikey_user_id.is_not(None))
        )
    }
    g = m.ScaikeyGroup
    groups = {
        r.scaikey_group_id: LocalGroup(r.id, r.name, bool(r.active))
        for r in session.execute(
            select(g.id, g.scaikey_group_id, g.name, g.active).where(g.tenant_id == tenant_id)
        )
    }
    gm = m.ScaikeyGroupMember
    members = {
        (r.group_id, r.participant_id)
        for r in session.execute(
            select(gm.group_id, gm.participant_id).where(gm.tenant_id == tenant_id)
        )
    }
    ra, role = m.RoleAssignment, m.Role
    assignments = [
        LocalAssignment(r.id, r.participant_id, r.name, r.created_by, bool(r.active))
        for r in session.execute(
            select(ra.id, ra.participant_id, role.name, ra.created_by, p.active)
            .join(role, role.id == ra.role_id)
            .join(p, p.id == ra.participant_id)
            .where(
                ra.tenant_id == tenant_id,
                ra.workspace_id.is_(None),
                role.tenant_id.is_(None),
                role.builtin.is_(True),
                role.name.in_(roles),
            )
        )
    ]
    return TenantState(participants, groups, members, assignments)


def local_counts(session, tenant_ids: list[str]) -> dict:
    """Active humans linked to ScaiKey and active mirrored groups in these tenants."""
    if not tenant_ids:
        return {"users": 0, "groups": 0}
    p, g = m.Participant, m.ScaikeyGroup
    users = session.scalar(
        select(func.count()).where(
            p.tenant_id.in_(tenant_ids),
            p.kind == "human",
            p.scaikey_user_id.is_not(None),
            p.active.is_(True),
        )
    )
    groups = session.scalar(
        select(func.count()).where(g.tenant_id.in_(tenant_ids), g.active.is_(True))
    )
    return {"users": users or 0, "groups": groups or 0}


# -- writes (in the caller's transaction) -----------------------------------------------------


def insert_tenant(session, tenant: TenantRow, now: dt.datetime) -> None:
    session.add(
        m.Tenant(
            id=tenant.id,
            slug=tenant.slug,
            name=tenant.name,
            scaikey_tenant_id=tenant.scaikey_tenant_id,
            partner_id=tenant.partner_id,
            features={},
            ai_defaults={},
            status="active",
            created_at=now,
        )
    )
    session.flush()


def personal_workspace_slug(participant_id: str) -> str:
    """``personal-<the id's 26 characters>``: unique, stable, a valid slug."""
    return "personal-" + participant_id.split("-", 1)[-1].lower()


def insert_participants(session, tenant_id: str, rows: list[dict], now: dt.datetime) -> int:
    """New humans, each with a personal workspace it owns (as ScaiWave does on first sign-in).
    ``rows``: id, scaikey_user_id, display_name, email. Returns rows written."""
    if not rows:
        return 0
    participants, workspaces, members = [], [], []
    for r in rows:
        pid, name = r["id"], r["display_name"]
        ws_id = "ws-" + pid.split("-", 1)[-1]
        participants.append((pid, r["scaikey_user_id"], name, r["email"]))
        workspaces.append((ws_id, personal_workspace_slug(pid), f"{name}"[:186] + " (personal)"))
        members.append((ws_id, pid))
    insert_rows(
        session, m.Participant, ("id", "scaikey_user_id", "display_name", "email"), participants,
        tenant_id=tenant_id, kind="human", fqid=None, avatar_url=None, active=True,
        deactivated_at=None, last_synced_at=now, created_at=now, operator_hold=False,
    )  # fmt: skip
    insert_rows(
        session, m.Workspace, ("id", "slug", "name"), workspaces,
        tenant_id=tenant_id, description=None, personal=True, created_at=now,
    )  # fmt: skip
    insert_rows(
        session, m.WorkspaceMember, ("workspace_id", "participant_id"), members,
        tenant_id=tenant_id, role="owner", created_at=now,
    )  # fmt: skip
    return 3 * len(rows)


def insert_rows(session, model, columns: tuple[str, ...], rows: list[tuple], **same) -> None:
    """INSERT ``rows`` (tuples of Python values in the order of ``columns``; ``same``: the
    columns with one value for every row) into ``model``'s table in one executemany handed
    straight to the driver, in the session's transaction.

    The rows written are those ``insert(table)`` with dicts writes: each column's own bind
    processor (``UTCDateTime``, ``Boolean``, ...) converts its values (once for ``same``),
    without SQLAlchemy's per-row parameter processing, which was most of a first sync's time.
    Every column with a Python-side default must be given (SQLAlchemy would fill it in; this
    does not)."""
    if not rows:
        return
    table = model.__table__
    conn = session.connection()
    dialect = conn.dialect
    names = (*columns, *same)
    defaulted = [c.key for c in table.c if c.key not in names and c.default is not None]
    if defaulted:
        raise ValueError(f"insert_rows into {table.name} must be given {defaulted}")
    mark = _MARKS.get(dialect.driver)
    if mark is None:  # another driver: SQLAlchemy's own executemany
        dicts = [dict(same, **dict(zip(columns, r, strict=True))) for r in rows]
        conn.execute(table.insert(), dicts)
        return
    prep = dialect.identifier_preparer
    sql = (
        f"INSERT INTO {prep.format_table(table)} "
        f"({', '.join(prep.quote(table.c[k].name) for k in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )

    def processor(key):
        return table.c[key].type.dialect_impl(dialect).bind_processor(dialect)

    tail = tuple(
        value if (process := processor(key)) is None else process(value)
        for key, value in same.items()
    )
    processors = [(i, p) for i, key in enumerate(columns) if (p := processor(key)) is not None]
    if processors:
        values = list(zip(*rows, strict=True))
        for i, process in processors:
            values[i] = _processed(values[i], process)
        rows = list(zip(*values, strict=True))
    conn.exec_driver_sql(sql, [r + tail for r in rows] if tail else rows)


# the positional parameter marker of the drivers the store uses (PyMySQL's executemany sends
# an INSERT of many rows as multi-row INSERTs of up to its Cursor.max_stmt_length, 1 MB)
_MARKS = {"pysqlite": "?", "pymysql": "%s"}
_NOTHING = object()


def _processed(values, process) -> list:
    """``process`` applied to each value, once for a run of the same object."""
    out, last, last_out = [], _NOTHING, None
    for value in values:
        if value is not last:
            last, last_out = value, process(value)
        out.append(last_out)
    return out


def update_participants(session, rows: list[dict], now: dt.datetime, *, active=None) -> int:
    """Set display_name/email (and ``active`` when given) on rows ``{"id", "display_name",
    "email"}``; one executemany statement. An erased participant is never written, and a
    reactivation skips a participant an operator put on hold (both re-checked here, in case
    they changed since the plan was made)."""
    if not rows:
        return 0
    p = m.Participant.__table__
    values = {
        "display_name": bindparam("b_display_name"),
        "email": bindparam("b_email"),
        "last_synced_at": bindparam("b_now"),
    }
    if active is not None:
        values["active"] = active
        values["deactivated_at"] = None if active else bindparam("b_now")
    where = [p.c.id == bindparam("b_id"), p.c.erased_at.is_(None)]
    if active:
        where.append(p.c.operator_hold.is_(False))
    stmt = update(p).where(*where).values(**values)
    params = [
        {"b_id": r["id"], "b_display_name": r["display_name"], "b_email": r["email"], "b_now": now}
        for r in rows
    ]
    session.connection().execute(stmt, params)
    return len(rows)


def deactivate_participants(session, ids: list[str], now: dt.datetime) -> int:
    if not ids:
        return 0
    p = m.Participant.__table__
    stmt = (
        update(p)
        .where(p.c.id == bindparam("b_id"), p.c.erased_at.is_(None))
        .values(active=False, deactivated_at=now, last_synced_at=now)
    )
    session.connection().execute(stmt, [{"b_id": i} for i in ids])
    return len(ids)


def insert_groups(session, tenant_id: str, rows: list[dict], now: dt.datetime) -> int:
    if not rows:
        return 0
    insert_rows(
        session,
        m.ScaikeyGroup,
        ("scaikey_group_id", "name"),
        [(r["scaikey_group_id"], r["name"]) for r in rows],
        tenant_id=tenant_id,
        active=True,
        last_synced_at=now,
    )
    return len(rows)


def update_groups(session, rows: list[dict], now: dt.datetime) -> int:
    """rows: ``{"id", "name", "active"}``."""
    if not rows:
        return 0
    g = m.ScaikeyGroup.__table__
    stmt = (
        update(g)
        .where(g.c.id == bindparam("b_id"))
        .values(name=bindparam("b_name"), active=bindparam("b_active"), last_synced_at=now)
    )
    session.connection().execute(
        stmt, [{"b_id": r["id"], "b_name": r["name"], "b_active": r["active"]} for r in rows]
    )
    return len(rows)


def group_ids(session, tenant_id: str) -> dict[str, int]:
    g = m.ScaikeyGroup
    return dict(
        session.execute(select(g.scaikey_group_id, g.id).where(g.tenant_id == tenant_id)).all()
    )


def insert_members(session, tenant_id: str, pairs: list[tuple[int, str]]) -> int:
    if not pairs:
        return 0
    rows = [(g, p) for g, p in pairs]
    insert_rows(
        session, m.ScaikeyGroupMember, ("group_id", "participant_id"), rows, tenant_id=tenant_id
    )
    return len(rows)


def delete_members(session, pairs: list[tuple[int, str]]) -> int:
    if not pairs:
        return 0
    gm = m.ScaikeyGroupMember.__table__
    stmt = delete(gm).where(
        and_(gm.c.group_id == bindparam("b_g"), gm.c.participant_id == bindparam("b_p"))
    )
    session.connection().execute(stmt, [{"b_g": g, "b_p": p} for g, p in pairs])
    return len(pairs)


def builtin_role_ids(session) -> dict[str, int]:
    """The built-in roles' ids (created if missing). A locking read: on MariaDB it sees roles
    another transaction (a parallel sync job) created after this one's snapshot began."""
    api.permissions.ensure_builtin_roles(session)
    r = m.Role
    return dict(
        session.execute(
            select(r.name, r.id)
            .where(r.tenant_id.is_(None), r.builtin.is_(True))
            .with_for_update(read=True)
        ).all()
    )


def grant_roles(session, tenant_id: str, grants: list[tuple[str, int]], now) -> int:
    """``grants``: (participant id, role id) at tenant scope, created by the sync."""
    if not grants:
        return 0
    insert_rows(
        session, m.RoleAssignment, ("participant_id", "role_id"), grants,
        tenant_id=tenant_id, workspace_id=None, scope_key="", created_at=now,
        created_by=SYNC_CREATOR,
    )  # fmt: skip
    return len(grants)


def revoke_roles(session, assignment_ids: list[int]) -> int:
    """Delete the sync's own grants (``created_by = 'scaikey-sync'`` is re-checked here)."""
    if not assignment_ids:
        return 0
    ra = m.RoleAssignment
    result = session.execute(
        delete(ra).where(ra.id.in_(assignment_ids), ra.created_by == SYNC_CREATOR)
    )
    return result.rowcount or 0
