"""`role check`: may this participant do PERMISSION here, and which roles decide it (the core's
``api.permissions.check``, shared with the room plugin)."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_role.usecases import resolve, tx


def check(app, participant_ref, permission, tenant_slug, workspace_slug) -> dict:
    P = api.permissions
    if permission not in P.CATALOG:
        raise P.UnknownPermission(permission)
    with tx.read(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug)
        participant = resolve.participant(session, tenant, participant_ref)
        ws = resolve.workspace(session, tenant, workspace_slug) if workspace_slug else None
        decision = P.check(
            session,
            tenant_id=tenant.id,
            participant_id=participant.id,
            permission=permission,
            workspace_id=ws.id if ws else None,
        )
    chain = [
        {
            "role": link["role"],
            "scope": link["scope"],
            "workspace": workspace_slug if link["scope"] == "workspace" else None,
            "source": link["source"],
            "grants": link["grants"],
            "tenant_override": link["tenant_override"],
        }
        for link in decision.chain
    ]
    return {
        "allowed": decision.allowed,
        "participant": participant_ref,
        "participant_id": participant.id,
        "permission": permission,
        "tenant": tenant.slug,
        "workspace": workspace_slug,
        "reason": decision.reason.replace(f"workspace {ws.id}", f"workspace {ws.slug!r}")
        if ws is not None
        else decision.reason,
        "chain": chain,
    }
