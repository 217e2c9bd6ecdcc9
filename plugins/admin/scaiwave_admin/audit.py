"""`scaiwave admin audit`: the audit log, filtered and streamed.

Thin: ``--since``/``--until`` are parsed by ``values.parse_when`` (ISO 8601 through
``api.parse_time``, or a duration back from now: ``7d``, ``24h``), the rows come from
``usecases.audit`` (imported inside the command).
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_admin.values import parse_duration, parse_when
from scaiwave_cli import api

__all__ = ["COMMANDS", "parse_duration", "parse_when"]

COLUMNS = ["id", "at", "actor", "actor_kind", "action", "target", "tenant", "details"]


@click.command("audit")
@options.tenant_option("Only this tenant's entries.", required=False, metavar="SLUG")
@click.option("--since", metavar="WHEN", help="From this time: ISO date/time, or 7d, 24h, 30m ago.")
@click.option("--until", metavar="WHEN", help="Before this time (same forms as --since).")
@click.option(
    "--action",
    metavar="ACTION",
    help="Only this action (tenant.update), or a prefix ending in * (tenant.*).",
)
@click.option(
    "--actor",
    "actor_name",
    metavar="NAME",
    help="Only entries by this actor (local:root, scaikey:usr_…).",
)
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows fetched per round trip.",
)
@api.pass_app
def audit(app, tenant_ref, since, until, action, actor_name, batch_size):
    """List audit log entries (who changed what, before and after), oldest first, streamed.

    Example: scaiwave --output jsonl admin audit --tenant acme --since 7d --action 'tenant.*'
    """
    from scaiwave_admin.usecases import audit as usecase

    now = api.store.utcnow()
    since_at = parse_when(since, option="--since", now=now) if since else None
    until_at = parse_when(until, option="--until", now=now) if until else None
    actor = app.actor
    listing = usecase.listing(
        app.store,
        actor,
        tenant_ref=tenant_ref,
        since=since_at,
        until=until_at,
        action=action,
        actor_name=actor_name,
        batch_size=batch_size,
    )
    with listing as rows:
        app.out.rows(rows, COLUMNS)


COMMANDS = [audit]
