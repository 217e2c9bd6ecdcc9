"""The role plugin's SQL: every query `scaiwave role …` runs against the ScaiWave store.

Each function takes an open SQLAlchemy ``Session`` (inside the caller's transaction) and runs a
fixed number of statements: lookups by unique keys, grouped counts, and ``IN`` lists in chunks
of ``CHUNK`` for bulk files. Nothing here loads a table whole except ``all_tenants`` (tenants
are few); listings stream (``api.store.stream``).

Tables (``scaiwave_cli.store.models``): ``roles`` (built-ins have ``tenant_id`` NULL),
``role_permissions``, ``role_assignments`` (``scope_key`` = workspace id or ``''``, unique per
participant, role and scope) and ``workspace_members`` (the owner / editor / viewer rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import delete, distinct, func, or_, select, update
from sqlalchemy.orm import Session

from scaiwave_cli import api

m = api.store.models
CHUNK = 500


def _chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- tenants, workspaces, participants -----------------------------------------------------


def tenants_by_id(session: Session, ids: Iterable) -> dict:
    out = {}
    for part in _chunks({i for i in ids if i is not None}):
        for tenant in session.scalars(select(m.Tenant).where(m.Tenant.id.in_(part))):
            out[tenant.id] = tenant
    return out


def all_tenants(session: Session) -> list:
    return list(session.scalars(select(m.Tenant).order_by(m.Tenant.slug)))


def workspaces_by_slug(session: Session, tenant_id, slugs: Iterable[str]) -> dict:
    """``{slug: Workspace}`` for the slugs found in the tenant."""
    out = {}
    for part in _chunks(sorted(set(slugs))):
        stmt = select(m.Workspace).where(
            m.Workspace.tenant_id == tenant_id, m.Workspace.slug.in_(part)
        )
        for ws in session.scalars(stmt):
            out[ws.slug] = ws
    return out


def workspace_slugs(session: Session, ids: Iterable) -> dict:
    """``{workspace_id: slug}``."""
    out = {}
    for part in _chunks({i for i in ids if i is not None}):
        stmt = select(m.Workspace.id, m.Workspace.slug).where(m.Workspace.id.in_(part))
        out.update(dict(session.execute(stmt).all()))
    return out


def participants_by_ref(session: Session, tenant_id, refs: Iterable[str]) -> dict:
    """``{ref: Participant}`` for the refs found in the tenant, in a few statements per ``CHUNK``
    refs (the bulk form of ``api.find_participant``). A ref is a participant id, or an e-mail
    address (compared case-insensitively, folded as the core does) when it contains ``@`` and is
    no id."""
    refs = sorted(set(refs))
    out: dict = {}
    for part in _chunks(refs):
        stmt = select(m.Participant).where(
            m.Participant.tenant_id == tenant_id, m.Participant.id.in_(part)
        )
        for p in session.scalars(stmt):
            out[p.id] = p
    by_email: dict = {}
    for ref in refs:
        if "@" in ref and ref not in out:
            by_email.setdefault(ref.lower(), []).append(ref)
    email = api.folded(session, m.Participant.email)  # the core's folding, as find_participant
    for part in _chunks(sorted(by_email)):
        stmt = select(m.Participant).where(m.Participant.tenant_id == tenant_id, email.in_(part))
        for p in session.scalars(stmt):
            for ref in by_email.get((p.email or "").lower(), ()):
                out[ref] = p
    return out


# -- roles and permissions -------------------------------------------------------------------


def builtin_role(session: Session, name: str):
    stmt = select(m.Role).where(
        m.Role.tenant_id.is_(None), m.Role.builtin.is_(True), m.Role.name == name
    )
    return session.scalars(stmt.order_by(m.Role.id)).first()


def custom_role(session: Session, tenant_id, name: str):
    stmt = select(m.Role).where(m.Role.tenant_id == tenant_id, m.Role.name == name)
    return session.scalars(stmt).first()


def custom_roles_named(session: Session, name: str, tenant_ids=None) -> list:
    """Custom roles called ``name`` in ``tenant_ids`` (every tenant when None)."""
    stmt = select(m.Role).where(m.Role.tenant_id.is_not(None), m.Role.name == name)
    if tenant_ids is not None:
        ids = list(tenant_ids)
        if not ids:
            return []
        stmt = stmt.where(m.Role.tenant_id.in_(ids))
    return list(session.scalars(stmt.order_by(m.Role.tenant_id)))


def roles_for(session: Session, tenant_ids=None) -> list:
    """Built-in roles first, then the custom roles of ``tenant_ids`` (every tenant when None),
    each by name."""
    stmt = select(m.Role)
    if tenant_ids is not None:
        ids = list(tenant_ids)
        cond = m.Role.tenant_id.is_(None)
        if ids:
            cond = or_(cond, m.Role.tenant_id.in_(ids))
        stmt = stmt.where(cond)
    stmt = stmt.order_by(m.Role.tenant_id.is_not(None), m.Role.tenant_id, m.Role.name)
    return list(session.scalars(stmt))


def permissions_of(session: Session, role_ids: Iterable) -> dict:
    """``{role_id: set(permission)}``."""
    role_ids = list(role_ids)
    out: dict = {rid: set() for rid in role_ids}
    for part in _chunks(role_ids):
        stmt = select(m.RolePermission.role_id, m.RolePermission.permission).where(
            m.RolePermission.role_id.in_(part)
        )
        for role_id, perm in session.execute(stmt):
            out[role_id].add(perm)
    return out


def set_permissions(session: Session, role_id, add: Iterable[str] = (), remove: Iterable[str] = ()):
    remove = list(remove)
    if remove:
        session.execute(
            delete(m.RolePermission).where(
                m.RolePermission.role_id == role_id, m.RolePermission.permission.in_(remove)
            )
        )
    session.add_all(m.RolePermission(role_id=role_id, permission=perm) for perm in add)
    session.flush()


def create_role(session: Session, *, tenant_id, name: str, level: str, description, permissions):
    role = m.Role(
        tenant_id=tenant_id, name=name, builtin=False, level=level, description=description
    )
    session.add(role)
    session.flush()
    set_permissions(session, role.id, add=sorted(permissions))
    return role


def delete_role(session: Session, role_id) -> None:
    session.execute(delete(m.RoleAssignment).where(m.RoleAssignment.role_id == role_id))
    session.execute(delete(m.RolePermission).where(m.RolePermission.role_id == role_id))
    session.execute(delete(m.Role).where(m.Role.id == role_id))
    session.flush()


def assignment_counts(session: Session, role_ids=None, tenant_ids=None) -> dict:
    """``{role_id: (distinct participants, rows)}`` of ``role_assignments`` (one statement)."""
    ra = m.RoleAssignment
    stmt = select(ra.role_id, func.count(distinct(ra.participant_id)), func.count()).group_by(
        ra.role_id
    )
    if role_ids is not None:
        stmt = stmt.where(ra.role_id.in_(list(role_ids)))
    if tenant_ids is not None:
        stmt = stmt.where(ra.tenant_id.in_(list(tenant_ids)))
    return {role_id: (holders, rows) for role_id, holders, rows in session.execute(stmt)}


def member_counts(session: Session, tenant_ids=None, role=None) -> dict:
    """``{"owner": (distinct participants, rows), …}`` of ``workspace_members`` (one statement)."""
    wm = m.WorkspaceMember
    stmt = select(wm.role, func.count(distinct(wm.participant_id)), func.count()).group_by(wm.role)
    if tenant_ids is not None:
        stmt = stmt.where(wm.tenant_id.in_(list(tenant_ids)))
    if role is not None:
        stmt = stmt.where(wm.role == role)
    return {name: (holders, rows) for name, holders, rows in session.execute(stmt)}


# -- assignments and memberships -------------------------------------------------------------


def find_assignment(session: Session, participant_id, role_id, workspace_id):
    """The ``role_assignments`` row of this participant, role and scope (the unique key)."""
    ra = m.RoleAssignment
    return session.scalars(
        select(ra).where(
            ra.participant_id == participant_id,
            ra.role_id == role_id,
            ra.scope_key == (workspace_id or ""),
        )
    ).first()


def assignments_of(session: Session, tenant_id, participant_ids: Iterable) -> set:
    """``{(participant_id, role_id, workspace_id or None)}`` held by these participants."""
    ra = m.RoleAssignment
    out = set()
    for part in _chunks(set(participant_ids)):
        stmt = select(ra.participant_id, ra.role_id, ra.workspace_id).where(
            ra.tenant_id == tenant_id, ra.participant_id.in_(part)
        )
        out.update((p, r, w) for p, r, w in session.execute(stmt))
    return out


def members_of(session: Session, tenant_id, workspace_ids: Iterable, participant_ids) -> dict:
    """``{(workspace_id, participant_id): role}`` for these workspaces and participants."""
    wm = m.WorkspaceMember
    ws_ids = list(set(workspace_ids))
    out: dict = {}
    if not ws_ids:
        return out
    for part in _chunks(set(participant_ids)):
        stmt = select(wm.workspace_id, wm.participant_id, wm.role).where(
            wm.tenant_id == tenant_id, wm.workspace_id.in_(ws_ids), wm.participant_id.in_(part)
        )
        for ws_id, p_id, role in session.execute(stmt):
            out[(ws_id, p_id)] = role
    return out


def active_owners(session: Session, workspace_ids: Iterable, *, lock: bool = True) -> dict:
    """``{workspace_id: {participant_id, …}}``: the active owners. With ``lock`` the owner rows
    are read with ``FOR UPDATE`` (MariaDB), so two concurrent removals of two owners cannot
    both see "one left": the second waits and then reads the first one's result."""
    wm, p = m.WorkspaceMember, m.Participant
    ids = list(set(workspace_ids))
    out: dict = {wid: set() for wid in ids}
    for part in _chunks(ids):
        stmt = (
            select(wm.workspace_id, wm.participant_id)
            .join(p, p.id == wm.participant_id)
            .where(wm.workspace_id.in_(part), wm.role == "owner", p.active.is_(True))
        )
        if lock:
            stmt = stmt.with_for_update()
        for ws_id, p_id in session.execute(stmt):
            out[ws_id].add(p_id)
    return out


