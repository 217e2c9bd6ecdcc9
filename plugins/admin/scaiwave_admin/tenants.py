"""`scaiwave admin` tenant commands: list-tenants, create-tenant, show-tenant, update-tenant.

Tenants are ScaiWave's unit of isolation (slug, name, ScaiKey tenant id, optional partner,
limits, a ``features`` JSON of flags, status active|suspended). Every change is written with
its audit row (before/after) in one transaction; re-running a create or an update with the
same values changes nothing, writes no audit row and exits 0 ("unchanged").

Scope (``app.actor``): a platform admin sees and changes every tenant; a ``partner_admin`` its
partner's tenants; a ``tenant_admin`` its own tenant, where it may change the name and the
features but not the limits or the status (those are the partner's or the platform's call).
Out of scope: exit 3, ``SW_AUTH_INSUFFICIENT_PERMISSION``.

SQLAlchemy and the adapter are imported inside the commands.
"""

from __future__ import annotations

import json
import re

import click

from scaiwave_cli import api

SORT_KEYS = ("slug", "name", "partner", "members", "rooms", "storage", "ai-tokens", "status",
             "created")  # fmt: skip
STATUSES = ("active", "suspended")
LIMITS = ("max_participants", "max_rooms", "max_storage_bytes", "monthly_ai_tokens")

TABLE_COLUMNS = ["slug", "name", "partner", "members", "rooms", "storage", "ai_tokens_mtd",
                 "status"]  # fmt: skip
MACHINE_COLUMNS = ["id", "slug", "name", "partner", "scaikey_tenant_id", "members", "rooms",
                   "storage_bytes", "ai_tokens_mtd", "status", "created_at"]  # fmt: skip

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip


def _today():
    import datetime as dt

    return dt.datetime.now(dt.UTC).date()


def _now():
    return api.store.utcnow()


# -- parsing ----------------------------------------------------------------------------------


def parse_limit(text: str) -> tuple[str, int | None]:
    """``NAME=VALUE`` -> (column, int or None). VALUE: a count, ``none``/``unlimited`` (no
    limit), and for max_storage_bytes a size like ``50GiB`` or ``2TB``."""
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in LIMITS:
        raise api.DomainError(
            f"invalid --limit {text!r}: expected NAME=VALUE with NAME one of {', '.join(LIMITS)}",
            code="SW_TENANT_LIMIT_INVALID",
            hint="e.g. --limit max_rooms=500 --limit max_storage_bytes=50GiB",
        )
    value = value.strip()
    if value.lower() in ("none", "unlimited", "null", ""):
        return name, None
    units = _UNITS if name == "max_storage_bytes" else {"": 1}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)", value)
    unit = match.group(2).lower() if match else None
    if not match or unit not in units or ("." in match.group(1) and unit in ("", "b")):
        allowed = "a whole number" + (" or a size like 50GiB" if len(units) > 1 else "")
        raise api.DomainError(
            f"invalid --limit {text!r}: the value must be {allowed}, or 'none' for no limit",
            code="SW_TENANT_LIMIT_INVALID",
            hint="e.g. --limit max_rooms=500 --limit max_storage_bytes=50GiB",
        )
    number = int(float(match.group(1)) * units[unit])
    if number > 2**62:
        raise api.DomainError(
            f"invalid --limit {text!r}: too large", code="SW_TENANT_LIMIT_INVALID"
        )
    return name, number


