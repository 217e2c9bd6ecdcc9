"""The role plugin's SQL on ``role_overrides``: one tenant's override of a built-in role's
permissions (``granted`` true adds a permission in that tenant, false takes it away; no row: the
global ``role_permissions`` set applies). The core's ``api.permissions.check`` reads the same
rows through their primary key (tenant, role, permission).

Each function takes an open ``Session`` (the caller's transaction) and runs a fixed number of
statements (``IN`` lists in chunks of ``db.CHUNK``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scaiwave_cli import api
from scaiwave_role.adapters.db import _chunks

m = api.store.models


def of_tenant(session: Session, tenant_id, role_ids: Iterable) -> dict:
    """``{role_id: {permission: granted}}`` of one tenant (every role id present)."""
    ro = m.RoleOverride
    role_ids = list(role_ids)
    out: dict = {rid: {} for rid in role_ids}
    for part in _chunks(role_ids):
        stmt = select(ro.role_id, ro.permission, ro.granted).where(
            ro.tenant_id == tenant_id, ro.role_id.in_(part)
        )
        for role_id, perm, granted in session.execute(stmt):
            out[role_id][perm] = bool(granted)
    return out


def of_role(session: Session, role_id) -> dict:
    """``{tenant_id: {permission: granted}}``: every tenant's override of one role."""
    ro = m.RoleOverride
    out: dict = {}
    stmt = select(ro.tenant_id, ro.permission, ro.granted).where(ro.role_id == role_id)
    for tenant_id, perm, granted in session.execute(stmt):
        out.setdefault(tenant_id, {})[perm] = bool(granted)
    return out


def replace(session: Session, tenant_id, role_id, rows: dict) -> None:
    """Make ``rows`` (``{permission: granted}``) the tenant's whole override of the role."""
    ro = m.RoleOverride
    session.execute(delete(ro).where(ro.tenant_id == tenant_id, ro.role_id == role_id))
    session.add_all(
        ro(tenant_id=tenant_id, role_id=role_id, permission=perm, granted=granted)
        for perm, granted in sorted(rows.items())
    )
    session.flush()


def drop(session: Session, role_id, permissions: Iterable[str] | None = None) -> int:
    """Drop every tenant's override of the role (of ``permissions`` only, when given)."""
    ro = m.RoleOverride
    stmt = delete(ro).where(ro.role_id == role_id)
    if permissions is not None:
        stmt = stmt.where(ro.permission.in_(list(permissions)))
    return session.execute(stmt).rowcount or 0


def effective(base: Iterable[str], override: dict) -> set:
    """The permissions of a role in one tenant: ``base`` changed by the tenant's override."""
    out = set(base)
    for perm, granted in override.items():
        (out.add if granted else out.discard)(perm)
    return out