def active_holders(session: Session, tenant_id, role_id, *, lock: bool = True) -> set:
    """Active participants holding ``role_id`` at tenant scope (locking read, see above)."""
    ra, p = m.RoleAssignment, m.Participant
    stmt = (
        select(ra.participant_id)
        .join(p, p.id == ra.participant_id)
        .where(
            ra.tenant_id == tenant_id,
            ra.role_id == role_id,
            ra.scope_key == "",
            p.active.is_(True),
        )
    )
    if lock:
        stmt = stmt.with_for_update()
    return set(session.scalars(stmt))


def add_assignment(session: Session, *, tenant_id, participant_id, role_id, workspace_id, by):
    session.add(
        m.RoleAssignment(
            tenant_id=tenant_id,
            participant_id=participant_id,
            role_id=role_id,
            workspace_id=workspace_id,
            scope_key=workspace_id or "",
            created_by=by,
        )
    )


def remove_assignment(session: Session, assignment_id) -> None:
    session.execute(delete(m.RoleAssignment).where(m.RoleAssignment.id == assignment_id))


def set_member_role(session: Session, *, tenant_id, workspace_id, participant_id, role, existed):
    """Make the participant a member of the workspace with ``role`` (insert or update)."""
    wm = m.WorkspaceMember
    if existed:
        session.execute(
            update(wm)
            .where(wm.workspace_id == workspace_id, wm.participant_id == participant_id)
            .values(role=role)
        )
    else:
        session.add(
            wm(
                workspace_id=workspace_id,
                participant_id=participant_id,
                tenant_id=tenant_id,
                role=role,
            )
        )