def parse_feature(text: str) -> tuple[list[str], object]:
    """``PATH=VALUE`` -> (path parts, value). VALUE is JSON when it parses (``true``, ``5``,
    ``{"a": 1}``, ``"5"``), else the text itself."""
    path, sep, raw = text.partition("=")
    parts = path.strip().split(".")
    if not sep or not all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts):
        raise api.DomainError(
            f"invalid --feature {text!r}: expected PATH=VALUE with a dotted PATH",
            code="SW_TENANT_FEATURE_INVALID",
            hint="e.g. --feature prompt_studio.enabled=true "
            "--feature sidekick_limits.max_concurrent=3",
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return parts, value


def set_feature(features: dict, parts: list[str], value, *, unset: bool = False) -> None:
    node = features
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            if unset:
                return
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise api.DomainError(
                f"feature path {'.'.join(parts)!r}: {'.'.join(parts[: i + 1])!r} is "
                f"{json.dumps(child)}, not an object",
                code="SW_TENANT_FEATURE_INVALID",
                hint="set the parent itself, or unset it first with --unset-feature",
            )
        node = child
    if unset:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


# -- records ------------------------------------------------------------------------------------


def _record(tenant, partner, usage: dict, *, result: str | None = None) -> dict:
    from scaiwave_admin.adapters import db

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


def _print_record(app, record: dict) -> None:
    if app.out.format != "table":
        app.out.record(record)
        return
    usage, limits = record["usage"], record["limits"]

    def of(used, limit, fmt=str):
        return f"{fmt(used)} / {'unlimited' if limit is None else fmt(limit)}"

    flat = {k: v for k, v in record.items() if k not in ("limits", "usage")}
    flat.pop("ai_defaults")
    flat.update(
        {
            "members": of(usage["members"], limits["max_participants"]),
            "rooms": of(usage["rooms"], limits["max_rooms"]),
            "storage": of(usage["storage_bytes"], limits["max_storage_bytes"], api.human_bytes),
            "ai_tokens_mtd": of(usage["ai_tokens_mtd"], limits["monthly_ai_tokens"]),
            "features": record["features"],
            "ai_defaults": record["ai_defaults"],
        }
    )
    app.out.record(flat)


def _require_writer(actor, *, what: str) -> None:
    from scaiwave_cli.access import TENANT

    if actor.scope == TENANT:
        raise api.PermissionDenied(
            f"{actor.name} (tenant admin) may not {what}: partner or platform admins only",
            hint="use a partner_admin or super_admin token, or run without a token on the server",
        )


# -- commands -------------------------------------------------------------------------------


@click.command("list-tenants")
@click.option(
    "--partner",
    "partner_ref",
    metavar="PARTNER",
    help="Only this partner's tenants (slug, id or ScaiKey partner id).",
)
@click.option("--status", type=click.Choice(STATUSES), help="Only tenants in this status.")
@click.option(
    "--sort",
    type=click.Choice(SORT_KEYS),
    default="slug",
    show_default=True,
    help="Order of the rows.",
)
@click.option("--desc", "descending", is_flag=True, help="Reverse the order (largest first).")
@api.pass_app
def list_tenants(app, partner_ref, status, sort, descending):
    """List tenants with members, rooms, storage used and AI tokens this month.

    Members are active participants; storage is the bytes of the tenant's distinct files
    (human-readable in a table, bytes in json/csv); AI tokens count from the 1st of the current
    month (UTC). One SQL statement whatever the number of tenants.

    Example: scaiwave --output json admin list-tenants --status active --sort storage --desc
    """
    from scaiwave_admin.adapters import db
    from scaiwave_cli.access import PARTNER

    actor = app.actor
    with app.store.session() as s:
        partner_id = None
        if partner_ref:
            partner = db.find_partner(s, partner_ref)
            if actor.scope == PARTNER and db.partner_key(partner) != actor.partner_id:
                raise api.PermissionDenied(
                    f"{actor.name} (partner admin) may not list partner {partner.slug!r}'s tenants",
                    hint="drop --partner, or use a token of that partner",
                )
            partner_id = partner.id
        rows = db.tenant_overview(
            s,
            today=_today(),
            actor=actor,
            partner_id=partner_id,
            status=status,
            sort=sort,
            descending=descending,
        )
        if app.out.format == "table":
            rows = list(rows)
            for row in rows:
                row["storage"] = api.human_bytes(row["storage_bytes"])
            app.out.rows(rows, TABLE_COLUMNS)
        else:
            app.out.rows(rows, MACHINE_COLUMNS)


@click.command("create-tenant")
@click.option("--slug", required=True, help="Unique slug (3-63: a-z, 0-9, hyphens).")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--scaikey-tenant-id", required=True, help="The same tenant's id in ScaiKey (tnt_…); unique."
)
@click.option(
    "--partner-id",
    "partner_ref",
    metavar="PARTNER",
    help="The managing partner (id, slug or ScaiKey partner id); must exist.",
)
@api.pass_app
def create_tenant(app, slug, name, scaikey_tenant_id, partner_ref):
    """Create a tenant (idempotent: the same values again report "unchanged").

    The same slug with different values exits 1 naming the conflicting fields. A partner admin
    creates tenants of its own partner only (the default when --partner-id is omitted).

    Example: scaiwave admin create-tenant --slug acme --name Acme --scaikey-tenant-id tnt_acme
    """
    from sqlalchemy.exc import IntegrityError

    from scaiwave_admin.adapters import db
    from scaiwave_cli.access import PARTNER

    api.store.validate_slug(slug)
    name = name.strip()
    scaikey_tenant_id = scaikey_tenant_id.strip()
    if not name or len(name) > 200:
        raise api.DomainError(
            "--name must be 1-200 characters", code="SW_TENANT_INVALID", hint="e.g. --name Acme"
        )
    if not scaikey_tenant_id or len(scaikey_tenant_id) > 128:
        raise api.DomainError(
            "--scaikey-tenant-id must be 1-128 characters",
            code="SW_TENANT_INVALID",
            hint="the tenant's id in ScaiKey, e.g. tnt_…",
        )
    actor = app.actor
    _require_writer(actor, what="create tenants")
    store = app.store

    def attempt():
        with store.transaction() as s:
            partner = db.find_partner(s, partner_ref) if partner_ref else None
            if actor.scope == PARTNER:
                if partner is None:
                    partner = db.find_partner(s, actor.partner_id, required=False)
                    if partner is None:
                        raise api.NotFoundError(
                            f"your partner {actor.partner_id!r} has no partner row here",
                            code="SW_PARTNER_NOT_FOUND",
                            hint="a platform admin creates it: scaiwave admin create-partner",
                        )
                if db.partner_key(partner) != actor.partner_id:
                    raise api.PermissionDenied(
                        f"{actor.name} (partner admin) may not create tenants for partner "
                        f"{partner.slug!r}",
                        hint="omit --partner-id to use your own partner",
                    )
            wanted = {
                "name": name,
                "scaikey_tenant_id": scaikey_tenant_id,
                "partner": partner.slug if partner is not None else None,
            }
            existing = db.tenant_by_slug(s, slug)
            if existing is not None:
                return _existing(s, actor, existing, wanted)
            other = db.tenant_by_scaikey_id(s, scaikey_tenant_id)
            if other is not None:
                raise api.DomainError(
                    f"scaikey_tenant_id {scaikey_tenant_id!r} already belongs to another tenant"
                    + (f" ({other.slug!r})" if actor.can_see_tenant(other) else ""),
                    code="SW_TENANT_CONFLICT",
                    hint="each ScaiKey tenant maps to one ScaiWave tenant",
                    details={"conflicts": ["scaikey_tenant_id"]},
                )
            now = _now()
            tenant = api.store.models.Tenant(
                id=api.store.new_id("tnt"),
                slug=slug,
                name=name,
                scaikey_tenant_id=scaikey_tenant_id,
                partner_id=partner.id if partner is not None else None,
                features={},
                ai_defaults={},
                status="active",
                created_at=now,
            )
            s.add(tenant)
            s.flush()
            api.audit.record(
                s,
                actor,
                "tenant.create",
                f"tenant:{slug}",
                tenant_id=tenant.id,
                details={"before": None, "after": db.tenant_summary(tenant, partner)},
            )
            return _record(tenant, partner, _zero_usage(), result="created")

    try:
        record = attempt()
    except IntegrityError:
        # Someone created the same slug or ScaiKey id between our check and our insert:
        # answer again from what is now in the database (unchanged, or the conflict).
        try:
            record = attempt()
        except IntegrityError as exc:
            raise api.DomainError(
                f"tenant {slug!r} could not be created: {exc.orig}",
                code="SW_TENANT_CONFLICT",
                hint="check the slug and scaikey_tenant_id with: scaiwave admin list-tenants",
            ) from None
    if record["result"] == "unchanged":
        app.out.info(f"tenant {slug!r} already exists with these values: unchanged")
    _print_record(app, record)


