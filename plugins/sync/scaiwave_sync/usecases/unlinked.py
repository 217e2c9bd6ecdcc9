"""ScaiKey tenants that no ScaiWave tenant is linked to: the sync does not see them, so the
operator must. Each is named with the one command that links it:

- a local tenant of the same slug exists, not linked to ScaiKey:
  ``scaiwave admin update-tenant SLUG --scaikey-tenant-id ID``;
- none: ``scaiwave admin create-tenant --slug SLUG --name NAME --scaikey-tenant-id ID``
  (``--partner-id`` when the local partner exists), or ``scaiwave sync --create-tenants`` for
  all of them.

Only the tenants the actor may see are named (a tenant admin's token sees its own tenant only,
a partner admin's the tenants of its partner).
"""

from __future__ import annotations

import shlex
from types import SimpleNamespace

CREATE_ALL = "scaiwave sync --create-tenants"
SHOWN = 20  # names printed on stderr; the json has every one


def link_command(skt, local_same_slug, partner) -> str:
    """The command that links ScaiKey tenant ``skt`` to a ScaiWave tenant."""
    q = shlex.quote
    if local_same_slug is not None:
        slug = q(local_same_slug.slug)
        return f"scaiwave admin update-tenant {slug} --scaikey-tenant-id {q(skt.id)}"
    command = (
        f"scaiwave admin create-tenant --slug {q(skt.slug)} --name {q(skt.name[:200])} "
        f"--scaikey-tenant-id {q(skt.id)}"
    )
    if partner is not None:
        command += f" --partner-id {q(skt.partner_id)}"
    return command


def unlinked_tenants(sk_tenants, local, actor, *, planned=(), partner_of) -> list[dict]:
    """The ScaiKey tenants (of the actor's scope) not linked to any local tenant and not about
    to be created (``planned``: ScaiKey ids of this run's new tenants), each with its link
    command. ``partner_of(scaikey_partner_id)``: the local partner row or None."""
    linked = {t.scaikey_tenant_id for t in local if t.scaikey_tenant_id}
    unlinked_local = {t.slug: t for t in local if not t.scaikey_tenant_id}
    out = []
    for skt in sk_tenants:
        if skt.id in linked or skt.id in planned or not visible(actor, skt):
            continue
        same_slug = unlinked_local.get(skt.slug)
        partner = partner_of(skt.partner_id) if same_slug is None else None
        out.append(
            {
                "scaikey_tenant_id": skt.id,
                "slug": skt.slug,
                "name": skt.name,
                "local_tenant": same_slug.slug if same_slug else None,
                "link": link_command(skt, same_slug, partner),
            }
        )
    return out


def visible(actor, skt) -> bool:
    """May ``actor`` see ScaiKey tenant ``skt`` (as it would the local tenant linked to it)?"""
    partner = SimpleNamespace(scaikey_partner_id=skt.partner_id) if skt.partner_id else None
    return actor.can_see_tenant(SimpleNamespace(scaikey_tenant_id=skt.id, partner=partner))


def message(unlinked: list[dict]) -> str:
    """The lines printed on stderr after a run's summary (and by ``status --fail-on-drift``)."""
    head = (
        f"{len(unlinked)} ScaiKey tenant(s) not linked to any ScaiWave tenant (not synced); "
        f"link each with the command shown, or create them all with `{CREATE_ALL}`:"
    )
    lines = [f"  {t['slug']} ({t['scaikey_tenant_id']}): {t['link']}" for t in unlinked[:SHOWN]]
    if len(unlinked) > SHOWN:
        lines.append(f"  ... and {len(unlinked) - SHOWN} more (--output json lists them all)")
    return "\n".join([head, *lines])