def remove_member(session: Session, workspace_id, participant_id) -> None:
    wm = m.WorkspaceMember
    session.execute(
        delete(wm).where(wm.workspace_id == workspace_id, wm.participant_id == participant_id)
    )


def assignment_rows(session: Session, role_id) -> list:
    """``(id, participant_id, workspace_id)`` of every assignment of ``role_id``."""
    ra = m.RoleAssignment
    stmt = select(ra.id, ra.participant_id, ra.workspace_id).where(ra.role_id == role_id)
    return list(session.execute(stmt.order_by(ra.id)))


def reassign(session: Session, old_role_id, new_role_id) -> tuple[int, int]:
    """Move ``role_assignments`` rows from one role to another; a row whose participant already
    holds the new role at the same scope is dropped instead. Returns (moved, merged)."""
    ra = m.RoleAssignment
    old = assignment_rows(session, old_role_id)
    have = {(row.participant_id, row.workspace_id) for row in assignment_rows(session, new_role_id)}
    dup_ids = [row.id for row in old if (row.participant_id, row.workspace_id) in have]
    for part in _chunks(dup_ids):
        session.execute(delete(ra).where(ra.id.in_(part)))
    session.execute(update(ra).where(ra.role_id == old_role_id).values(role_id=new_role_id))
    return len(old) - len(dup_ids), len(dup_ids)


