"""`scaiwave admin audit`: the audit log, filtered and streamed.

Every change made through the CLI (tenants, partners, federation keys, and the other plugins'
mutations) writes one ``audit_log`` row in the same transaction as the change
(``api.audit.record``). This command reads them oldest first through a streamed query
(``api.store.stream``: a server-side cursor on MariaDB), so ``--output jsonl`` over millions of
rows keeps memory flat. A partner admin sees the rows of its partner's tenants, a tenant admin
those of its tenant; rows without a tenant (partners, federation keys) are platform-only.

Also home of the small time parsers the other admin modules share (``parse_duration``,
``parse_when``): click and the standard library only.
"""

from __future__ import annotations

import datetime as dt
import re

import click

from scaiwave_cli import api

COLUMNS = ["id", "at", "actor", "actor_kind", "action", "target", "tenant", "details"]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, *, option: str) -> dt.timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` (a bare number means days)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text or "")
    if not match:
        raise api.DomainError(
            f"invalid {option} {text!r}: expected a duration like 30d, 12h, 90m",
            code="SW_DURATION_INVALID",
            hint="units: s, m, h, d, w (a bare number means days)",
        )
    return dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "d"])


def parse_when(text: str, *, option: str, now: dt.datetime) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (``2026-01-31``, ``2026-01-31T12:00``,
    ``…+02:00``; naive means UTC) or a relative duration back from now (``7d``, ``24h``)."""
    text = (text or "").strip()
    if re.fullmatch(r"\d+(?:\.\d+)?\s*[smhdw]", text):
        return now - parse_duration(text, option=option)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise api.DomainError(
            f"invalid {option} {text!r}: expected an ISO date/time or a duration like 7d",
            code="SW_TIME_INVALID",
            hint="e.g. 2026-01-31, 2026-01-31T12:00:00Z or 24h",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@click.command("audit")
@click.option("--tenant", "tenant_ref", metavar="SLUG", help="Only this tenant's entries.")
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
    from scaiwave_admin.adapters import db

    now = api.store.utcnow()
    since_at = parse_when(since, option="--since", now=now) if since else None
    until_at = parse_when(until, option="--until", now=now) if until else None
    actor = app.actor
    with app.store.session() as s:
        tenant_id = None
        if tenant_ref:
            tenant, partner = db.find_tenant(s, tenant_ref)
            actor.require_tenant(tenant)
            tenant_id = tenant.id
        # audit_query's scope filter limits the rows to the actor's tenants
        stmt = db.audit_query(
            actor=actor,
            tenant_id=tenant_id,
            since=since_at,
            until=until_at,
            action=action,
            actor_name=actor_name,
        )

        def rows():
            for row in api.store.stream(s, stmt, batch_size=batch_size):
                yield {
                    "id": row.id,
                    "at": row.at,
                    "actor": row.actor,
                    "actor_kind": row.actor_kind,
                    "action": row.action,
                    "target": row.target,
                    "tenant": row.tenant or row.tenant_id,
                    "details": row.details,
                }

        app.out.rows(rows(), COLUMNS)


COMMANDS = [audit]
