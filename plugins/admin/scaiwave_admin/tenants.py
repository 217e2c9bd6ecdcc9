"""`scaiwave admin` tenant commands: list-tenants, create-tenant, show-tenant, update-tenant.

Thin: parse the options, call ``usecases.tenants`` (imported inside the commands, with the
SQLAlchemy it brings), print. The rules (idempotence, audit, scope) are documented there.
"""

from __future__ import annotations

import click

from scaiwave_admin import options, values
from scaiwave_cli import api

TABLE_COLUMNS = ["slug", "name", "partner", "members", "rooms", "storage", "ai_tokens_mtd",
                 "status"]  # fmt: skip
MACHINE_COLUMNS = ["id", "slug", "name", "partner", "scaikey_tenant_id", "members", "rooms",
                   "storage_bytes", "ai_tokens_mtd", "status", "created_at"]  # fmt: skip


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


@click.command("list-tenants")
@options.partner_option(
    "--partner", "Only this partner's tenants (slug, id or ScaiKey partner id)."
)
@click.option("--status", type=click.Choice(values.LIST_STATUSES),
              help="Only tenants in this status.")  # fmt: skip
@click.option(
    "--sort",
    type=click.Choice(values.SORT_KEYS),
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
    from scaiwave_admin.usecases import tenants

    actor = app.actor
    listing = tenants.listing(
        app.store, actor, partner_ref=partner_ref, status=status, sort=sort, descending=descending
    )
    with listing as rows:
        if app.out.format == "table":
            rows = [dict(row, storage=api.human_bytes(row["storage_bytes"])) for row in rows]
            app.out.rows(rows, TABLE_COLUMNS)
        else:
            app.out.rows(rows, MACHINE_COLUMNS)


@click.command("create-tenant")
@options.new_slug_option()
@options.display_name_option()
@click.option(
    "--scaikey-tenant-id", required=True, help="The same tenant's id in ScaiKey (tnt_…); unique."
)
@options.partner_option(
    "--partner-id", "The managing partner (id, slug or ScaiKey partner id); must exist."
)
@api.pass_app
def create_tenant(app, slug, name, scaikey_tenant_id, partner_ref):
    """Create a tenant (idempotent: the same values again report "unchanged").

    The same slug with different values exits 1 naming the conflicting fields. A partner admin
    creates tenants of its own partner only (the default when --partner-id is omitted).

    Example: scaiwave admin create-tenant --slug acme --name Acme --scaikey-tenant-id tnt_acme
    """
    from scaiwave_admin.usecases import tenants

    new = tenants.check_new(slug, name, scaikey_tenant_id, partner_ref)
    actor = app.actor
    tenants.require_writer(actor, what="create tenants")
    record = tenants.create(app.store, actor, new)
    if record["result"] == "unchanged":
        app.out.info(f"tenant {slug!r} already exists with these values: unchanged")
    _print_record(app, record)


@click.command("show-tenant")
@click.argument("tenant_ref", metavar="SLUG")
@api.pass_app
def show_tenant(app, tenant_ref):
    """Show one tenant: limits and usage, features, AI defaults, partner, status.

    Example: scaiwave --output json admin show-tenant acme
    """
    from scaiwave_admin.usecases import tenants

    actor = app.actor
    _print_record(app, tenants.show(app.store, actor, tenant_ref))


@click.command("update-tenant")
@click.argument("tenant_ref", metavar="SLUG")
@options.display_name_option("New display name.", required=False)
@click.option(
    "--limit",
    "limits",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"Set a limit ({', '.join(values.LIMITS)}); VALUE 'none' removes it. Repeatable.",
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
@click.option(
    "--status",
    type=click.Choice(values.STATUSES),
    help="active or suspended (a change is confirmed: a prompt, or --yes).",
)
@click.option(
    "--scaikey-tenant-id",
    help="Link the tenant to this ScaiKey tenant instead (tnt_…; unique).",
)
@options.partner_option("--partner", "Move the tenant to this partner (id, slug or ScaiKey id).")
@click.option("--no-partner", is_flag=True, help="Detach the tenant from its partner.")
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@api.yes_option
@api.pass_app
def update_tenant(app, tenant_ref, name, limits, features, unset, status, scaikey_tenant_id,
                  partner_ref, no_partner, dry_run, yes):  # fmt: skip
    """Change a tenant's name, limits, feature flags, status, ScaiKey link or partner (audited).

    Idempotent. A status change shows the plan and asks on a terminal; without one it needs
    --yes (exit 2). --dry-run prints the plan and writes nothing.

    Example: scaiwave admin update-tenant acme --limit max_rooms=500 --feature ai.enabled=true
    """
    from scaiwave_admin.usecases import tenants

    if partner_ref and no_partner:
        raise click.UsageError("--partner and --no-partner exclude each other")
    changes = tenants.check_changes(
        name, limits, features, unset, status, scaikey_tenant_id, partner_ref, no_partner
    )
    actor = app.actor
    plan = tenants.plan_update(app.store, actor, tenant_ref, changes)
    if dry_run:
        app.out.info(f"{plan.text()}\ndry run: nothing was changed")
        app.out.record(plan.record())
        return
    if plan.needs_confirmation:
        api.confirm(plan.text(), yes=yes)
    record = tenants.update(app.store, actor, tenant_ref, changes, expect=plan)
    if record["result"] == "unchanged":
        app.out.info(f"tenant {record['slug']!r} already has these values: unchanged")
    _print_record(app, record)


COMMANDS = [list_tenants, create_tenant, show_tenant, update_tenant]