# -- listing ---------------------------------------------------------------------------------


def _stream(session: Session, stmt) -> Iterator[tuple]:
    """Plain tuples of ``stmt``, streamed by ``api.store.stream`` (a server-side cursor on
    MariaDB) on the session's Core connection: the rows are columns, not ORM objects, so the
    ORM's per-row loading is skipped."""
    yield from api.store.stream(session.connection(), stmt, batch_size=2000)


def stream_assignments(
    session: Session, *, tenant_ids=None, participant_id=None, role_id=None, workspace_id=None
) -> Iterator:
    """``role_assignments`` rows with names, streamed (server-side cursor on MariaDB), in the
    order of the ``(tenant_id, role_id)`` index."""
    ra, r, p, t, w = m.RoleAssignment, m.Role, m.Participant, m.Tenant, m.Workspace
    stmt = (
        select(
            t.slug.label("tenant"),
            p.id.label("participant_id"),
            p.email.label("email"),
            p.display_name.label("display_name"),
            r.name.label("role"),
            w.slug.label("workspace"),
            ra.created_at.label("since"),
        )
        .select_from(ra)
        .join(r, r.id == ra.role_id)
        .join(p, p.id == ra.participant_id)
        .join(t, t.id == ra.tenant_id)
        .outerjoin(w, w.id == ra.workspace_id)
    )
    if tenant_ids is not None:
        stmt = stmt.where(ra.tenant_id.in_(list(tenant_ids)))
    if participant_id is not None:
        stmt = stmt.where(ra.participant_id == participant_id)
    if role_id is not None:
        stmt = stmt.where(ra.role_id == role_id)
    if workspace_id is not None:
        stmt = stmt.where(ra.workspace_id == workspace_id)
    stmt = stmt.order_by(ra.tenant_id, ra.role_id, ra.id)
    yield from _stream(session, stmt)


def stream_members(
    session: Session, *, tenant_ids=None, participant_id=None, role=None, workspace_id=None
) -> Iterator:
    """``workspace_members`` rows with names, streamed, in the order of the
    ``(tenant_id, workspace_id, role)`` index."""
    wm, p, t, w = m.WorkspaceMember, m.Participant, m.Tenant, m.Workspace
    stmt = (
        select(
            t.slug.label("tenant"),
            p.id.label("participant_id"),
            p.email.label("email"),
            p.display_name.label("display_name"),
            wm.role.label("role"),
            w.slug.label("workspace"),
            wm.created_at.label("since"),
        )
        .select_from(wm)
        .join(w, w.id == wm.workspace_id)
        .join(t, t.id == wm.tenant_id)
        .join(p, p.id == wm.participant_id)
    )
    if tenant_ids is not None:
        stmt = stmt.where(wm.tenant_id.in_(list(tenant_ids)))
    if participant_id is not None:
        stmt = stmt.where(wm.participant_id == participant_id)
    if role is not None:
        stmt = stmt.where(wm.role == role)
    if workspace_id is not None:
        stmt = stmt.where(wm.workspace_id == workspace_id)
    stmt = stmt.order_by(wm.tenant_id, wm.workspace_id, wm.role, wm.participant_id)
    yield from _stream(session, stmt)
