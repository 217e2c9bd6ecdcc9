"""`scaiwave admin` partner commands: list-partners, create-partner.

Partners sit above tenants (Platform -> Partner -> Tenant, as in ScaiKey). Managing them is a
platform admin's job: a partner or tenant admin token gets exit 3. ``create-partner`` is
idempotent like ``create-tenant`` (same values: "unchanged", exit 0; different: exit 1 naming
the fields) and audited in the same transaction.

SQLAlchemy and the adapter are imported inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_cli import api

COLUMNS = ["slug", "name", "scaikey_partner_id", "tenants", "id", "created_at"]


@click.command("list-partners")
@api.pass_app
def list_partners(app):
    """List partners with their number of tenants (platform admins only).

    Example: scaiwave --output csv admin list-partners
    """
    from scaiwave_admin.adapters import db

    app.actor.require_platform("list partners")
    with app.store.session() as s:
        app.out.rows(db.partner_overview(s), COLUMNS)


@click.command("create-partner")
@click.option("--slug", required=True, help="Unique slug (3-63: a-z, 0-9, hyphens).")
@click.option("--name", required=True, help="Display name.")
@click.option("--scaikey-partner-id", help="The same partner's id in ScaiKey (prt_…); unique. "
              "partner_admin tokens name their partner by it (else by the slug).")  # fmt: skip
@api.pass_app
def create_partner(app, slug, name, scaikey_partner_id):
    """Create a partner (platform admins only; the same values again report "unchanged").

    Example: scaiwave admin create-partner --slug north --name North --scaikey-partner-id prt_n
    """
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from scaiwave_admin.adapters import db

    api.store.validate_slug(slug, what="partner slug")
    name = name.strip()
    if not name or len(name) > 200:
        raise api.DomainError("--name must be 1-200 characters", code="SW_PARTNER_INVALID")
    scaikey_partner_id = (scaikey_partner_id or "").strip() or None
    if scaikey_partner_id is not None and len(scaikey_partner_id) > 128:
        raise api.DomainError(
            "--scaikey-partner-id must be at most 128 characters", code="SW_PARTNER_INVALID"
        )
    actor = app.actor
    actor.require_platform("create partners")
    store = app.store
    P = api.store.models.Partner

    def attempt():
        with store.transaction() as s:
            existing = s.scalar(select(P).where(P.slug == slug))
            wanted = {"name": name, "scaikey_partner_id": scaikey_partner_id}
            if existing is not None:
                have = {"name": existing.name, "scaikey_partner_id": existing.scaikey_partner_id}
                conflicts = {
                    k: {"existing": have[k], "requested": wanted[k]}
                    for k in wanted
                    if have[k] != wanted[k]
                }
                if conflicts:
                    raise api.DomainError(
                        f"partner {slug!r} already exists with a different "
                        + ", ".join(f"{k} ({have[k]!r}, not {wanted[k]!r})" for k in conflicts),
                        code="SW_PARTNER_CONFLICT",
                        hint="choose another slug",
                        details={"conflicts": conflicts},
                    )
                return {"result": "unchanged", **db.partner_record(existing)}
            if scaikey_partner_id is not None:
                other = s.scalar(select(P).where(P.scaikey_partner_id == scaikey_partner_id))
                if other is not None:
                    raise api.DomainError(
                        f"scaikey_partner_id {scaikey_partner_id!r} already belongs to partner "
                        f"{other.slug!r}",
                        code="SW_PARTNER_CONFLICT",
                        hint="each ScaiKey partner maps to one ScaiWave partner",
                        details={"conflicts": ["scaikey_partner_id"]},
                    )
            partner = P(
                id=api.store.new_id("ptn"),
                slug=slug,
                name=name,
                scaikey_partner_id=scaikey_partner_id,
                created_at=api.store.utcnow(),
            )
            s.add(partner)
            s.flush()
            api.audit.record(
                s,
                actor,
                "partner.create",
                f"partner:{slug}",
                details={"before": None, "after": {"slug": slug, **wanted}},
            )
            return {"result": "created", **db.partner_record(partner)}

    try:
        record = attempt()
    except IntegrityError:  # created concurrently: answer from what is there now
        try:
            record = attempt()
        except IntegrityError as exc:
            raise api.DomainError(
                f"partner {slug!r} could not be created: {exc.orig}",
                code="SW_PARTNER_CONFLICT",
            ) from None
    if record["result"] == "unchanged":
        app.out.info(f"partner {slug!r} already exists with these values: unchanged")
    app.out.record(record)


COMMANDS = [list_partners, create_partner]
