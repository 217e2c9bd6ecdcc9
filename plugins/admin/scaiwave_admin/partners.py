"""`scaiwave admin` partner commands: list-partners, create-partner.

Partners sit above tenants (Platform -> Partner -> Tenant, as in ScaiKey); managing them is a
platform admin's job (a partner or tenant admin token gets exit 3). Thin: the work is in
``usecases.partners``, imported inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_cli import api

COLUMNS = ["slug", "name", "scaikey_partner_id", "tenants", "id", "created_at"]


@click.command("list-partners")
@api.pass_app
def list_partners(app):
    """List partners with their number of tenants (platform admins only).

    Example: scaiwave --output csv admin list-partners
    """
    from scaiwave_admin.usecases import partners

    actor = app.actor
    actor.require_platform("list partners")
    with partners.listing(app.store, actor) as rows:
        app.out.rows(rows, COLUMNS)


@click.command("create-partner")
@options.new_slug_option()
@options.display_name_option()
@click.option("--scaikey-partner-id", help="The same partner's id in ScaiKey (prt_…); unique. "
              "partner_admin tokens name their partner by it (else by the slug).")  # fmt: skip
@api.pass_app
def create_partner(app, slug, name, scaikey_partner_id):
    """Create a partner (platform admins only; the same values again report "unchanged").

    Example: scaiwave admin create-partner --slug north --name North --scaikey-partner-id prt_n
    """
    from scaiwave_admin.usecases import partners

    new = partners.check_new(slug, name, scaikey_partner_id)
    actor = app.actor
    actor.require_platform("create partners")
    record = partners.create(app.store, new, actor)
    if record["result"] == "unchanged":
        app.out.info(f"partner {slug!r} already exists with these values: unchanged")
    app.out.record(record)


COMMANDS = [list_partners, create_partner]
