"""Tenants: list, create, show, update (the work behind `scaiwave admin *-tenant`).

Every change is written with its audit row (before/after) in one transaction; re-running a
create or an update with the same values changes nothing, writes no audit row and reports
"unchanged". Scope (``actor``): a platform admin sees and changes every tenant; a
``partner_admin`` its partner's tenants; a ``tenant_admin`` its own tenant, where it may change
the name and the features but not the limits, the status or the ScaiKey link; moving a tenant
to another partner is the platform's. Out of scope: exit 3.

An update is planned first (``plan_update``: what would change, read only); the command prints
the plan for ``--dry-run``, asks for a confirmation when the status changes, then ``update``
writes it, refusing when the tenant changed since the plan was made.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import shlex
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from scaiwave_admin import errors, values
from scaiwave_admin.adapters import db
from scaiwave_cli import api


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _zero_usage() -> dict:
    return {"members": 0, "rooms": 0, "storage_bytes": 0, "ai_tokens_mtd": 0}


def record(tenant, partner, usage: dict, *, result: str | None = None) -> dict:
    """What the commands print for one tenant."""
    out = {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "partner": partner.slug if partner is not None else None,
        "scaikey_tenant_id": tenant.scaikey_tenant_id,
        "status": tenant.status,
        "limits": db.tenant_limits(tenant),
        "usage": usage,
        "features": tenant.features or {},
        "ai_defaults": tenant.ai_defaults or {},
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }
    if result:
        out = {"result": result, **out}
    return out


def require_writer(actor, *, what: str) -> None:
    """Limits, status and new tenants are the partner's or the platform's call."""
    if actor.scope == api.access.TENANT:
        raise api.PermissionDenied(
            f"{actor.name} (tenant admin) may not {what}: partner or platform admins only",
            hint="use a partner_admin or super_admin token, or run without a token on the server",
        )


# -- list / show --------------------------------------------------------------------------------


@contextlib.contextmanager
def listing(store, actor, *, partner_ref=None, status=None, sort="slug", descending=False):
    """Yields the visible tenants' overview rows (one SQL statement)."""
    with store.session() as s:
        partner_id = None
        if partner_ref:
            partner = db.find_partner(s, partner_ref, suggest=actor.is_platform)
            if actor.scope == api.access.PARTNER and db.partner_key(partner) != actor.partner_id:
                raise api.PermissionDenied(
                    f"{actor.name} (partner admin) may not list partner {partner.slug!r}'s tenants",
                    hint="drop --partner, or use a token of that partner",
                )
            partner_id = partner.id
        yield db.tenant_overview(
            s,
            today=_today(),
            actor=actor,
            partner_id=partner_id,
            status=status,
            sort=sort,
            descending=descending,
        )


def show(store, actor, ref: str) -> dict:
    with store.session() as s:
        tenant = api.find_tenant(s, ref, actor=actor)
        return record(tenant, tenant.partner, db.tenant_usage(s, tenant.id, _today()))


# -- create -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTenant:
    slug: str
    name: str
    scaikey_tenant_id: str
    partner_ref: str | None = None


def check_new(slug, name, scaikey_tenant_id, partner_ref) -> NewTenant:
    """The create-tenant request, validated before anything is read (or the token checked)."""
    api.store.validate_slug(slug)
    name = name.strip()
    scaikey_tenant_id = scaikey_tenant_id.strip()
    if not name or len(name) > 200:
        raise api.DomainError(
            "--name must be 1-200 characters",
            code=errors.SW_TENANT_INVALID,
            hint="e.g. --name Acme",
        )
    if not scaikey_tenant_id or len(scaikey_tenant_id) > 128:
        raise api.DomainError(
            "--scaikey-tenant-id must be 1-128 characters",
            code=errors.SW_TENANT_INVALID,
            hint="the tenant's id in ScaiKey, e.g. tnt_…",
        )
    return NewTenant(slug, name, scaikey_tenant_id, partner_ref)


def create(store, actor, new: NewTenant) -> dict:
    """The created (or unchanged) tenant's record. A concurrent create of the same slug or
    ScaiKey id: answered again from what is then in the database. The command checks
    ``require_writer`` first (before the store is opened)."""
    try:
        return _create(store, actor, new)
    except IntegrityError:
        try:
            return _create(store, actor, new)
        except IntegrityError as exc:
            raise api.DomainError(
                f"tenant {new.slug!r} could not be created: {api.store.conflict_reason(exc)}",
                code=errors.SW_TENANT_CONFLICT,
                hint="check the slug and scaikey_tenant_id with: scaiwave admin list-tenants",
            ) from None


