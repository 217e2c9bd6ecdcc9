"""`role list|show|create|delete`: custom roles of a tenant and the global built-ins."""

from __future__ import annotations

import re

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db
from scaiwave_role.adapters import overrides as ovr
from scaiwave_role.usecases import resolve, tx

P = api.permissions

NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,62}$")
NAME_RULE = "2-63 characters: lowercase letters, digits, '_', '.', '-', starting with a letter"
ROLE_COLUMNS = ["name", "tenant", "builtin", "level", "permissions", "holders", "customized"]


def list_roles(app, tenant_slug) -> list[dict]:
    with tx.read(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug) if tenant_slug else None
        tenant_ids = [tenant.id] if tenant is not None else resolve.visible_tenant_ids(app, session)
        roles = db.roles_for(session, tenant_ids)
        perms = db.permissions_of(session, [r.id for r in roles])
        if tenant is not None:  # built-ins as they are in this tenant (its overrides)
            builtins = [r.id for r in roles if r.builtin]
            for rid, override in ovr.of_tenant(session, tenant.id, builtins).items():
                perms[rid] = ovr.effective(perms[rid], override)
        counts = resolve.counts(session, roles, tenant_ids)
        slugs = {
            t.id: t.slug for t in db.tenants_by_id(session, {r.tenant_id for r in roles}).values()
        }
        rows = []
        for role in roles:
            shipped = P.SHIPPED_PERMISSIONS.get(role.name) if role.builtin else None
            rows.append(
                {
                    "name": role.name,
                    "tenant": slugs.get(role.tenant_id),
                    "builtin": bool(role.builtin),
                    "level": resolve.level_of(role),
                    "permissions": len(perms[role.id]),
                    "holders": counts[role.id][0],
                    "assignments": counts[role.id][1],
                    "customized": None if shipped is None else set(perms[role.id]) != shipped,
                    "description": role.description or "",
                }
            )
    return rows


def show_role(app, name, tenant_slug) -> dict:
    with tx.read(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug) if tenant_slug else None
        role = resolve.role(app, session, name, tenant)
        if role.tenant_id is not None:
            tenant = db.tenants_by_id(session, [role.tenant_id])[role.tenant_id]
            app.actor.require_tenant(tenant)
        tenant_ids = [tenant.id] if tenant is not None else resolve.visible_tenant_ids(app, session)
        perms = db.permissions_of(session, [role.id])[role.id]
        base = perms
        if role.builtin and tenant is not None:  # as it is in this tenant (its override)
            perms = ovr.effective(base, ovr.of_tenant(session, tenant.id, [role.id])[role.id])
        counts = resolve.counts(session, [role], tenant_ids)[role.id]
        slug = tenant.slug if role.tenant_id is not None else None
        record = resolve.role_record(role, perms, slug, counts)
        if role.builtin and tenant is not None:
            record["override"] = resolve.override_record(base, perms)
        record["counted_in"] = tenant.slug if tenant is not None else "all visible tenants"
        return record


def create_role(app, name, tenant_slug, from_role, level, description) -> dict:
    if P.is_builtin(name):
        raise api.DomainError(
            f"{name!r} is a built-in role",
            code=errors.SW_ROLE_BUILTIN,
            hint=f"choose another name; --from {name} starts from its permissions",
        )
    if not NAME_RE.match(name):
        raise api.DomainError(
            f"invalid role name {name!r}", code=errors.SW_ROLE_NAME_INVALID, hint=NAME_RULE
        )
    with tx.write(app) as session:
        tenant = resolve.tenant(app, session, tenant_slug)
        source_perms: set = set()
        source = None
        if from_role:
            source = resolve.role(app, session, from_role, tenant)
            source_perms = db.permissions_of(session, [source.id])[source.id]
        level = level or (resolve.level_of(source) if source is not None else P.TENANT_LEVEL)
        existing = db.custom_role(session, tenant.id, name)
        if existing is not None:
            return _unchanged(
                app, session, existing, tenant, from_role, source_perms, level, description
            )
        role = db.create_role(
            session,
            tenant_id=tenant.id,
            name=name,
            level=level,
            description=description,
            permissions=source_perms,
        )
        record = resolve.role_record(role, source_perms, tenant.slug)
        api.audit.record(
            session,
            app.actor,
            "role.create",
            f"role:{tenant.slug}/{name}",
            tenant_id=tenant.id,
            details={
                "level": level,
                "from": from_role,
                "permissions": record["permissions"],
                "description": description,
            },
        )
        record["result"] = "created"
        return record


def _unchanged(app, session, existing, tenant, from_role, source_perms, level, description):
    """`role create` of a role that exists: left as it is, differences pointed out."""
    name = existing.name
    perms = db.permissions_of(session, [existing.id])[existing.id]
    differs = []
    if from_role and perms != source_perms:
        differs.append(f"permissions other than {from_role!r}'s")
    if level != resolve.level_of(existing):
        differs.append(f"level {resolve.level_of(existing)!r}")
    if description is not None and description != (existing.description or ""):
        differs.append("another description")
    if differs:
        app.out.warn(
            f"role {name!r} already exists with {', '.join(differs)}; left as it is "
            "(`scaiwave role permissions add|remove` changes it)"
        )
    record = resolve.role_record(existing, perms, tenant.slug)
    record["result"] = "unchanged"
    return record


