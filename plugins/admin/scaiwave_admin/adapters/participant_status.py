"""The SQL of `admin deactivate-participant` / `reactivate-participant`: the hand-over guards'
look-ups (who else holds ``tenant_admin``, who else owns a workspace) and the status write.

The guards' reads lock what they read (``FOR UPDATE`` on MariaDB; SQLite serialises writers
anyway), so two operators deactivating the last two admins at once cannot both see "one left":
the second waits for the first and then reads its result. Nothing here commits.
"""

from __future__ import annotations

from sqlalchemy import select, update

from scaiwave_cli import api

m = api.store.models

TENANT_ADMIN = "tenant_admin"  # the built-in role (tenant scope) a tenant must keep one of


def tenant_admins(session, tenant_id: str, *, lock: bool = True) -> set[str]:
    """Active participants holding the built-in ``tenant_admin`` at tenant scope (``lock``:
    their rows locked)."""
    ra, role, p = m.RoleAssignment, m.Role, m.Participant
    stmt = (
        select(ra.participant_id)
        .join(role, role.id == ra.role_id)
        .join(p, p.id == ra.participant_id)
        .where(
            ra.tenant_id == tenant_id,
            ra.workspace_id.is_(None),
            role.tenant_id.is_(None),
            role.builtin.is_(True),
            role.name == TENANT_ADMIN,
            p.active.is_(True),
        )
    )
    return set(session.scalars(stmt.with_for_update() if lock else stmt))


def sole_owned_workspaces(
    session, tenant_id: str, participant_id: str, *, lock: bool = True
) -> list[str]:
    """Slugs of the tenant's shared (not personal) workspaces whose only active owner is
    ``participant_id`` (``lock``: the other owners' rows locked). A personal workspace
    belongs to its one person and never needs another owner."""
    wm, w, p = m.WorkspaceMember, m.Workspace, m.Participant
    owned = dict(
        session.execute(
            select(wm.workspace_id, w.slug)
            .join(w, w.id == wm.workspace_id)
            .where(
                wm.tenant_id == tenant_id,
                wm.participant_id == participant_id,
                wm.role == "owner",
                w.personal.is_(False),
            )
        ).all()
    )
    if not owned:
        return []
    others = (
        select(wm.workspace_id)
        .join(p, p.id == wm.participant_id)
        .where(
            wm.workspace_id.in_(list(owned)),
            wm.role == "owner",
            wm.participant_id != participant_id,
            p.active.is_(True),
        )
    )
    shared = set(session.scalars(others.with_for_update() if lock else others))
    return sorted(slug for ws_id, slug in owned.items() if ws_id not in shared)


def lock(session, participant) -> None:
    """Re-read ``participant`` (an ORM row of ``session``) under a row lock."""
    session.refresh(participant, with_for_update=True)


def set_status(session, participant_id: str, *, active: bool, hold: bool, deactivated_at) -> None:
    """One UPDATE of ``active``, ``operator_hold`` and ``deactivated_at``."""
    p = m.Participant
    session.execute(
        update(p)
        .where(p.id == participant_id)
        .values(active=active, operator_hold=hold, deactivated_at=deactivated_at)
    )