def _create(store, actor, new: NewTenant) -> dict:
    with store.transaction() as s:
        partner = _partner_for(s, actor, new.partner_ref)
        wanted = {
            "name": new.name,
            "scaikey_tenant_id": new.scaikey_tenant_id,
            "partner": partner.slug if partner is not None else None,
        }
        existing = db.tenant_by_slug(s, new.slug)
        if existing is not None:
            return _existing(s, actor, existing, wanted)
        other = db.tenant_by_scaikey_id(s, new.scaikey_tenant_id)
        if other is not None:
            raise _link_taken(actor, other, new.scaikey_tenant_id)
        tenant = db.add_tenant(s, new.slug, new.name, new.scaikey_tenant_id, partner)
        api.audit.record(
            s,
            actor,
            "tenant.create",
            f"tenant:{new.slug}",
            tenant_id=tenant.id,
            details={"before": None, "after": db.tenant_summary(tenant, partner)},
        )
        return record(tenant, partner, _zero_usage(), result="created")


def _link_taken(actor, other, scaikey_tenant_id: str):
    """``SW_TENANT_CONFLICT``: the ScaiKey tenant id is another tenant's (named if visible)."""
    if not actor.can_see_tenant(other):
        return api.DomainError(
            f"scaikey_tenant_id {scaikey_tenant_id!r} already belongs to another tenant",
            code=errors.SW_TENANT_CONFLICT,
            hint="each ScaiKey tenant maps to one ScaiWave tenant; a platform admin can see "
            "which: scaiwave admin list-tenants",
            details={"conflicts": ["scaikey_tenant_id"]},
        )
    return api.DomainError(
        f"scaikey_tenant_id {scaikey_tenant_id!r} already belongs to tenant {other.slug!r}",
        code=errors.SW_TENANT_CONFLICT,
        hint=f"each ScaiKey tenant maps to one ScaiWave tenant; see it with: scaiwave admin "
        f"show-tenant {other.slug}; to free the id, link that one elsewhere first: scaiwave "
        f"admin update-tenant {other.slug} --scaikey-tenant-id …",
        details={"conflicts": ["scaikey_tenant_id"], "tenant": other.slug},
    )


def _partner_for(session, actor, partner_ref):
    """The partner a new tenant belongs to: ``--partner-id``, else a partner admin's own."""
    partner = (
        db.find_partner(session, partner_ref, suggest=actor.is_platform) if partner_ref else None
    )
    if actor.scope != api.access.PARTNER:
        return partner
    if partner is None:
        partner = db.find_partner(session, actor.partner_id, required=False)
        if partner is None:
            raise api.NotFoundError(
                f"your partner {actor.partner_id!r} has no partner row here",
                code=errors.SW_PARTNER_NOT_FOUND,
                hint="a platform admin creates it: scaiwave admin create-partner",
            )
    if db.partner_key(partner) != actor.partner_id:
        raise api.PermissionDenied(
            f"{actor.name} (partner admin) may not create tenants for partner {partner.slug!r}",
            hint="omit --partner-id to use your own partner",
        )
    return partner


def _existing(session, actor, tenant, wanted: dict) -> dict:
    if not actor.can_see_tenant(tenant):
        raise api.DomainError(
            f"tenant slug {tenant.slug!r} is already taken",
            code=errors.SW_TENANT_CONFLICT,
            hint="choose another slug",
            details={"conflicts": ["slug"]},
        )
    have = {
        "name": tenant.name,
        "scaikey_tenant_id": tenant.scaikey_tenant_id,
        "partner": tenant.partner.slug if tenant.partner is not None else None,
    }
    conflicts = {k: {"existing": have[k], "requested": wanted[k]} for k in wanted
                 if have[k] != wanted[k]}  # fmt: skip
    if conflicts:
        raise api.DomainError(
            f"tenant {tenant.slug!r} already exists with a different "
            + ", ".join(f"{k} ({have[k]!r}, not {wanted[k]!r})" for k in conflicts),
            code=errors.SW_TENANT_CONFLICT,
            hint=_update_hint(tenant.slug, conflicts),
            details={"conflicts": conflicts},
        )
    usage = db.tenant_usage(session, tenant.id, _today())
    return record(tenant, tenant.partner, usage, result="unchanged")


