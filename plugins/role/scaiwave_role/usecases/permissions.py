"""`role permissions add|remove|reset`: change the permission set of a role.

Where the change lands:

- a custom role: its own ``role_permissions`` rows (it belongs to one tenant);
- a built-in role with ``--tenant T``: tenant T's override (``role_overrides``), so T only;
  ``reset`` drops T's override (T follows the global set again);
- a built-in role with ``--all-tenants`` (platform scope): the global ``role_permissions`` set,
  which every tenant without its own override of those permissions follows (the plan says how
  many tenants that affects); ``reset`` restores the shipped set and drops every tenant's
  override of the permissions reset.

``remove``, ``reset`` and every ``--all-tenants`` change show a plan and ask first
(``tx.planned``); ``--dry-run`` shows the plan and writes nothing.
"""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db
from scaiwave_role.adapters import overrides as ovr
from scaiwave_role.usecases import resolve, tx

P = api.permissions
VERBS = {"add": ("add", "to"), "remove": ("remove", "from")}


def change_permissions(
    app, op, name, names, tenant_slug, *, all_tenants=False, dry_run=False, yes=False
) -> dict:
    """``op``: ``add``, ``remove`` or ``reset`` (all, or only the permissions ``names``).
    Unknown permission names exit 1 with close matches; an unknown role exits 1 with close
    role names."""
    wanted = set(P.validate(names)) if names else set()

    def compute(session):
        tenant = resolve.tenant(app, session, tenant_slug) if tenant_slug else None
        role = resolve.role(app, session, name, tenant)
        if role.builtin and all_tenants:
            return _everywhere(app, session, op, role, wanted)
        if role.builtin:
            return _in_tenant(app, session, op, role, wanted, tenant)
        return _custom(app, session, op, role, wanted)

    def apply(session, plan):
        role, kind = plan["role"], plan["kind"]
        if kind == "tenant":
            ovr.replace(session, plan["tenant"].id, role.id, plan["override"])
        else:
            db.set_permissions(
                session, role.id, add=sorted(plan["granted"]), remove=sorted(plan["revoked"])
            )
        if kind == "global" and plan["dropped"]:
            ovr.drop(session, role.id, None if op == "reset" and not wanted else sorted(wanted))
        slug = plan["tenant"].slug if plan["tenant"] is not None else None
        api.audit.record(
            session,
            app.actor,
            f"role.permissions.{op}",
            f"role:{slug}/{role.name}" if slug else f"role:{role.name}",
            tenant_id=plan["tenant"].id if plan["tenant"] is not None else None,
            details={
                "scope": _scope(plan),
                "granted": resolve.ordered(plan["granted"]),
                "revoked": resolve.ordered(plan["revoked"]),
                "permissions": resolve.ordered(plan["target"]),
                **(
                    {"tenants": plan["affected"], "overrides_dropped": plan["dropped"]}
                    if kind == "global"
                    else {}
                ),  # fmt: skip
            },
        )

    needs_yes = (lambda plan: True) if (op != "add" or all_tenants) else (lambda plan: False)
    plan, applied = tx.planned(
        app, compute, apply, describe=_describe, dry_run=dry_run, yes=yes, confirm=needs_yes
    )
    return _record(plan, dry_run)


# -- the three targets -------------------------------------------------------------------------


def _target(op, role, current, wanted, base_for_reset):
    if op == "add":
        return current | wanted
    if op == "remove":
        return current - wanted
    if not role.builtin:
        raise api.DomainError(
            f"{role.name!r} is a custom role: only built-in roles have a shipped set",
            code=errors.SW_ROLE_NOT_RESETTABLE,
            hint=f"use `scaiwave role permissions remove|add {role.name} …`",
        )
    base = set(base_for_reset)
    return ((current - wanted) | (wanted & base)) if wanted else base


def _custom(app, session, op, role, wanted) -> dict:
    tenant = resolve.require_role_change(app, session, role)
    current = db.permissions_of(session, [role.id])[role.id]
    target = _target(op, role, current, wanted, ())
    return _plan(op, "custom", role, tenant, current, target)


