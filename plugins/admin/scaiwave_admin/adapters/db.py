"""The admin plugin's SQL for tenants, partners, federation keys and the audit log.

Works on SQLite and MariaDB through SQLAlchemy (imported here at module level: this module is
loaded only inside command functions). No function commits: the commands own the transactions,
so the audit row of a change is written in the same one.

Statement budget: ``tenant_overview`` answers ``list-tenants`` (and ``show-tenant``'s usage)
with ONE ``SELECT`` whatever the number of tenants: each figure comes from an aggregate
subquery grouped by ``tenant_id`` and joined to ``tenants`` (no per-tenant statement).

Scope: ``scope_filter`` turns the acting admin (``access.Actor``) into a WHERE clause, so a
partner or tenant admin never even reads the rows of other tenants; single tenants are checked
with ``Actor.require_tenant`` on the ORM row (``Tenant.partner`` is loaded with it).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import delete, func, or_, select, update

from scaiwave_admin import errors
from scaiwave_cli import api

m = api.store.models

PRIVATE_COLUMNS = ("private_key",)  # never selected by a listing


# -- partners ---------------------------------------------------------------------------------


def find_partner(session, ref: str, *, required: bool = True, suggest: bool = False):
    """A partner by id, slug or ScaiKey partner id (``SW_PARTNER_NOT_FOUND``, exit 1; with
    ``suggest`` (platform actors only: partners are theirs) "did you mean" the closest slugs)."""
    P = m.Partner
    partner = session.scalars(
        select(P).where(or_(P.id == ref, P.slug == ref, P.scaikey_partner_id == ref)).limit(1)
    ).first()
    if partner is None and required:
        near = close_matches(ref, session.scalars(select(P.slug)).all()) if suggest else []
        raise api.NotFoundError(
            f"partner {ref!r} not found" + did_you_mean(near),
            code=errors.SW_PARTNER_NOT_FOUND,
            hint="list partners with: scaiwave admin list-partners "
            "(or create it: scaiwave admin create-partner)",
        )
    return partner


def close_matches(ref: str, names, *, cutoff: float = 0.6) -> list[str]:
    """The names closest to a mistyped ``ref`` (at most 3)."""
    import difflib

    return difflib.get_close_matches(ref, list(names), n=3, cutoff=cutoff)


def did_you_mean(near: list[str]) -> str:
    return f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""


def partner_key(partner) -> str | None:
    """The id a ``partner_admin`` token names this partner by: its ScaiKey partner id only
    (``api.access.partner_key``; never a slug that happens to equal a token's ``partner_id``)."""
    return api.access.partner_key(partner)


def partner_overview(session):
    """Every partner with its tenant count: one statement."""
    P, T = m.Partner, m.Tenant
    counts = (
        select(T.partner_id, func.count().label("n"))
        .where(T.partner_id.is_not(None))
        .group_by(T.partner_id)
        .subquery()
    )
    stmt = (
        select(
            P.id,
            P.slug,
            P.name,
            P.scaikey_partner_id,
            P.created_at,
            func.coalesce(counts.c.n, 0).label("tenants"),
        )
        .outerjoin(counts, counts.c.partner_id == P.id)
        .order_by(P.slug)
    )
    for row in session.execute(stmt):
        yield {
            "id": row.id,
            "slug": row.slug,
            "name": row.name,
            "scaikey_partner_id": row.scaikey_partner_id,
            "tenants": int(row.tenants),
            "created_at": row.created_at,
        }


def partner_by_slug(session, slug: str):
    return session.scalar(select(m.Partner).where(m.Partner.slug == slug))


def partner_by_scaikey_id(session, scaikey_partner_id: str):
    P = m.Partner
    return session.scalar(select(P).where(P.scaikey_partner_id == scaikey_partner_id))


def add_partner(session, slug: str, name: str, scaikey_partner_id: str | None):
    """Insert a partner and flush (a slug taken meanwhile raises ``IntegrityError`` here)."""
    partner = m.Partner(
        id=api.store.new_id("ptn"),
        slug=slug,
        name=name,
        scaikey_partner_id=scaikey_partner_id,
        created_at=api.store.utcnow(),
    )
    session.add(partner)
    session.flush()
    return partner


def partner_record(partner, *, tenants: int | None = None) -> dict:
    out = {
        "id": partner.id,
        "slug": partner.slug,
        "name": partner.name,
        "scaikey_partner_id": partner.scaikey_partner_id,
        "created_at": partner.created_at,
    }
    if tenants is not None:
        out["tenants"] = tenants
    return out


# -- tenants ----------------------------------------------------------------------------------


def tenant_by_slug(session, slug: str):
    return session.scalar(select(m.Tenant).where(m.Tenant.slug == slug))


def tenant_by_scaikey_id(session, scaikey_tenant_id: str):
    return session.scalar(select(m.Tenant).where(m.Tenant.scaikey_tenant_id == scaikey_tenant_id))


def add_tenant(session, slug: str, name: str, scaikey_tenant_id: str, partner):
    """Insert an active tenant (no limits, empty features) and flush: a slug or ScaiKey id
    taken meanwhile raises ``IntegrityError`` here."""
    tenant = m.Tenant(
        id=api.store.new_id("tnt"),
        slug=slug,
        name=name,
        scaikey_tenant_id=scaikey_tenant_id,
        partner_id=partner.id if partner is not None else None,
        features={},
        ai_defaults={},
        status="active",
        created_at=api.store.utcnow(),
    )
    session.add(tenant)
    session.flush()
    return tenant


def scope_filter(actor):
    """A WHERE clause limiting ``tenants`` (joined with ``partners``) to what ``actor`` sees,
    or None for a platform admin. Mirrors ``Actor.can_see_tenant``."""
    T, P = m.Tenant, m.Partner
    if actor.scope == api.access.TENANT:
        return T.scaikey_tenant_id == actor.tenant_id
    if actor.scope == api.access.PARTNER:
        return P.scaikey_partner_id == actor.partner_id
    return None


def month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


SORT_COLUMNS = {
    "slug": "slug",
    "name": "name",
    "partner": "partner",
    "members": "members",
    "rooms": "rooms",
    "storage": "storage_bytes",
    "ai-tokens": "ai_tokens_mtd",
    "status": "status",
    "created": "created_at",
}


def tenant_overview_query(
    *,
    today: dt.date,
    actor=None,
    partner_id: str | None = None,
    status: str | None = None,
    tenant_id: str | None = None,
    sort: str = "slug",
    descending: bool = False,
):
    """ONE SELECT: every visible tenant with members (active participants), rooms, storage
    used (bytes of distinct files: the media store keeps a file once per tenant) and AI tokens
    used from the first of ``today``'s month to ``today``.

    Members, rooms and tokens are correlated scalar subqueries (index range counts, evaluated
    only for the tenants the filters keep); storage is a grouped derived table joined on
    tenant_id (deduplicating by sha256 needs a GROUP BY that MariaDB cannot correlate), which
    MariaDB splits per tenant ("lateral derived"). Measured against a GROUP-BY-join-only and a
    UNION ALL form on both engines (bench/admin_bench.py): this one was the fastest."""
    T, P = m.Tenant, m.Partner
    Pt, R, Md, Ai = m.Participant, m.Room, m.Media, m.AiTokenUsage

    members = (
        select(func.count()).where(Pt.tenant_id == T.id, Pt.active == True).scalar_subquery()  # noqa: E712
    )
    rooms = select(func.count()).where(R.tenant_id == T.id).scalar_subquery()
    ai = (
        select(func.coalesce(func.sum(Ai.tokens), 0))
        .where(Ai.tenant_id == T.id, Ai.day >= month_start(today), Ai.day <= today)
        .scalar_subquery()
    )
    files = select(Md.tenant_id, Md.sha256, func.max(Md.size).label("size"))
    if tenant_id is not None:  # show-tenant: one tenant's files only
        files = files.where(Md.tenant_id == tenant_id)
    files = files.group_by(Md.tenant_id, Md.sha256).subquery("files")
    storage = (
        select(files.c.tenant_id, func.sum(files.c.size).label("n"))
        .group_by(files.c.tenant_id)
        .subquery("storage")
    )

    cols = {
        "id": T.id,
        "slug": T.slug,
        "name": T.name,
        "partner": P.slug,
        "partner_id": T.partner_id,
        "scaikey_tenant_id": T.scaikey_tenant_id,
        "members": members,
        "rooms": rooms,
        "storage_bytes": func.coalesce(storage.c.n, 0),
        "ai_tokens_mtd": ai,
        "status": T.status,
        "created_at": T.created_at,
        "partner_scaikey_id": P.scaikey_partner_id,
    }
    labels = {name: col.label(name) for name, col in cols.items()}
    stmt = (
        select(*labels.values())
        .select_from(T)
        .outerjoin(P, P.id == T.partner_id)
        .outerjoin(storage, storage.c.tenant_id == T.id)
    )
    if actor is not None and (clause := scope_filter(actor)) is not None:
        stmt = stmt.where(clause)
    if partner_id is not None:
        stmt = stmt.where(T.partner_id == partner_id)
    if status is not None:
        stmt = stmt.where(T.status == status)
    if tenant_id is not None:
        stmt = stmt.where(T.id == tenant_id)
    key = labels[SORT_COLUMNS[sort]]  # ORDER BY the label: the subquery is not evaluated twice
    order = [key.desc() if descending else key.asc()]
    if sort != "slug":
        order.append(T.slug.asc())
    return stmt.order_by(*order)


def tenant_overview(session, **kwargs):
    """Rows of ``tenant_overview_query`` as dicts (ints, never Decimal). Executed as plain
    Core rows (no ORM result processing) and unpacked as tuples."""
    actor = kwargs.get("actor")
    check = actor is not None and not actor.is_platform
    result = session.connection().execute(tenant_overview_query(**kwargs))
    for (tid, slug, name, partner, partner_id, scaikey_id, members, rooms, storage, ai,
         status, created_at, partner_scaikey_id) in result:  # fmt: skip
        if check:  # the SQL already filtered by scope: belt and braces, with the core's rule
            owner = SimpleNamespace(slug=partner, scaikey_partner_id=partner_scaikey_id)
            view = SimpleNamespace(
                slug=slug, scaikey_tenant_id=scaikey_id, partner=owner if partner_id else None
            )
            if not actor.can_see_tenant(view):
                continue
        yield {
            "id": tid,
            "slug": slug,
            "name": name,
            "partner": partner,
            "scaikey_tenant_id": scaikey_id,
            "members": int(members),
            "rooms": int(rooms),
            "storage_bytes": int(storage),
            "ai_tokens_mtd": int(ai),
            "status": status,
            "created_at": created_at,
        }


def tenant_usage(session, tenant_id: str, today: dt.date) -> dict:
    rows = list(tenant_overview(session, today=today, tenant_id=tenant_id))
    if not rows:
        return {"members": 0, "rooms": 0, "storage_bytes": 0, "ai_tokens_mtd": 0}
    return {k: rows[0][k] for k in ("members", "rooms", "storage_bytes", "ai_tokens_mtd")}


def tenant_limits(tenant) -> dict:
    return {name: getattr(tenant, name) for name in m.LIMIT_NAMES}


def tenant_summary(tenant, partner) -> dict:
    """The fields an audit row's before/after carries for a tenant."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "scaikey_tenant_id": tenant.scaikey_tenant_id,
        "partner": partner.slug if partner is not None else None,
        "status": tenant.status,
    }


# -- federation keys --------------------------------------------------------------------------


def key_columns():
    K = m.FederationKey
    return (
        K.id,
        K.public_key,
        K.encrypted,
        K.active_slot,
        K.created_at,
        K.expires_at,
        K.revoked_at,
    )


def active_key_row(session):
    """The active key's public columns (no private key), or None."""
    K = m.FederationKey
    return session.execute(
        select(*key_columns()).where(K.active_slot == 1, K.revoked_at.is_(None))
    ).first()


def key_row(session, key_id: str):
    K = m.FederationKey
    return session.execute(select(*key_columns()).where(K.id == key_id)).first()


def key_ids(session) -> list[str]:
    return list(session.scalars(select(m.FederationKey.id)))


def key_rows(session):
    K = m.FederationKey
    return list(session.execute(select(*key_columns()).order_by(K.created_at, K.id)))


def key_state(row, now: dt.datetime) -> str:
    """active | previous (published until it expires) | expired | revoked | inactive."""
    if row.revoked_at is not None:
        return "revoked"
    if row.active_slot == 1:
        return "active"
    if row.expires_at is None:
        return "inactive"
    return "previous" if row.expires_at > now else "expired"


def key_record(row, now: dt.datetime) -> dict:
    return {
        "id": row.id,
        "state": key_state(row, now),
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "encrypted": bool(row.encrypted),
        "public_key": row.public_key,
    }


def insert_key(session, values: dict, *, now: dt.datetime) -> None:
    """Insert a new ACTIVE key (``active_slot`` = 1). The unique constraint on ``active_slot``
    makes this fail with IntegrityError when another active key exists, whoever wrote it."""
    session.execute(
        m.FederationKey.__table__.insert().values(
            id=values["id"],
            public_key=values["public_key"],
            private_key=values["private_key"],
            encrypted=values["encrypted"],
            active_slot=1,
            created_at=now,
            expires_at=None,
            revoked_at=None,
        )
    )


def retire_key(session, key_id: str, *, expires_at: dt.datetime) -> int:
    """Take ``key_id`` out of the active slot, published until ``expires_at``. Deliberately NOT
    conditional on it still being active: if another rotation got there first, the INSERT of
    our new key collides with theirs on ``active_slot`` and the whole transaction fails."""
    K = m.FederationKey
    result = session.execute(
        update(K)
        .where(K.id == key_id, K.revoked_at.is_(None))
        .values(active_slot=None, expires_at=expires_at)
    )
    return result.rowcount


def revoke_key(session, key_id: str, *, now: dt.datetime) -> None:
    K = m.FederationKey
    session.execute(update(K).where(K.id == key_id).values(active_slot=None, revoked_at=now))


def expired_keys(session, now: dt.datetime):
    K = m.FederationKey
    return list(
        session.execute(
            select(*key_columns())
            .where(K.active_slot.is_(None), K.expires_at.is_not(None), K.expires_at <= now)
            .order_by(K.created_at, K.id)
        )
    )


def delete_keys(session, key_ids: list[str]) -> int:
    if not key_ids:
        return 0
    K = m.FederationKey
    return session.execute(delete(K).where(K.id.in_(key_ids), K.active_slot.is_(None))).rowcount


# -- audit log --------------------------------------------------------------------------------


def audit_query(
    *,
    actor=None,
    tenant_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    action: str | None = None,
    actor_name: str | None = None,
):
    """The audit rows a streamed ``admin audit`` reads, oldest first. ``action`` ending in
    ``*`` is a prefix (``tenant.*``)."""
    A, T, P = m.AuditEntry, m.Tenant, m.Partner
    stmt = (
        select(
            A.id,
            A.at,
            A.actor,
            A.actor_kind,
            A.action,
            A.target,
            A.tenant_id,
            T.slug.label("tenant"),
            A.details,
        )
        .select_from(A)
        .outerjoin(T, T.id == A.tenant_id)
        .outerjoin(P, P.id == T.partner_id)
    )
    if actor is not None and (clause := scope_filter(actor)) is not None:
        stmt = stmt.where(A.tenant_id.is_not(None), clause)
    if tenant_id is not None:
        stmt = stmt.where(A.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(A.at >= since)
    if until is not None:
        stmt = stmt.where(A.at < until)
    if action:
        if action.endswith("*"):
            prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(A.action.like(prefix + "%", escape="\\"))
        else:
            stmt = stmt.where(A.action == action)
    if actor_name:
        stmt = stmt.where(A.actor == actor_name)
    return stmt.order_by(A.at, A.id)
