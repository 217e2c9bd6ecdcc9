"""The `scaiwave sync` group. Imports only click, the core's light API and the plugin's light
command modules; every command imports its heavy modules (httpx, SQLAlchemy, the adapters) when
it runs.

``register``, ``status``, ``show_config`` and ``export_env`` are module-level names so the
``scaiwave.aliases`` entry points (``scaiwave register`` ...) load the very same Click objects.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_sync.commands import config_cmd, register_cmd, status_cmd

REQUIRES_API = "1.0"


@click.group(name="sync", invoke_without_command=True)
@click.option(
    "--tenant", metavar="SLUG", help="Only this tenant (local slug, ScaiKey slug or tnt_ id)."
)
@click.option("--dry-run", is_flag=True, help="Plan and print the changes; write nothing.")
@click.option("--details", is_flag=True, help="Print one row per change instead of counts.")
@click.option(
    "--allow-mass-deactivation",
    is_flag=True,
    help="Apply even when more participants would be deactivated than the limit.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Accept an empty user listing for a tenant that has participants.",
)
@click.option(
    "--create-tenants",
    is_flag=True,
    help="Also create local tenants for ScaiKey tenants not linked yet (platform admins).",
)
@click.option("--wait", is_flag=True, help="Wait for a running reconcile instead of failing.")
@click.option(
    "--wait-timeout",
    type=float,
    metavar="SECONDS",
    help="Give up waiting after this long [default: the lock's stale timeout].",
)
@api.pass_app
@click.pass_context
def sync(ctx, app, **options):
    """ScaiKey identity sync: register, status, full reconcile.

    With no sub-command: the full reconcile of every tenant linked to ScaiKey. New users become
    participants (with a personal workspace), changed names and e-mails are updated, users gone
    or disabled in ScaiKey are deactivated (never deleted), returning ones reactivated, groups
    and admin roles mirrored. Idempotent: a second run with nothing changed writes nothing.

    Safety: nothing is changed when a listing fails; more than 10% (or 500) deactivations in a
    tenant, or an empty listing for a tenant with participants, are refused unless allowed;
    a tenant never loses its last tenant_admin.

    Example: scaiwave sync --dry-run --details
    """
    if ctx.invoked_subcommand is not None:
        return
    from scaiwave_sync.commands.reconcile_cmd import reconcile_from_cli

    reconcile_from_cli(app, **options)


register = register_cmd.register
status = status_cmd.status
show_config = config_cmd.show_config
export_env = config_cmd.export_env

for _command in (register, status, show_config, export_env):
    sync.add_command(_command)
