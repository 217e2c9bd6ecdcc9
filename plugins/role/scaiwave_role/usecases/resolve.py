"""Names to rows for the role use cases: tenants, workspaces, participants and roles; the acting
admin's scope; where a role may be held; and the role record the commands print."""

from __future__ import annotations

import difflib
from types import SimpleNamespace

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db

P = api.permissions
MEMBER_ROLES = frozenset(P.WORKSPACE_MEMBER_ROLES)


# -- the acting admin's scope ----------------------------------------------------------------


def visible_tenant_ids(app, session):
    """None for a platform actor (no filter), else the ids of the tenants it may see."""
    if app.actor.is_platform:
        return None
    return [t.id for t in db.all_tenants(session) if app.actor.can_see_tenant(t)]


def require_grantable(app, role) -> None:
    """Nobody grants more than its own scope: platform_admin needs a platform actor,
    partner_admin a platform or partner one."""
    if not role.builtin:
        return
    if role.name == "platform_admin":
        app.actor.require_platform("grant or take away platform_admin")
    elif role.name == "partner_admin" and app.actor.scope not in ("platform", "partner"):
        raise api.PermissionDenied(
            f"{app.actor.name} ({app.actor.scope} admin) may not grant or take away partner_admin",
            hint="use a platform or partner admin token",
        )


def require_role_change(app, session, role):
    """Changing a role: a built-in is global (platform scope); a custom one needs its tenant.
    Returns the custom role's tenant (None for a built-in)."""
    if role.tenant_id is None:
        app.actor.require_platform(f"change the built-in role {role.name!r} (it is global)")
        return None
    tenant = db.tenants_by_id(session, [role.tenant_id])[role.tenant_id]
    app.actor.require_tenant(tenant)
    return tenant


def require_override(app, tenant, role, granted) -> None:
    """Overriding a built-in in ``tenant``: the actor must reach the tenant, may not change a
    role above its own scope (``require_grantable``), and may not grant a permission above it
    (``platform.manage``: platform scope; ``partner.manage_tenants``: partner or platform)."""
    app.actor.require_tenant(tenant)
    require_grantable(app, role)
    if "platform.manage" in granted:
        app.actor.require_platform("grant platform.manage")
    if "partner.manage_tenants" in granted and app.actor.scope not in ("platform", "partner"):
        raise api.PermissionDenied(
            f"{app.actor.name} ({app.actor.scope} admin) may not grant partner.manage_tenants",
            hint="use a platform or partner admin token",
        )


# -- resolution ------------------------------------------------------------------------------


def tenant(app, session, slug: str):
    """The tenant ``slug`` (or id), within the acting admin's scope (exit 3 outside it)."""
    return api.find_tenant(session, slug, actor=app.actor)


def workspace(session, tenant, slug: str):
    """The workspace ``slug`` (or id) of ``tenant``."""
    return api.find_workspace(session, tenant, slug)


def participant(session, tenant, ref: str):
    """A participant id or e-mail (case-insensitive) of ``tenant``, active or not."""
    return api.find_participant(session, tenant, ref)


def role(app, session, name: str, tenant=None):
    """The built-in role ``name``, else the custom role of that name in ``tenant`` (or, with no
    tenant, in the one tenant visible to the actor that has it)."""
    found = db.builtin_role(session, name)
    if found is not None:
        return found
    if tenant is not None:
        found = db.custom_role(session, tenant.id, name)
        if found is not None:
            return found
        known = [r.name for r in db.roles_for(session, [tenant.id])]
    else:
        named = db.custom_roles_named(session, name, visible_tenant_ids(app, session))
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            slugs = sorted(
                t.slug for t in db.tenants_by_id(session, [r.tenant_id for r in named]).values()
            )
            raise api.DomainError(
                f"role {name!r} exists in {len(named)} tenants ({', '.join(slugs)})",
                code=errors.SW_ROLE_AMBIGUOUS,
                hint="pass --tenant <slug> to say which one",
            )
        known = [r.name for r in db.roles_for(session, visible_tenant_ids(app, session))]
    near = close_matches(name, known)
    where = f" in tenant {tenant.slug!r}" if tenant is not None else ""
    raise api.NotFoundError(
        f"role {name!r} not found{where}{did_you_mean(near)}",
        code=errors.SW_ROLE_NOT_FOUND,
        hint="`scaiwave role list --tenant <slug>` shows the roles",
        details={"close_matches": near},
    )


