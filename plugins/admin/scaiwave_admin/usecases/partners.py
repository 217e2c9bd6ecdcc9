"""Partners: list and create (platform admins only; the work behind `admin *-partner`).

``create`` is idempotent like a tenant's (same values: "unchanged"; different: exit 1 naming
the fields) and audited in the same transaction.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from scaiwave_admin import errors
from scaiwave_admin.adapters import db
from scaiwave_cli import api


@contextlib.contextmanager
def listing(store, actor):
    """Yields every partner with its number of tenants (one statement)."""
    actor.require_platform("list partners")
    with store.session() as s:
        yield db.partner_overview(s)


@dataclass(frozen=True)
class NewPartner:
    slug: str
    name: str
    scaikey_partner_id: str | None


def check_new(slug, name, scaikey_partner_id) -> NewPartner:
    """The create-partner request, validated before anything is read (or the token checked)."""
    api.store.validate_slug(slug, what="partner slug")
    name = name.strip()
    if not name or len(name) > 200:
        raise api.DomainError("--name must be 1-200 characters", code=errors.SW_PARTNER_INVALID)
    scaikey_partner_id = (scaikey_partner_id or "").strip() or None
    if scaikey_partner_id is not None and len(scaikey_partner_id) > 128:
        raise api.DomainError(
            "--scaikey-partner-id must be at most 128 characters", code=errors.SW_PARTNER_INVALID
        )
    return NewPartner(slug, name, scaikey_partner_id)


def create(store, new: NewPartner, actor) -> dict:
    """The created (or unchanged) partner's record; a concurrent create of the same slug is
    answered again from what is then in the database."""
    try:
        return _create(store, new, actor)
    except IntegrityError:
        try:
            return _create(store, new, actor)
        except IntegrityError as exc:
            raise api.DomainError(
                f"partner {new.slug!r} could not be created: {api.store.conflict_reason(exc)}",
                code=errors.SW_PARTNER_CONFLICT,
            ) from None


def _create(store, new: NewPartner, actor) -> dict:
    with store.transaction() as s:
        existing = db.partner_by_slug(s, new.slug)
        wanted = {"name": new.name, "scaikey_partner_id": new.scaikey_partner_id}
        if existing is not None:
            have = {"name": existing.name, "scaikey_partner_id": existing.scaikey_partner_id}
            conflicts = {
                k: {"existing": have[k], "requested": wanted[k]}
                for k in wanted
                if have[k] != wanted[k]
            }
            if conflicts:
                raise api.DomainError(
                    f"partner {new.slug!r} already exists with a different "
                    + ", ".join(f"{k} ({have[k]!r}, not {wanted[k]!r})" for k in conflicts),
                    code=errors.SW_PARTNER_CONFLICT,
                    hint="choose another slug",
                    details={"conflicts": conflicts},
                )
            return {"result": "unchanged", **db.partner_record(existing)}
        if new.scaikey_partner_id is not None:
            other = db.partner_by_scaikey_id(s, new.scaikey_partner_id)
            if other is not None:
                raise api.DomainError(
                    f"scaikey_partner_id {new.scaikey_partner_id!r} already belongs to partner "
                    f"{other.slug!r}",
                    code=errors.SW_PARTNER_CONFLICT,
                    hint="each ScaiKey partner maps to one ScaiWave partner",
                    details={"conflicts": ["scaikey_partner_id"]},
                )
        partner = db.add_partner(s, new.slug, new.name, new.scaikey_partner_id)
        api.audit.record(
            s,
            actor,
            "partner.create",
            f"partner:{new.slug}",
            details={"before": None, "after": {"slug": new.slug, **wanted}},
        )
        return {"result": "created", **db.partner_record(partner)}
