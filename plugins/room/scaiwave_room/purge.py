"""`scaiwave room purge`: retention; the events older than a date go, the rooms stay."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room import options
from scaiwave_room.options import tenant_option


@click.command(name="purge")
@tenant_option("Tenant slug whose rooms are purged.")
@click.option(
    "--before",
    required=True,
    type=api.TIME,
    help="Delete the events created before this time (ISO 8601; naive means UTC).",
)
@click.option("--room", "room_id", help="Only this room (default: every room of the tenant).")
@options.dry_run_option()
@options.batch_size_option()
@api.yes_option
@api.pass_app
def purge_cmd(app, tenant, before, room_id, dry_run, batch_size, yes):
    """Delete the events created before a date (retention); keep the rooms.

    Example: scaiwave room purge --tenant acme --before 2025-01-01 --dry-run

    Reactions, edits and other relation events pointing at a purged event go with it
    (even when newer), so nothing points at a missing event. In batches, one
    transaction each: interrupted, run the same command again.
    """
    from scaiwave_room.usecases.purge import purge_events

    app.out.record(
        purge_events(
            app,
            tenant=tenant,
            before=before,
            room_id=room_id,
            dry_run=dry_run,
            yes=yes,
            batch_size=batch_size,
        )
    )
