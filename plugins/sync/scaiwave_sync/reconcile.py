"""The full reconcile: list ScaiKey, plan every change, check the safety valves, then apply.

1. Collect: ScaiKey's tenants and admin roles, then per tenant its users, groups and group
   members. Any listing that fails or is inconsistent ends the run here: nothing is written.
2. Plan (``plan_tenant``, pure): participants to create / update / reactivate / deactivate
   (never delete), mirrored groups and memberships, admin-role grants and revocations.
3. Valves: an empty user listing for a tenant with participants (exit 2 unless
   ``--allow-empty``); more deactivations than the threshold (exit 1 unless
   ``--allow-mass-deactivation``); a tenant never loses its last ``tenant_admin`` (that
   deactivation or revocation is kept back, with a warning).
4. Apply in batched transactions, each with its audit rows. A second run against an unchanged
   ScaiKey plans nothing and writes nothing to the mirrored tables.

Runs are serialised by a database lock shared with the ARQ cron and recorded in ``sync_runs``.
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass, field

from scaiwave_cli import api
from scaiwave_sync.adapters import db
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.config import SyncConfig

TENANT_ADMIN = "tenant_admin"
MAPPED_ROLES = tuple(sorted(set(sk.ADMIN_ROLE_MAP.values())))
COUNT_KEYS = (
    "users_seen",
    "create",
    "update",
    "reactivate",
    "deactivate",
    "kept_last_admin",
    "groups_create",
    "groups_update",
    "groups_deactivate",
    "members_add",
    "members_remove",
    "roles_grant",
    "roles_revoke",
)
CHANGE_KEYS = tuple(k for k in COUNT_KEYS if k not in ("users_seen", "kept_last_admin"))


@dataclass
class Options:
    tenant: str | None = None
    dry_run: bool = False
    allow_mass_deactivation: bool = False
    allow_empty: bool = False
    create_tenants: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    trigger: str = "cli"


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
    new_id = new_id or (lambda: api.store.new_id("prt"))
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
        pid_of[user.id] = local.id
        active_after[local.id] = local.active
        fields = [
            f
            for f, old, new in (
                ("display_name", local.display_name, name),
                ("email", local.email, email),
            )
            if old != new
        ]
        row = {
            "id": local.id,
            "scaikey_user_id": user.id,
            "display_name": name,
            "email": email,
            "fields": fields,
        }
        if user.active and not local.active:
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
        if sk_id not in seen and local.active:
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


# -- collecting --------------------------------------------------------------------------------


@dataclass
class Collected:
    plans: list[TenantPlan]
    scaikey_tenants: int
    warnings: list[str]
    scaikey_users_active: int = 0
    scaikey_groups: int = 0
    unlinked: int = 0  # ScaiKey tenants no local tenant is linked to


def collect(client: sk.ScaiKeyClient, store, actor, options: Options, *, now, warn) -> Collected:
    """List ScaiKey and the store, and plan every tenant in scope (no writes)."""
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        warn(message)

    sk_tenants = client.list_tenants()
    by_id = {t.id: t for t in sk_tenants}
    with store.session() as s:
        local = db.tenants(s)
        targets = _targets(s, local, sk_tenants, actor, options, note)
    try:
        roles = client.list_admin_roles()
    except api.PermissionDenied as exc:
        note(f"admin roles not mirrored: {exc.format_message()}")
        roles = None
    roles_by_user: dict[str, list[sk.AdminRole]] = {}
    for r in roles or ():
        roles_by_user.setdefault(r.user_id, []).append(r)

    result = Collected([], len(sk_tenants), warnings)
    linked_ids = {t.scaikey_tenant_id for t in local if t.scaikey_tenant_id}
    result.unlinked = sum(1 for t in sk_tenants if t.id not in linked_ids)
    for tenant in targets:
        if tenant.scaikey_tenant_id not in by_id:
            note(
                f"tenant {tenant.slug!r} is linked to ScaiKey tenant {tenant.scaikey_tenant_id} "
                "which ScaiKey does not list: skipped (nothing deactivated)"
            )
            continue
        users = client.list_users(tenant.scaikey_tenant_id)
        groups = client.list_groups(tenant.scaikey_tenant_id)
        members = {g.id: client.list_group_members(g.id) for g in groups}
        tenant_roles = None
        if roles is not None:
            tenant_roles = [r for u in users for r in roles_by_user.get(u.id, ())]
        with store.session() as s:
            state = (
                db.TenantState({}, {}, set(), [])
                if tenant.new
                else db.tenant_state(s, tenant.id, MAPPED_ROLES)
            )
        plan = plan_tenant(tenant, state, users, groups, members, tenant_roles, now=now)
        if plan.members_unknown:
            note(
                f"tenant {tenant.slug!r}: {plan.members_unknown} group member(s) are not users "
                "of this tenant in ScaiKey: ignored"
            )
        result.plans.append(plan)
        result.scaikey_users_active += sum(1 for u in users if u.active)
        result.scaikey_groups += len(groups)
    return result


def _targets(session, local, sk_tenants, actor, options: Options, note) -> list[db.TenantRow]:
    linked = [t for t in local if t.scaikey_tenant_id]
    wanted = options.tenant
    new: list[db.TenantRow] = []
    if options.create_tenants:
        actor.require_platform("create tenants from ScaiKey")
        known_links = {t.scaikey_tenant_id for t in linked}
        slugs = {t.slug for t in local}
        for skt in sk_tenants:
            if skt.id in known_links or (wanted and wanted not in (skt.slug, skt.id)):
                continue
            if skt.slug in slugs:
                note(
                    f"ScaiKey tenant {skt.id} ({skt.slug}) not created: a local tenant "
                    f"{skt.slug!r} exists and is not linked to it"
                )
                continue
            try:
                api.store.validate_slug(skt.slug)
            except api.DomainError as exc:
                note(f"ScaiKey tenant {skt.id} not created: {exc.format_message()}")
                continue
            partner = db.partner_by_scaikey_id(session, skt.partner_id)
            new.append(
                db.TenantRow(
                    id=api.store.new_id("tnt"),
                    slug=skt.slug,
                    name=skt.name[:200],
                    scaikey_tenant_id=skt.id,
                    partner_id=partner.id if partner else None,
                    partner=partner,
                    new=True,
                )
            )
    if wanted:
        chosen = [t for t in linked if wanted in (t.slug, t.scaikey_tenant_id)] + new
        if not chosen:
            unlinked = any(t.slug == wanted for t in local)
            raise api.NotFoundError(
                f"tenant {wanted!r} is not linked to ScaiKey"
                if unlinked
                else f"tenant {wanted!r} not found",
                code="SW_TENANT_NOT_FOUND",
                hint="link it with `scaiwave admin create-tenant --scaikey-tenant-id`, or pass "
                "--create-tenants to create it from ScaiKey",
            )
        for t in chosen:
            actor.require_tenant(t)
        return chosen
    return [t for t in linked if actor.can_see_tenant(t)] + new


# -- the valves ----------------------------------------------------------------------------------


def deactivation_limit(cfg: SyncConfig, participants: int) -> int:
    """Most deactivations allowed in one tenant: the smaller of the absolute cap and the share
    (rounded up, so a small tenant may always lose one)."""
    share = math.ceil(participants * cfg.max_deactivate_percent / 100)
    return min(cfg.max_deactivate, share)


def check_valves(plans: list[TenantPlan], cfg: SyncConfig, options: Options) -> None:
    empty = [
        p for p in plans if p.users_seen == 0 and p.local_active > 0 and not options.allow_empty
    ]
    if empty:
        names = ", ".join(f"{p.tenant.slug} ({p.local_active} participants)" for p in empty)
        raise api.ConfigError(
            f"ScaiKey listed no users for {names}: refusing to deactivate everyone",
            code="SW_SYNC_EMPTY_LISTING",
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
            code="SW_SYNC_MASS_DEACTIVATION",
            hint="check ScaiKey; if intended, run with --allow-mass-deactivation "
            "(limits: SCAIWAVE_SYNC_MAX_DEACTIVATE, SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT)",
            details={"tenants": {p.tenant.slug: len(p.deactivate) for p, _ in mass}},
        )


# -- applying ------------------------------------------------------------------------------------


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def apply_plan(store, plan: TenantPlan, actor, cfg: SyncConfig, *, now) -> None:
    """Write one tenant's plan in transactions of at most ``cfg.batch_size`` changes, each with
    its audit rows."""
    t = plan.tenant
    size = cfg.batch_size
    audit = api.audit.record
    target = f"tenant:{t.slug}"
    if t.new:
        with store.transaction() as s:
            db.insert_tenant(s, t, now)
            audit(
                s,
                actor,
                "tenant.create",
                target,
                tenant_id=t.id,
                details={"scaikey_tenant_id": t.scaikey_tenant_id, "source": "scaikey-sync"},
            )
    for chunk in _chunks(plan.create, size):
        with store.transaction() as s:
            db.insert_participants(s, t.id, chunk, now)
            audit(
                s,
                actor,
                "sync.participants.create",
                target,
                tenant_id=t.id,
                details={"count": len(chunk), "ids": [r["id"] for r in chunk]},
            )
    for chunk in _chunks(plan.update, size):
        with store.transaction() as s:
            db.update_participants(s, chunk, now)
            audit(
                s,
                actor,
                "sync.participants.update",
                target,
                tenant_id=t.id,
                details={"count": len(chunk), "changes": {r["id"]: r["fields"] for r in chunk}},
            )
    for chunk in _chunks(plan.reactivate, size):
        with store.transaction() as s:
            db.update_participants(s, chunk, now, active=True)
            for r in chunk:
                audit(
                    s,
                    actor,
                    "participant.reactivate",
                    f"participant:{r['id']}",
                    tenant_id=t.id,
                    details={"scaikey_user_id": r["scaikey_user_id"], "source": "scaikey-sync"},
                )
    if plan.groups_create or plan.groups_update or plan.groups_deactivate:
        with store.transaction() as s:
            db.insert_groups(s, t.id, plan.groups_create, now)
            db.update_groups(s, plan.groups_update + plan.groups_deactivate, now)
            audit(
                s,
                actor,
                "sync.groups",
                target,
                tenant_id=t.id,
                details={
                    "created": [g["scaikey_group_id"] for g in plan.groups_create],
                    "updated": [g["scaikey_group_id"] for g in plan.groups_update],
                    "deactivated": [g["scaikey_group_id"] for g in plan.groups_deactivate],
                },
            )
    if plan.members_add or plan.members_remove:
        with store.session() as s:
            ids = db.group_ids(s, t.id)
        adds = [(ids[g], pid) for g, pid in plan.members_add]
        for chunk in _chunks(adds, size):
            with store.transaction() as s:
                db.insert_members(s, t.id, chunk)
                audit(
                    s,
                    actor,
                    "sync.group_members.add",
                    target,
                    tenant_id=t.id,
                    details={"count": len(chunk)},
                )
        for chunk in _chunks(plan.members_remove, size):
            with store.transaction() as s:
                db.delete_members(s, chunk)
                audit(
                    s,
                    actor,
                    "sync.group_members.remove",
                    target,
                    tenant_id=t.id,
                    details={"count": len(chunk)},
                )
    if plan.roles_grant or plan.roles_revoke:
        with store.transaction() as s:
            role_ids = db.builtin_role_ids(s)
            db.grant_roles(s, t.id, [(pid, role_ids[role]) for pid, role in plan.roles_grant], now)
            db.revoke_roles(s, [a.id for a in plan.roles_revoke])
            for pid, role in plan.roles_grant:
                audit(
                    s,
                    actor,
                    "role.assign",
                    f"participant:{pid}",
                    tenant_id=t.id,
                    details={"role": role, "scope": "tenant", "source": "scaikey-sync"},
                )
            for a in plan.roles_revoke:
                audit(
                    s,
                    actor,
                    "role.revoke",
                    f"participant:{a.participant_id}",
                    tenant_id=t.id,
                    details={"role": a.role, "scope": "tenant", "source": "scaikey-sync"},
                )
    for chunk in _chunks(plan.deactivate, size):
        with store.transaction() as s:
            db.deactivate_participants(s, [r["id"] for r in chunk], now)
            for r in chunk:
                audit(
                    s,
                    actor,
                    "participant.deactivate",
                    f"participant:{r['id']}",
                    tenant_id=t.id,
                    details={
                        "scaikey_user_id": r["scaikey_user_id"],
                        "reason": r["reason"],
                        "source": "scaikey-sync",
                    },
                )


# -- the run ---------------------------------------------------------------------------------------


class WriteCounter:
    """Counts rows written through ``engine`` (INSERT/UPDATE/DELETE, executemany included),
    leaving out the run lock's own bookkeeping."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine = engine
        self.rows = 0
        self.statements = 0
        self._event = event
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip()[:6].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and "sync_locks" not in statement:
            self.statements += 1
            self.rows += len(parameters) if executemany else 1

    def close(self) -> None:
        if self.engine is not None:
            self._event.remove(self.engine, "before_cursor_execute", self._count)
            self.engine = None


