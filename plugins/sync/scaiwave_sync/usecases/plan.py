"""Planning a tenant's reconcile (pure: no I/O) and the safety valves that may refuse a plan.

``plan_tenant`` compares ScaiKey's listings with the tenant's local state: participants to
create / update / reactivate / deactivate (never delete), mirrored groups and memberships,
admin-role grants and revocations. Then: a tenant never loses its last ``tenant_admin`` (that
deactivation or revocation is kept back). What an operator decided wins over ScaiKey: a
participant on ``operator_hold`` (`admin deactivate-participant --force-local`) is never
reactivated (``held``), an erased one (``erased_at``) is never touched at all.
``check_valves`` refuses an empty user listing for a tenant with participants (exit 2 unless
``--allow-empty``) and more deactivations than the threshold (exit 1 unless
``--allow-mass-deactivation``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.usecases.settings import SyncConfig

TENANT_ADMIN = "tenant_admin"
MAPPED_ROLES = tuple(sorted(set(sk.ADMIN_ROLE_MAP.values())))
COUNT_KEYS = (
    "users_seen",
    "create",
    "update",
    "reactivate",
    "deactivate",
    "kept_last_admin",
    "held",
    "groups_create",
    "groups_update",
    "groups_deactivate",
    "members_add",
    "members_remove",
    "roles_grant",
    "roles_revoke",
)
CHANGE_KEYS = tuple(k for k in COUNT_KEYS if k not in ("users_seen", "kept_last_admin", "held"))


@dataclass
class TenantPlan:
    tenant: db.TenantRow
    users_seen: int = 0
    local_active: int = 0
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    reactivate: list[dict] = field(default_factory=list)
    deactivate: list[dict] = field(default_factory=list)
    kept_last_admin: list[str] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)  # active in ScaiKey, kept off by a hold
    groups_create: list[dict] = field(default_factory=list)
    groups_update: list[dict] = field(default_factory=list)
    groups_deactivate: list[dict] = field(default_factory=list)
    members_add: list[tuple[str, str]] = field(default_factory=list)  # (scaikey group, pid)
    members_remove: list[tuple[int, str]] = field(default_factory=list)  # (group id, pid)
    roles_grant: list[tuple[str, str]] = field(default_factory=list)  # (pid, role name)
    roles_revoke: list[db.LocalAssignment] = field(default_factory=list)
    members_unknown: int = 0

    def counts(self) -> dict:
        out = {"tenant": self.tenant.slug, "new_tenant": self.tenant.new}
        for key in COUNT_KEYS:
            value = getattr(self, key)
            out[key] = value if isinstance(value, int) else len(value)
        return out

    @property
    def changes(self) -> int:
        return sum(len(getattr(self, k)) for k in CHANGE_KEYS) + int(self.tenant.new)

    def details(self):
        """One row per planned change (``--details``)."""
        t = self.tenant.slug
        if self.tenant.new:
            yield _change(t, "tenant.create", self.tenant.scaikey_tenant_id, self.tenant.id, "")
        for r in self.create:
            yield _change(t, "create", r["scaikey_user_id"], r["id"], r["display_name"])
        for r in self.update:
            yield _change(t, "update", r["scaikey_user_id"], r["id"], ", ".join(r["fields"]))
        for r in self.reactivate:
            yield _change(t, "reactivate", r["scaikey_user_id"], r["id"], "active in ScaiKey")
        for r in self.deactivate:
            yield _change(t, "deactivate", r["scaikey_user_id"], r["id"], r["reason"])
        for pid in self.kept_last_admin:
            yield _change(t, "keep", None, pid, "last tenant_admin kept")
        for r in self.held:
            yield _change(t, "hold", r["scaikey_user_id"], r["id"], HELD_DETAIL)
        for r in self.groups_create:
            yield _change(t, "group.create", r["scaikey_group_id"], None, r["name"])
        for r in self.groups_update:
            yield _change(t, "group.update", r["scaikey_group_id"], r["id"], r["name"])
        for r in self.groups_deactivate:
            yield _change(t, "group.deactivate", r["scaikey_group_id"], r["id"], r["name"])
        for g, pid in self.members_add:
            yield _change(t, "member.add", g, pid, "")
        for g, pid in self.members_remove:
            yield _change(t, "member.remove", str(g), pid, "")
        for pid, role in self.roles_grant:
            yield _change(t, "role.grant", None, pid, role)
        for a in self.roles_revoke:
            yield _change(t, "role.revoke", None, a.participant_id, a.role)


HELD_DETAIL = "operator hold: kept deactivated"


def _change(tenant, action, scaikey_id, local_id, detail) -> dict:
    return {
        "tenant": tenant,
        "action": action,
        "scaikey_id": scaikey_id,
        "local_id": local_id,
        "detail": detail,
    }


# -- planning (pure) ---------------------------------------------------------------------------


def plan_tenant(
    tenant: db.TenantRow,
    state: db.TenantState,
    users: list[sk.User],
    groups: list[sk.Group],
    members: dict[str, list[sk.Member]],
    roles: list[sk.AdminRole] | None,
    *,
    now,
    new_id=None,
) -> TenantPlan:
    """Every change that makes ``state`` mirror ScaiKey's lists. ``roles`` None: role mapping
    skipped (the listing was not allowed)."""
    new_id = new_id or functools.partial(api.store.new_id, "prt")
    plan = TenantPlan(tenant, users_seen=len(users))
    plan.local_active = sum(1 for p in state.participants.values() if p.active)
    pid_of: dict[str, str] = {}  # scaikey user id -> participant id
    active_after: dict[str, bool] = {}
    for user in users:
        local = state.participants.get(user.id)
        name, email = user.name, user.email
        if local is None:
            if user.active:
                pid = new_id()
                plan.create.append(
                    {"id": pid, "scaikey_user_id": user.id, "display_name": name, "email": email}
                )
                pid_of[user.id] = pid
                active_after[pid] = True
            continue
        if local.erased:  # a tombstone: no update, no status, no role, no group
            continue
        pid_of[user.id] = local.id
        active_after[local.id] = local.active
        fields = []
        if local.display_name != name:
            fields.append("display_name")
        if local.email != email:
            fields.append("email")
        if not fields and user.active == local.active:
            continue  # nothing to do (the usual case of a run after the first)
        row = {
            "id": local.id,
            "scaikey_user_id": user.id,
            "display_name": name,
            "email": email,
            "fields": fields,
        }
        if user.active and not local.active and local.operator_hold:
            plan.held.append(row)  # the operator's deactivation wins over ScaiKey's "active"
            if fields:
                plan.update.append(row)
        elif user.active and not local.active:
            plan.reactivate.append(row)
            active_after[local.id] = True
        elif not user.active and local.active:
            status = user.status if not user.deleted_at else "deleted"
            plan.deactivate.append(dict(row, reason=f"{status.lower()} in ScaiKey"))
            active_after[local.id] = False
            if fields:
                plan.update.append(row)
        elif fields:
            plan.update.append(row)
    seen = {u.id for u in users}
    for sk_id, local in sorted(state.participants.items()):
        if sk_id not in seen and local.active and not local.erased:
            plan.deactivate.append(
                {
                    "id": local.id,
                    "scaikey_user_id": sk_id,
                    "display_name": local.display_name,
                    "email": local.email,
                    "fields": [],
                    "reason": "gone from ScaiKey",
                }
            )
            active_after[local.id] = False

    _plan_groups(plan, state, groups, members, pid_of, seen)
    if roles is not None:
        _plan_roles(plan, state, roles, pid_of, now)
    _keep_last_admin(plan, state, active_after)
    return plan


def _plan_groups(plan, state, groups, members, pid_of, seen_users) -> None:
    listed = {g.id: g for g in groups}
    for g in groups:
        local = state.groups.get(g.id)
        if local is None:
            plan.groups_create.append({"scaikey_group_id": g.id, "name": g.name[:200]})
        elif local.name != g.name[:200] or not local.active:
            plan.groups_update.append(
                {"id": local.id, "scaikey_group_id": g.id, "name": g.name[:200], "active": True}
            )
    for sk_id, local in sorted(state.groups.items()):
        if sk_id not in listed and local.active:
            plan.groups_deactivate.append(
                {"id": local.id, "scaikey_group_id": sk_id, "name": local.name, "active": False}
            )

    # Effective membership: groups nest, so a group's users include its subgroups' users.
    def users_of(gid: str, path: frozenset) -> set[str]:
        out: set[str] = set()
        for member in members.get(gid, ()):
            if member.type == "group":
                if member.id in listed and member.id not in path:
                    out |= users_of(member.id, path | {member.id})
            else:
                out.add(member.id)
        return out

    wanted: set[tuple[str, str]] = set()
    for gid in listed:
        for uid in users_of(gid, frozenset({gid})):
            pid = pid_of.get(uid)
            if pid is None:
                if uid not in seen_users:
                    plan.members_unknown += 1
                continue
            wanted.add((gid, pid))
    sk_of_local = {local.id: sk_id for sk_id, local in state.groups.items()}
    have = {(sk_of_local[g], pid) for g, pid in state.members if g in sk_of_local}
    plan.members_add = sorted(wanted - have)
    plan.members_remove = sorted(
        (g, pid) for g, pid in state.members if (sk_of_local.get(g), pid) not in wanted
    )


def _plan_roles(plan, state, roles, pid_of, now) -> None:
    wanted: set[tuple[str, str]] = set()
    for r in roles:
        role = sk.ADMIN_ROLE_MAP.get(r.role.upper())
        pid = pid_of.get(r.user_id)
        if role is None or pid is None or not r.current(now):
            continue
        if r.role.upper() == "TENANT_ADMIN" and r.tenant_id not in (
            None,
            plan.tenant.scaikey_tenant_id,
        ):
            continue
        wanted.add((pid, role))
    have = {(a.participant_id, a.role) for a in state.assignments}
    plan.roles_grant = sorted(wanted - have)
    plan.roles_revoke = [
        a
        for a in state.assignments
        if a.created_by == db.SYNC_CREATOR and (a.participant_id, a.role) not in wanted
    ]


def _keep_last_admin(plan: TenantPlan, state, active_after: dict[str, bool]) -> None:
    """A tenant that has an active tenant_admin keeps at least one after the run."""
    holders = sorted(
        {
            a.participant_id
            for a in state.assignments
            if a.role == TENANT_ADMIN and a.participant_active
        }
    )
    if not holders:
        return
    revoked = {a.id for a in plan.roles_revoke}
    leaving = {d["id"] for d in plan.deactivate}
    after = {
        a.participant_id
        for a in state.assignments
        if a.role == TENANT_ADMIN
        and a.id not in revoked
        and active_after.get(a.participant_id, a.participant_active)
        and a.participant_id not in leaving
    }
    after |= {pid for pid, role in plan.roles_grant if role == TENANT_ADMIN and pid not in leaving}
    if after:
        return
    keep = holders[0]
    plan.deactivate = [d for d in plan.deactivate if d["id"] != keep]
    plan.roles_revoke = [
        a for a in plan.roles_revoke if not (a.participant_id == keep and a.role == TENANT_ADMIN)
    ]
    plan.kept_last_admin.append(keep)


# -- the valves ----------------------------------------------------------------------------------


def deactivation_limit(cfg: SyncConfig, participants: int) -> int:
    """Most deactivations allowed in one tenant: the smaller of the absolute cap and the share
    (rounded up, so a small tenant may always lose one)."""
    share = math.ceil(participants * cfg.max_deactivate_percent / 100)
    return min(cfg.max_deactivate, share)


def check_valves(plans: list[TenantPlan], cfg: SyncConfig, options) -> None:
    empty = [
        p for p in plans if p.users_seen == 0 and p.local_active > 0 and not options.allow_empty
    ]
    if empty:
        names = ", ".join(f"{p.tenant.slug} ({p.local_active} participants)" for p in empty)
        raise api.ConfigError(
            f"ScaiKey listed no users for {names}: refusing to deactivate everyone",
            code=errors.SW_SYNC_EMPTY_LISTING,
            hint="if the tenant really is empty in ScaiKey, run again with --allow-empty",
            details={"tenants": [p.tenant.slug for p in empty]},
        )
    if options.allow_mass_deactivation:
        return
    mass = [
        (p, deactivation_limit(cfg, p.local_active))
        for p in plans
        if len(p.deactivate) > deactivation_limit(cfg, p.local_active)
    ]
    if mass:
        names = ", ".join(
            f"{p.tenant.slug}: {len(p.deactivate)} of {p.local_active} (limit {limit})"
            for p, limit in mass
        )
        raise api.DomainError(
            f"refusing a mass deactivation ({names}); nothing was changed",
            code=errors.SW_SYNC_MASS_DEACTIVATION,
            hint="check ScaiKey; if intended, run with --allow-mass-deactivation "
            "(limits: SCAIWAVE_SYNC_MAX_DEACTIVATE, SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT)",
            details={"tenants": {p.tenant.slug: len(p.deactivate) for p, _ in mass}},
        )
