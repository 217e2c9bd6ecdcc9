"""`role permissions add|remove|reset`: change the permission set of a role."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db
from scaiwave_role.usecases import resolve, tx

P = api.permissions


def change_permissions(app, op, name, names, tenant_slug) -> dict:
    """``op``: ``add``, ``remove`` or ``reset`` (a built-in back to its shipped set, or only the
    permissions ``names``). Unknown permission names exit 1 with close matches."""
    wanted = set(P.validate(names)) if names else set()
    with tx.write(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug) if tenant_slug else None
        role = resolve.role(app, session, name, tenant)
        role_tenant = resolve.require_role_change(app, session, role)
        current = db.permissions_of(session, [role.id])[role.id]
        if op == "add":
            target = current | wanted
        elif op == "remove":
            target = current - wanted
        else:
            if not role.builtin:
                raise api.DomainError(
                    f"{name!r} is a custom role: only built-in roles have a shipped set",
                    code=errors.SW_ROLE_NOT_RESETTABLE,
                    hint=f"use `scaiwave role permissions remove|add {name} …`",
                )
            shipped = set(P.SHIPPED_PERMISSIONS[role.name])
            target = ((current - wanted) | (wanted & shipped)) if wanted else shipped
        granted, revoked = target - current, current - target
        slug = role_tenant.slug if role_tenant is not None else None
        if granted or revoked:
            db.set_permissions(session, role.id, add=sorted(granted), remove=sorted(revoked))
            api.audit.record(
                session,
                app.actor,
                f"role.permissions.{op}",
                f"role:{slug}/{role.name}" if slug else f"role:{role.name}",
                tenant_id=role.tenant_id,
                details={
                    "granted": resolve.ordered(granted),
                    "revoked": resolve.ordered(revoked),
                    "permissions": resolve.ordered(target),
                },
            )
        record = resolve.role_record(role, target, slug)
        record["granted"] = resolve.ordered(granted)
        record["revoked"] = resolve.ordered(revoked)
        record["result"] = "changed" if (granted or revoked) else "unchanged"
        return record