def delete_role(app, name, tenant_slug, reassign_to, *, dry_run=False, yes=False) -> dict:
    """Delete a custom role of a tenant, after a plan and a confirmation (``tx.planned``). An
    unknown name is ``SW_ROLE_NOT_FOUND`` with close names, never "unchanged"."""
    if P.is_builtin(name):
        raise api.DomainError(
            f"{name!r} is a built-in role and cannot be deleted",
            code=errors.SW_ROLE_BUILTIN,
            hint=f"`scaiwave role permissions reset {name} --tenant <slug>` drops a tenant's "
            "override of it",
        )

    def compute(session):
        tenant = resolve.tenant(app, session, tenant_slug)
        role = resolve.role(app, session, name, tenant)  # not found: close names, exit 1
        rows = db.assignment_rows(session, role.id)
        holders = len({r.participant_id for r in rows})
        if rows and not reassign_to:
            raise api.DomainError(
                f"role {name!r} is held by {holders} participant(s) ({len(rows)} assignment(s))",
                code=errors.SW_ROLE_IN_USE,
                hint=f"pass --reassign-to <role>; `scaiwave role assignments --role {name} "
                f"--tenant {tenant.slug}` shows who holds it",
                details={"holders": holders, "assignments": len(rows)},
            )
        target = None
        if reassign_to:
            target = resolve.role(app, session, reassign_to, tenant)
            if target.id == role.id:
                raise api.DomainError(
                    "--reassign-to names the role being deleted",
                    code=errors.SW_ROLE_SCOPE,
                    hint="name another role of the tenant or a built-in",
                )
            resolve.require_grantable(app, target)
            _check_levels(role, target, rows)
        return {
            "tenant": resolve.tenant_snapshot(tenant),
            "role": resolve.role_snapshot(role),
            "target": resolve.role_snapshot(target),
            "rows": rows,  # Row tuples: plain values
            "holders": holders,
            "permissions": resolve.ordered(db.permissions_of(session, [role.id])[role.id]),
        }

    def apply(session, plan):
        tenant, role, target, rows = plan["tenant"], plan["role"], plan["target"], plan["rows"]
        moved = merged = 0
        if target is not None:
            moved, merged = _reassign(session, tenant, role, target, rows)
        db.delete_role(session, role.id)
        api.audit.record(
            session,
            app.actor,
            "role.delete",
            f"role:{tenant.slug}/{name}",
            tenant_id=tenant.id,
            details={
                "level": role.level,
                "permissions": plan["permissions"],
                "assignments": len(rows),
                "reassigned_to": target.name if target else None,
                "moved": moved,
                "merged": merged,
            },
        )
        plan.update(moved=moved, merged=merged)

    plan, applied = tx.planned(
        app, compute, apply, describe=_describe_delete, dry_run=dry_run, yes=yes
    )
    target = plan["target"]
    return {
        "name": name,
        "tenant": plan["tenant"].slug,
        "reassigned_to": target.name if target else None,
        "assignments": len(plan["rows"]),
        "holders": plan["holders"],
        "moved": plan.get("moved", 0),
        "merged": plan.get("merged", 0),
        "result": "deleted" if applied else "would delete",
    }


def _describe_delete(plan) -> str:
    role, tenant, rows, target = plan["role"], plan["tenant"], plan["rows"], plan["target"]
    perms = ", ".join(plan["permissions"]) or "no permissions"
    text = f"delete role {role.name!r} in tenant {tenant.slug!r} ({perms})"
    if rows:
        text += (
            f": {len(rows)} assignment(s) of {plan['holders']} participant(s) move to "
            f"{target.name!r}"
        )
    else:
        text += ": not assigned to anyone"
    return text


def _check_levels(role, target, rows) -> None:
    """Refuse a reassignment across levels (a workspace role's rows to a tenant role …)."""
    level = resolve.level_of(target)
    wrong = [r for r in rows if (r.workspace_id is None) != (level == P.TENANT_LEVEL)]
    if wrong:
        need = "tenant" if level == P.TENANT_LEVEL else "workspace"
        raise api.DomainError(
            f"{target.name!r} is a {need} role, but {len(wrong)} assignment(s) of {role.name!r} "
            f"are not at {need} scope",
            code=errors.SW_ROLE_SCOPE,
            hint=f"reassign to a role of level {resolve.level_of(role)!r}",
        )


def _reassign(session, tenant, role, target, rows) -> tuple[int, int]:
    """Move ``rows`` (assignments of ``role``) to ``target``: (moved, merged into one the
    participant already had)."""
    if not rows:
        return 0, 0
    if not resolve.is_member_role(target):
        return db.reassign(session, role.id, target.id)
    # owner / editor / viewer are memberships: a participant who is already a member of the
    # workspace keeps its membership role (never demoted by a reassignment)
    members = db.members_of(
        session, tenant.id, {r.workspace_id for r in rows}, {r.participant_id for r in rows}
    )
    moved = merged = 0
    for row in rows:
        key = (row.workspace_id, row.participant_id)
        if key in members:
            merged += 1
        else:
            db.set_member_role(
                session,
                tenant_id=tenant.id,
                workspace_id=row.workspace_id,
                participant_id=row.participant_id,
                role=target.name,
                existed=False,
            )
            members[key] = target.name
            moved += 1
        db.remove_assignment(session, row.id)
    return moved, merged