def close_matches(name: str, known) -> list[str]:
    """Up to three role names close to ``name``."""
    return difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5)


def did_you_mean(near: list[str]) -> str:
    return f" (did you mean {', '.join(near)}?)" if near else ""


def snapshot(row, *fields):
    """The plain values of an ORM row (they outlive its transaction: a plan is printed after a
    dry run rolled back or a change committed)."""
    return SimpleNamespace(**{f: getattr(row, f) for f in fields}) if row is not None else None


def role_snapshot(role):
    return snapshot(role, "id", "name", "builtin", "level", "description", "tenant_id")


def tenant_snapshot(tenant):
    return snapshot(tenant, "id", "slug")


# -- levels ----------------------------------------------------------------------------------


def level_of(role) -> str:
    """Where ``role`` may be assigned: the shipped level of a built-in, else the row's."""
    return (P.role_level(role.name) if role.builtin else None) or role.level or P.TENANT_LEVEL


def is_member_role(role) -> bool:
    """owner / editor / viewer: held as ``workspace_members`` rows."""
    return bool(role.builtin) and role.name in MEMBER_ROLES


def level_error(role, workspace_slug):
    """The ``SW_ROLE_SCOPE`` error of holding ``role`` at this scope, or None."""
    level = level_of(role)
    if level == P.WORKSPACE_LEVEL and workspace_slug is None:
        return api.DomainError(
            f"{role.name!r} is a workspace role: give --workspace <slug>",
            code=errors.SW_ROLE_SCOPE,
            hint="owner, editor, viewer (workspace memberships) and custom roles created with "
            "--level workspace are held in one workspace",
        )
    if level == P.TENANT_LEVEL and workspace_slug is not None:
        return api.DomainError(
            f"{role.name!r} is a tenant role: it is held for the whole tenant, not one workspace",
            code=errors.SW_ROLE_SCOPE,
            hint="drop --workspace, or create a custom role with --level workspace",
        )
    return None


def scope_label(ws_slug) -> str:
    return "tenant" if ws_slug is None else f"workspace:{ws_slug}"


# -- records ---------------------------------------------------------------------------------


def ordered(perms) -> list[str]:
    """Catalog order, then any unknown strings found in the database (kept visible)."""
    return [p for p in P.PERMISSIONS if p in perms] + sorted(set(perms) - set(P.CATALOG))


def role_record(role, perms, tenant_slug, counts=None) -> dict:
    record = {
        "name": role.name,
        "tenant": tenant_slug,
        "builtin": bool(role.builtin),
        "level": level_of(role),
        "description": role.description or "",
        "permissions": ordered(perms),
    }
    if counts is not None:
        record["holders"], record["assignments"] = counts
    if role.builtin:
        shipped = P.SHIPPED_PERMISSIONS.get(role.name, frozenset())
        record["customized"] = set(perms) != set(shipped)
        record["added"] = ordered(set(perms) - shipped)
        record["removed"] = ordered(shipped - set(perms))
    return record


def override_record(base, effective) -> dict:
    """A tenant's override of a built-in, as printed: what it adds to and removes from the
    global set."""
    return {
        "added": ordered(set(effective) - set(base)),
        "removed": ordered(set(base) - set(effective)),
    }


def counts(session, roles, tenant_ids) -> dict:
    """``{role_id: (holders, assignments)}`` in ``tenant_ids`` (all when None): role_assignments
    rows, plus workspace_members rows for owner / editor / viewer. Two statements."""
    assigned = db.assignment_counts(session, [r.id for r in roles], tenant_ids)
    members = {}
    if any(is_member_role(r) for r in roles):
        members = db.member_counts(session, tenant_ids)
    out = {}
    for role in roles:
        holders, rows = assigned.get(role.id, (0, 0))
        if is_member_role(role):
            extra = members.get(role.name, (0, 0))
            holders, rows = holders + extra[0], rows + extra[1]
        out[role.id] = (holders, rows)
    return out