_UPDATE_FLAGS = {"name": "--name", "scaikey_tenant_id": "--scaikey-tenant-id"}


def _update_hint(slug: str, conflicts: dict) -> str:
    """The update-tenant command that gives the tenant the requested values (runs as written)."""
    argv = ["scaiwave", "admin", "update-tenant", slug]
    for key in ("name", "scaikey_tenant_id", "partner"):
        if key not in conflicts:
            continue
        requested = conflicts[key]["requested"]
        if key != "partner":
            argv += [_UPDATE_FLAGS[key], requested]
        else:
            argv += ["--partner", requested] if requested is not None else ["--no-partner"]
    hint = f"change it with: {shlex.join(argv)}, "
    existing = conflicts.get("partner", {}).get("existing")
    if "partner" in conflicts and conflicts["partner"]["requested"] is None and existing:
        hint += f"or keep its partner: add --partner-id {existing} to create-tenant, "
    return hint + "or choose another slug"


# -- update -------------------------------------------------------------------------------------


@dataclass
class Changes:
    """An update-tenant request, parsed: name, limits, feature operations, status."""

    name: str | None = None
    limits: dict = field(default_factory=dict)
    features: list = field(default_factory=list)  # ((parts, value), is_unset)
    status: str | None = None
    scaikey_tenant_id: str | None = None
    partner_ref: str | None = None
    no_partner: bool = False


def check_changes(
    name, limits, features, unset, status, scaikey_tenant_id=None, partner_ref=None,
    no_partner=False,
) -> Changes:  # fmt: skip
    """Parse and check the options before anything is read (or the token checked)."""
    changes = Changes(limits=dict(values.parse_limit(text) for text in limits), status=status)
    changes.partner_ref, changes.no_partner = partner_ref, no_partner
    if scaikey_tenant_id is not None:
        scaikey_tenant_id = scaikey_tenant_id.strip()
        if not scaikey_tenant_id or len(scaikey_tenant_id) > 128:
            raise api.DomainError(
                "--scaikey-tenant-id must be 1-128 characters",
                code=errors.SW_TENANT_INVALID,
                hint="the tenant's id in ScaiKey, e.g. tnt_…",
            )
        changes.scaikey_tenant_id = scaikey_tenant_id
    changes.features = [(values.parse_feature(text), False) for text in features]
    for path in unset:
        parts, _ = values.parse_feature(f"{path}=null")
        changes.features.append(((parts, None), True))
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise api.DomainError("--name must be 1-200 characters", code=errors.SW_TENANT_INVALID)
        changes.name = name
    if not (name is not None or changes.limits or changes.features or status is not None
            or changes.scaikey_tenant_id or partner_ref or no_partner):  # fmt: skip
        raise api.DomainError(
            "nothing to change",
            code=errors.SW_NOTHING_TO_CHANGE,
            hint="give --name, --limit, --feature, --unset-feature, --status, "
            "--scaikey-tenant-id, --partner or --no-partner",
        )
    return changes


@dataclass
class Plan:
    """What an update would change: ``before``/``after`` of the changed fields only."""

    slug: str
    id: str
    before: dict
    after: dict

    @property
    def needs_confirmation(self) -> bool:
        """A status change (suspending locks a tenant out) is confirmed; other edits are not."""
        return "status" in self.after

    def text(self) -> str:
        if not self.after:
            return f"plan: tenant {self.slug!r} already has these values: nothing to change"
        lines = [f"plan: update tenant {self.slug!r} ({self.id}):"]
        lines += [f"  {k}: {self.before[k]!r} -> {self.after[k]!r}" for k in sorted(self.after)]
        return "\n".join(lines)

    def record(self) -> dict:
        return {
            "result": "would update" if self.after else "unchanged",
            "id": self.id,
            "slug": self.slug,
            "changes": {k: {"before": self.before[k], "after": self.after[k]}
                        for k in sorted(self.after)},
        }  # fmt: skip