def _zero_usage() -> dict:
    return {"members": 0, "rooms": 0, "storage_bytes": 0, "ai_tokens_mtd": 0}


def _existing(session, actor, tenant, wanted: dict) -> dict:
    from scaiwave_admin.adapters import db

    if not actor.can_see_tenant(tenant):
        raise api.DomainError(
            f"tenant slug {tenant.slug!r} is already taken",
            code="SW_TENANT_CONFLICT",
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
            code="SW_TENANT_CONFLICT",
            hint=f"change it with: scaiwave admin update-tenant {tenant.slug} …, "
            "or choose another slug",
            details={"conflicts": conflicts},
        )
    usage = db.tenant_usage(session, tenant.id, _today())
    return _record(tenant, tenant.partner, usage, result="unchanged")


@click.command("show-tenant")
@click.argument("tenant_ref", metavar="SLUG")
@api.pass_app
def show_tenant(app, tenant_ref):
    """Show one tenant: limits and usage, features, AI defaults, partner, status.

    Example: scaiwave --output json admin show-tenant acme
    """
    from scaiwave_admin.adapters import db

    actor = app.actor
    with app.store.session() as s:
        tenant, partner = db.find_tenant(s, tenant_ref)
        actor.require_tenant(tenant)
        usage = db.tenant_usage(s, tenant.id, _today())
        record = _record(tenant, partner, usage)
    _print_record(app, record)