def _in_tenant(app, session, op, role, wanted, tenant) -> dict:
    """A built-in in one tenant: the tenant's override, relative to the global set."""
    base = db.permissions_of(session, [role.id])[role.id]
    override = ovr.of_tenant(session, tenant.id, [role.id])[role.id]
    current = ovr.effective(base, override)
    target = _target(op, role, current, wanted, base)  # reset: back to the global set
    resolve.require_override(app, tenant, role, target - current)
    plan = _plan(op, "tenant", role, tenant, current, target)
    plan["override"] = {p: p in target for p in target ^ base}
    plan["base"] = base
    return plan


def _everywhere(app, session, op, role, wanted) -> dict:
    """A built-in for every tenant: the global set; tenants' overrides of the permissions
    changed are kept by add / remove and dropped by reset."""
    app.actor.require_platform(f"change the built-in role {role.name!r} for every tenant")
    current = db.permissions_of(session, [role.id])[role.id]
    target = _target(op, role, current, wanted, P.SHIPPED_PERMISSIONS[role.name])
    by_tenant = ovr.of_role(session, role.id)
    reset_perms = (set(P.CATALOG) if not wanted else wanted) if op == "reset" else set()
    affected, keeping, dropped = 0, [], 0
    tenants = db.all_tenants(session)
    for tenant in tenants:
        before = by_tenant.get(tenant.id, {})
        after = {p: g for p, g in before.items() if p not in reset_perms}
        dropped += len(before) != len(after)
        if ovr.effective(current, before) != ovr.effective(target, after):
            affected += 1
        elif set(after) & (target ^ current):
            keeping.append(tenant.slug)
    plan = _plan(op, "global", role, None, current, target)
    plan.update(affected=affected, keeping=keeping, dropped=dropped, tenants=len(tenants))
    return plan


def _plan(op, kind, role, tenant, current, target) -> dict:
    return {
        "op": op,
        "kind": kind,
        "role": resolve.role_snapshot(role),
        "tenant": resolve.tenant_snapshot(tenant),
        "current": current,
        "target": target,
        "granted": target - current,
        "revoked": current - target,
    }


# -- words -------------------------------------------------------------------------------------


def _scope(plan) -> str:
    return "all-tenants" if plan["kind"] == "global" else f"tenant:{plan['tenant'].slug}"


def _describe(plan) -> str | None:
    """The plan in words, None when it would change nothing."""
    granted, revoked = plan["granted"], plan["revoked"]
    if not (granted or revoked or plan.get("dropped")):
        return None
    role, kind = plan["role"], plan["kind"]
    what = "built-in role" if role.builtin else "role"
    changes = []
    if granted:
        changes.append("grants " + ", ".join(resolve.ordered(granted)))
    if revoked:
        changes.append("takes away " + ", ".join(resolve.ordered(revoked)))
    head = f"{plan['op']} {what} {role.name!r}"
    if kind == "global":
        lines = [f"{head} for every tenant (the global set): {'; '.join(changes) or 'no change'}"]
        lines.append(f"  affects {_tenants(plan['affected'])} of {plan['tenants']}")
        if plan["dropped"]:
            lines.append(f"  drops the override of {_tenants(plan['dropped'])}")
        if plan["keeping"]:
            lines.append(f"  {', '.join(plan['keeping'])} keeps its own override")
        return "\n".join(lines)
    where = f"in tenant {plan['tenant'].slug!r}"
    if kind == "tenant":
        where += " only (a tenant override: other tenants keep the global set)"
    return f"{head} {where}: {'; '.join(changes)}"


def _tenants(n: int) -> str:
    return f"{n} tenant" if n == 1 else f"{n} tenants"


def _record(plan, dry_run) -> dict:
    role, tenant = plan["role"], plan["tenant"]
    record = resolve.role_record(role, plan["target"], tenant.slug if tenant else None)
    record["scope"] = _scope(plan)
    record["granted"] = resolve.ordered(plan["granted"])
    record["revoked"] = resolve.ordered(plan["revoked"])
    if plan["kind"] == "tenant":
        record["override"] = resolve.override_record(plan["base"], plan["target"])
    if plan["kind"] == "global":
        record["tenants"] = plan["affected"]
        record["overrides_dropped"] = plan["dropped"]
    changed = bool(plan["granted"] or plan["revoked"] or plan.get("dropped"))
    if not changed:
        record["result"] = "unchanged"
    else:
        record["result"] = "would change" if dry_run else "changed"
    return record