def holder_name(trigger: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{trigger}"[:200]


def _lock(store, cfg: SyncConfig, options: Options, holder: str, info) -> None:
    deadline = None
    if options.wait:
        deadline = time.monotonic() + (options.wait_timeout or cfg.lock_ttl)
    delay = 0.2
    while True:
        held = db.acquire_lock(store, holder, cfg.lock_ttl)
        if held is None:
            return
        if deadline is None or time.monotonic() >= deadline:
            raise api.DomainError(
                f"another reconcile is running (held by {held.holder} since "
                f"{held.acquired_at:%Y-%m-%d %H:%M:%S} UTC, stale after "
                f"{held.expires_at:%H:%M:%S} UTC)",
                code="SW_SYNC_LOCKED",
                hint="wait for it, or pass --wait to queue behind it",
                details={"holder": held.holder},
            )
        if delay == 0.2:
            info(f"waiting for the reconcile held by {held.holder} ...")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def run(store, settings, actor, options: Options, *, warn, info, client=None) -> dict:
    """One full reconcile, recorded in ``sync_runs``; returns the run's summary."""
    cfg = SyncConfig.from_settings(settings)
    cfg.require_credentials()
    holder = holder_name(options.trigger)
    if not options.dry_run:
        _lock(store, cfg, options, holder, info)
    started = time.perf_counter()
    own_client = client is None
    client = client or sk.ScaiKeyClient.from_config(cfg)
    run_id = None
    counter = None
    try:
        run_id = db.start_run(store, trigger=options.trigger, dry_run=options.dry_run)
        now = api.store.utcnow()
        collected = collect(client, store, actor, options, now=now, warn=warn)
        plans = collected.plans
        check_valves(plans, cfg, options)
        for plan in plans:
            for pid in plan.kept_last_admin:
                warn(
                    f"tenant {plan.tenant.slug!r}: kept {pid} active with its tenant_admin "
                    "role: a tenant never loses its last admin"
                )
        counter = WriteCounter(store.engine)
        if not options.dry_run:
            for plan in plans:
                if plan.changes:
                    apply_plan(store, plan, actor, cfg, now=now)
                    db.refresh_lock(store, holder, cfg.lock_ttl)
        counter.close()
        summary = _summary(run_id, options, collected, client, counter, started)
        _finish(store, run_id, actor, options, "ok", summary, None)
        return dict(summary, plans=plans)
    except api.ScaiwaveError as exc:
        if run_id is not None:
            _finish(store, run_id, actor, options, "failed", {}, exc.format_message())
        raise
    except Exception as exc:
        if run_id is not None:
            _finish(store, run_id, actor, options, "failed", {}, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if not options.dry_run:
            db.release_lock(store, holder)
        if counter is not None:
            counter.close()
        if own_client:
            client.close()


def _summary(run_id, options, collected: Collected, client, counter, started) -> dict:
    rows = [p.counts() for p in collected.plans]
    totals = {k: sum(r[k] for r in rows) for k in COUNT_KEYS}
    return {
        "run_id": run_id,
        "status": "ok",
        "dry_run": options.dry_run,
        "trigger": options.trigger,
        "tenants": rows,
        "totals": totals,
        "changes": sum(p.changes for p in collected.plans),
        "scaikey_tenants": collected.scaikey_tenants,
        "requests": client.requests,
        "retries": client.retried,
        "writes": 0 if options.dry_run else counter.rows,
        "seconds": round(time.perf_counter() - started, 3),
        "warnings": collected.warnings,
    }


def _finish(store, run_id, actor, options, status, summary, error) -> None:
    counts = {k: v for k, v in summary.items() if k in ("totals", "requests", "writes", "changes")}
    with store.transaction() as s:
        db.finish_run(s, run_id, status=status, counts=counts, error=error)
        if not options.dry_run:
            api.audit.record(
                s,
                actor,
                "sync.run",
                f"sync-run:{run_id}",
                details={"status": status, "trigger": options.trigger, "error": error, **counts},
            )


def drift(store, settings, actor, *, tenant=None, warn) -> dict:
    """What a reconcile would change now, and local vs ScaiKey counts (no writes)."""
    cfg = SyncConfig.from_settings(settings)
    cfg.require_credentials()
    with sk.ScaiKeyClient.from_config(cfg) as client:
        options = Options(tenant=tenant, dry_run=True)
        collected = collect(client, store, actor, options, now=api.store.utcnow(), warn=warn)
    plans = collected.plans
    with store.session() as s:
        local = db.local_counts(s, [p.tenant.id for p in plans if not p.tenant.new])
    totals = {k: sum(p.counts()[k] for p in plans) for k in COUNT_KEYS}
    changes = sum(p.changes for p in plans)
    return {
        "drift": changes > 0,
        "changes": changes,
        "local": {"tenants": sum(1 for p in plans if not p.tenant.new), **local},
        "scaikey": {
            "tenants": collected.scaikey_tenants,
            "tenants_unlinked": collected.unlinked,
            "users": collected.scaikey_users_active,
            "groups": collected.scaikey_groups,
        },
        "would": {k: v for k, v in totals.items() if k in CHANGE_KEYS},
        "warnings": collected.warnings,
    }
