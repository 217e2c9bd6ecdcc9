"""`role assign` (one), `role unassign` and `role assignments`: who holds which role where.

Owner / editor / viewer are ``workspace_members`` rows (one per member and workspace); every
other role is a ``role_assignments`` row. The last active owner of a workspace and the last
active tenant_admin of a tenant are never taken away.
"""

from __future__ import annotations

import contextlib

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db
from scaiwave_role.usecases import plan as plans
from scaiwave_role.usecases import resolve, tx

ASSIGNMENT_COLUMNS = [
    "tenant",
    "participant_id",
    "participant",
    "role",
    "scope",
    "workspace",
    "source",
    "since",
]


def assign(app, participant_ref, role_name, tenant_slug, workspace_slug) -> dict:
    with tx.write(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug)
        # one assignment: each unknown name keeps its own error code
        participant = resolve.participant(session, tenant, participant_ref)
        role = resolve.role(app, session, role_name, tenant)
        if workspace_slug:
            resolve.workspace(session, tenant, workspace_slug)
        err = resolve.level_error(role, workspace_slug)
        if err is not None:
            raise err
        resolve.require_grantable(app, role)
        plan = plans.make(
            app, session, tenant, [(None, participant_ref, role.name, workspace_slug)]
        )
        if plan.errors or plan.denied:
            raise plans.error(plan)
        plans.apply(app, session, tenant, plan, source="cli")
        row = plan.rows[0]
        if not participant.active and row["result"] != "unchanged":
            app.out.warn(
                f"participant {participant_ref!r} is deactivated: the role takes effect only "
                "once it is active again"
            )
        return {
            "participant": participant_ref,
            "participant_id": participant.id,
            "role": role.name,
            "tenant": tenant.slug,
            "scope": row["scope"],
            "previous": row["previous"],
            "result": "changed" if row["result"].startswith("changed") else row["result"],
        }


def unassign(app, participant_ref, role_name, tenant_slug, workspace_slug) -> dict:
    with tx.write(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug)
        participant = resolve.participant(session, tenant, participant_ref)
        role = resolve.role(app, session, role_name, tenant)
        ws = resolve.workspace(session, tenant, workspace_slug) if workspace_slug else None
        err = resolve.level_error(role, workspace_slug)
        if err is not None:
            raise err
        resolve.require_grantable(app, role)
        result = {
            "participant": participant_ref,
            "participant_id": participant.id,
            "role": role.name,
            "tenant": tenant.slug,
            "scope": resolve.scope_label(workspace_slug),
            "result": "unchanged",
        }
        if resolve.is_member_role(role):
            current = db.members_of(session, tenant.id, [ws.id], [participant.id]).get(
                (ws.id, participant.id)
            )
            if current != role.name:
                return result
            if role.name == "owner":
                owners = db.active_owners(session, [ws.id])[ws.id] - {participant.id}
                if not owners:
                    raise plans.needs_owner(ws.slug)
            db.remove_member(session, ws.id, participant.id)
        else:
            row = db.find_assignment(session, participant.id, role.id, ws.id if ws else None)
            if row is None:
                return result
            if role.builtin and role.name == "tenant_admin":
                admins = db.active_holders(session, tenant.id, role.id) - {participant.id}
                if not admins:
                    raise api.DomainError(
                        f"{participant_ref!r} is the last active tenant_admin of tenant "
                        f"{tenant.slug!r}",
                        code=errors.SW_TENANT_NEEDS_ADMIN,
                        hint="assign tenant_admin to another participant first",
                    )
            db.remove_assignment(session, row.id)
        api.audit.record(
            session,
            app.actor,
            "role.unassign",
            f"participant:{participant.id}",
            tenant_id=tenant.id,
            details={"role": role.name, "scope": result["scope"]},
        )
        result["result"] = "unassigned"
        return result


def list_assignments(app, participant_ref, role_name, tenant_slug, workspace_slug):
    """Resolve the filters first (errors before any output), then return a generator of rows
    (role_assignments, then workspace members) streamed from the open transaction."""
    stack = contextlib.ExitStack()
    try:
        session = stack.enter_context(tx.read(app))
        tenant = resolve.tenant(app, session, tenant_slug) if tenant_slug else None
        tenant_ids = [tenant.id] if tenant is not None else resolve.visible_tenant_ids(app, session)
        participant = (
            resolve.participant(session, tenant, participant_ref) if participant_ref else None
        )
        ws = resolve.workspace(session, tenant, workspace_slug) if workspace_slug else None
        role = resolve.role(app, session, role_name, tenant) if role_name else None
    except BaseException as exc:
        stack.__exit__(type(exc), exc, exc.__traceback__)  # rolls the transaction back
        raise
    common = {
        "tenant_ids": tenant_ids,
        "participant_id": participant.id if participant else None,
        "workspace_id": ws.id if ws else None,
    }

    def rows():
        with stack:
            if role is None or not resolve.is_member_role(role):
                role_id = role.id if role is not None else None
                for row in db.stream_assignments(session, role_id=role_id, **common):
                    yield _assignment_row(row, "role_assignment")
            if role is None or resolve.is_member_role(role):
                name = role.name if role is not None else None
                for row in db.stream_members(session, role=name, **common):
                    yield _assignment_row(row, "workspace_member")

    return rows()


def _assignment_row(row, source) -> dict:
    tenant, participant_id, email, display_name, role, workspace, since = row
    return {
        "tenant": tenant,
        "participant_id": participant_id,
        "participant": email or display_name,
        "role": role,
        "scope": "tenant" if workspace is None else "workspace",
        "workspace": workspace,
        "source": source,
        "since": since,
    }
