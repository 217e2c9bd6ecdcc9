"""Collecting: ScaiKey's tenants and admin roles, then per tenant its users, groups and group
members, and the tenant's local state; each tenant planned (``plan.plan_tenant``). Any listing
that fails or is inconsistent ends the run here: nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from scaiwave_cli import api
from scaiwave_sync.adapters import db
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.usecases import unlinked
from scaiwave_sync.usecases.plan import MAPPED_ROLES, TenantPlan, plan_tenant


@dataclass
class Collected:
    plans: list[TenantPlan]
    scaikey_tenants: int
    warnings: list[str]
    scaikey_users_active: int = 0
    scaikey_groups: int = 0
    # ScaiKey tenants (of the actor's scope) no local tenant is linked to, nor created by this
    # run: each with the command that links it (usecases/unlinked.py)
    unlinked: list[dict] = field(default_factory=list)


def collect(client, store, actor, options, *, now, warn) -> Collected:
    """List ScaiKey and the store, and plan every tenant in scope (no writes)."""
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        warn(message)

    sk_tenants, by_id, targets, unlinked_list, roles = scope(client, store, actor, options, note)
    roles_by_user: dict[str, list[sk.AdminRole]] = {}
    for r in roles or ():
        roles_by_user.setdefault(r.user_id, []).append(r)

    result = Collected([], len(sk_tenants), warnings, unlinked=unlinked_list)
    # progress on a terminal: one step per tenant, the label naming the page being listed
    with api.progress("listing ScaiKey", total=len(targets), unit="tenants") as bar:
        client.on_page = lambda what, page: bar.describe(f"listing ScaiKey: {what}, page {page}")
        try:
            for tenant in targets:
                if tenant.scaikey_tenant_id in by_id:
                    _collect_tenant(client, store, tenant, roles, roles_by_user, result, now, note)
                else:
                    note(not_listed(tenant))
                bar.advance(1)
        finally:
            client.on_page = None
    return result


def not_listed(tenant) -> str:
    return (
        f"tenant {tenant.slug!r} is linked to ScaiKey tenant {tenant.scaikey_tenant_id} which "
        "ScaiKey does not list: skipped (nothing deactivated)"
    )


def scope(client, store, actor, options, note):
    """What a run lists once: ScaiKey's tenants (and by id), the local tenants to sync
    (``targets``), the ScaiKey tenants linked to none (``unlinked``), the admin roles (None:
    not allowed to list them)."""
    sk_tenants = client.list_tenants()
    by_id = {t.id: t for t in sk_tenants}
    with store.session() as s:
        local = db.tenants(s)
        targets = _targets(s, local, sk_tenants, actor, options, note)
        planned = {t.scaikey_tenant_id for t in targets if t.new}
        unlinked_list = unlinked.unlinked_tenants(
            sk_tenants,
            local,
            actor,
            planned=planned,
            partner_of=lambda pid: db.partner_by_scaikey_id(s, pid),
        )
    try:
        roles = client.list_admin_roles()
    except api.PermissionDenied as exc:
        note(f"admin roles not mirrored: {exc.format_message()}")
        roles = None
    return sk_tenants, by_id, targets, unlinked_list, roles


def _collect_tenant(client, store, tenant, roles, roles_by_user, result, now, note) -> None:
    """List one tenant's users, groups and members, read its local state, plan it."""
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


def _targets(session, local, sk_tenants, actor, options, note) -> list[db.TenantRow]:
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
                    f"{skt.slug!r} exists and is not linked to it; link it with `scaiwave "
                    f"admin update-tenant {skt.slug} --scaikey-tenant-id {skt.id}`"
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
        chosen = [t for t in linked if wanted in (t.slug, t.id, t.scaikey_tenant_id)] + new
        if not chosen:
            _not_linked(session, wanted, local, sk_tenants, actor)
        for t in chosen:
            actor.require_tenant(t)
        return _not_deleting(chosen, note)
    return _not_deleting([t for t in linked if actor.can_see_tenant(t)], note) + new


def _not_deleting(tenants: list[db.TenantRow], note) -> list[db.TenantRow]:
    """Leave out the tenants `admin delete-tenant` is deleting (status ``deleting``): nothing
    of theirs is listed, created or changed. Suspended tenants are synced as any other."""
    kept = []
    for t in tenants:
        if t.status == "deleting":
            note(f"tenant {t.slug!r} is being deleted (status deleting): skipped")
        else:
            kept.append(t)
    return kept


def _not_linked(session, wanted, local, sk_tenants, actor) -> None:
    """``--tenant`` names no linked tenant: say which side is missing and the command that
    links it (a ScaiKey tenant of the actor's scope), else the core's one "not found"."""
    skt = next((t for t in sk_tenants if wanted in (t.slug, t.id)), None)
    if skt is not None and unlinked.visible(actor, skt):
        same = next((t for t in local if t.slug == skt.slug and not t.scaikey_tenant_id), None)
        partner = None if same else db.partner_by_scaikey_id(session, skt.partner_id)
        raise api.NotFoundError(
            f"ScaiKey tenant {skt.slug!r} ({skt.id}) is not linked to any ScaiWave tenant",
            code=api.errors.SW_TENANT_NOT_FOUND,
            hint=f"link it: `{unlinked.link_command(skt, same, partner)}`"
            + ("" if same else ", or pass --create-tenants to create it from ScaiKey"),
        )
    tenant = api.find_tenant(session, wanted, actor=actor)  # unknown: the core's not found
    raise api.NotFoundError(
        f"tenant {tenant.slug!r} is not linked to ScaiKey",
        code=api.errors.SW_TENANT_NOT_FOUND,
        hint=f"link it: `scaiwave admin update-tenant {tenant.slug} --scaikey-tenant-id "
        "<ScaiKey tenant id>` (`scaiwave --output json sync status` lists ScaiKey's unlinked "
        "tenants)",
    )