def plan_update(store, actor, ref: str, changes: Changes) -> Plan:
    """The update's plan, read only: scope, partner and ScaiKey link checked as ``update``
    does, so a plan that passes here only fails there if the tenant changed meanwhile."""
    with store.session() as s:
        tenant = api.find_tenant(s, ref, actor=actor)
        before, after, _ = _checked_diff(s, actor, tenant, changes)
        return Plan(tenant.slug, tenant.id, before, after)


def update(store, actor, ref: str, changes: Changes, *, expect: Plan | None = None) -> dict:
    """The tenant's record with ``result`` (updated/unchanged) and ``changed`` (field names).
    ``expect``: the plan the operator saw; a tenant changed since then is refused."""
    try:
        return _update(store, actor, ref, changes, expect)
    except IntegrityError:  # the ScaiKey id was taken meanwhile: say by whom
        return _update(store, actor, ref, changes, expect)


def _update(store, actor, ref, changes, expect) -> dict:
    with store.transaction() as s:
        tenant = api.find_tenant(s, ref, actor=actor)
        before, after, partner = _checked_diff(s, actor, tenant, changes)
        if expect is not None and (before, after) != (expect.before, expect.after):
            raise api.DomainError(
                f"tenant {tenant.slug!r} changed while the plan was shown; nothing was changed",
                code=errors.SW_TENANT_CONFLICT,
                hint="run the same update-tenant again to see the new plan",
            )
        if after:
            for key, value in after.items():
                if key == "partner":
                    tenant.partner_id = partner.id if partner is not None else None
                else:
                    setattr(tenant, key, value)
            tenant.updated_at = api.store.utcnow()
            s.flush()
            s.refresh(tenant, ["partner"])
            api.audit.record(
                s,
                actor,
                "tenant.update",
                f"tenant:{tenant.slug}",
                tenant_id=tenant.id,
                details={"before": before, "after": after},
            )
        usage = db.tenant_usage(s, tenant.id, _today())
        out = record(tenant, tenant.partner, usage, result="updated" if after else "unchanged")
        out["changed"] = sorted(after)
        return out


def _checked_diff(session, actor, tenant, changes: Changes):
    """``(before, after, new partner)`` after the scope and conflict checks of ``changes``."""
    if changes.limits or changes.status is not None or changes.scaikey_tenant_id:
        require_writer(actor, what="change limits, status or the ScaiKey link")
    if changes.status is not None and tenant.status == "deleting":
        raise api.DomainError(
            f"tenant {tenant.slug!r} is being deleted (an interrupted delete-tenant): its status "
            "does not change any more",
            code=errors.SW_TENANT_DELETING,
            hint=f"finish the deletion with the same command again: scaiwave admin delete-tenant "
            f"{tenant.slug} --no-backup --yes (or --backup-dir with the first run's directory)",
        )
    partner = None
    if changes.partner_ref or changes.no_partner:
        actor.require_platform("move a tenant to another partner")
        if changes.partner_ref:
            partner = db.find_partner(session, changes.partner_ref, suggest=True)
    before, after = _diff(tenant, changes)
    if changes.partner_ref or changes.no_partner:
        have = tenant.partner.slug if tenant.partner is not None else None
        want = partner.slug if partner is not None else None
        if have != want:
            before["partner"], after["partner"] = have, want
    if "scaikey_tenant_id" in after:
        other = db.tenant_by_scaikey_id(session, after["scaikey_tenant_id"])
        if other is not None and other.id != tenant.id:
            raise _link_taken(actor, other, after["scaikey_tenant_id"])
    return before, after, partner


def _diff(tenant, changes: Changes) -> tuple[dict, dict]:
    before, after = {}, {}
    if changes.name is not None and changes.name != tenant.name:
        before["name"], after["name"] = tenant.name, changes.name
    new_link = changes.scaikey_tenant_id
    if new_link is not None and new_link != tenant.scaikey_tenant_id:
        before["scaikey_tenant_id"], after["scaikey_tenant_id"] = tenant.scaikey_tenant_id, new_link
    for key, value in changes.limits.items():
        if getattr(tenant, key) != value:
            before[key], after[key] = getattr(tenant, key), value
    if changes.status is not None and changes.status != tenant.status:
        before["status"], after["status"] = tenant.status, changes.status
    if changes.features:
        current = tenant.features or {}
        updated = copy.deepcopy(current)
        for (parts, value), is_unset in changes.features:
            values.set_feature(updated, parts, value, unset=is_unset)
        if updated != current:
            before["features"], after["features"] = current, updated
    return before, after