@click.command("update-tenant")
@click.argument("tenant_ref", metavar="SLUG")
@click.option("--name", help="New display name.")
@click.option(
    "--limit",
    "limits",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"Set a limit ({', '.join(LIMITS)}); VALUE 'none' removes it. Repeatable.",
)
@click.option(
    "--feature",
    "features",
    multiple=True,
    metavar="PATH=VALUE",
    help="Set a flag in the features JSON by dotted path; VALUE is JSON when it "
    'parses (true, 3, "x"), else text. Repeatable.',
)
@click.option(
    "--unset-feature",
    "unset",
    multiple=True,
    metavar="PATH",
    help="Remove a flag from the features JSON. Repeatable.",
)
@click.option("--status", type=click.Choice(STATUSES), help="active or suspended.")
@api.pass_app
def update_tenant(app, tenant_ref, name, limits, features, unset, status):
    """Change a tenant's name, limits, feature flags or status (audited; idempotent).

    Example: scaiwave admin update-tenant acme --limit max_rooms=500 --feature ai.enabled=true
    """
    import copy

    from scaiwave_admin.adapters import db

    new_limits = dict(parse_limit(text) for text in limits)
    feature_ops = [(parse_feature(text), False) for text in features]
    for path in unset:
        parts, _ = parse_feature(f"{path}=null")
        feature_ops.append(((parts, None), True))
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise api.DomainError("--name must be 1-200 characters", code="SW_TENANT_INVALID")
    if name is None and not new_limits and not feature_ops and status is None:
        raise api.DomainError(
            "nothing to change",
            code="SW_NOTHING_TO_CHANGE",
            hint="give --name, --limit, --feature, --unset-feature or --status",
        )
    actor = app.actor
    with app.store.transaction() as s:
        tenant, partner = db.find_tenant(s, tenant_ref)
        actor.require_tenant(tenant)
        if new_limits or status is not None:
            _require_writer(actor, what="change limits or status")
        before, after = {}, {}
        if name is not None and name != tenant.name:
            before["name"], after["name"] = tenant.name, name
        for key, value in new_limits.items():
            if getattr(tenant, key) != value:
                before[key], after[key] = getattr(tenant, key), value
        if status is not None and status != tenant.status:
            before["status"], after["status"] = tenant.status, status
        if feature_ops:
            current = tenant.features or {}
            updated = copy.deepcopy(current)
            for (parts, value), is_unset in feature_ops:
                set_feature(updated, parts, value, unset=is_unset)
            if updated != current:
                before["features"], after["features"] = current, updated
        if after:
            for key, value in after.items():
                setattr(tenant, key, value)
            tenant.updated_at = _now()
            s.flush()
            api.audit.record(
                s,
                actor,
                "tenant.update",
                f"tenant:{tenant.slug}",
                tenant_id=tenant.id,
                details={"before": before, "after": after},
            )
        usage = db.tenant_usage(s, tenant.id, _today())
        record = _record(tenant, partner, usage, result="updated" if after else "unchanged")
        record["changed"] = sorted(after)
    if not after:
        app.out.info(f"tenant {tenant.slug!r} already has these values: unchanged")
    _print_record(app, record)


COMMANDS = [list_tenants, create_tenant, show_tenant, update_tenant]
