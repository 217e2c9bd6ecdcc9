"""`scaiwave room delete`: a verified backup, then the room's rows in bounded batches."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room import options
from scaiwave_room.options import tenant_option


@click.command(name="delete")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@click.option(
    "--backup",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the room's bundle (as `room export`) to FILE and verify it before deleting.",
)
@click.option(
    "--no-backup", is_flag=True, help="Delete without a backup (the room cannot be restored)."
)
@options.dry_run_option()
@options.batch_size_option()
@api.yes_option
@api.pass_app
def delete_cmd(app, room_id, tenant, backup, no_backup, dry_run, batch_size, yes):
    """Delete a room for good, after a verified backup.

    Example: scaiwave room delete room-123 --tenant acme --backup room-123.zip --yes

    One of --backup FILE or --no-backup is required. With --backup the bundle is
    written and checked (`room verify`) first; any problem stops before anything is
    deleted. Then the room is marked `deleting` and its events, members and media
    references go in batches; media files no other room uses are removed. Interrupted,
    the room stays marked `deleting` (export refuses it): run the same command again
    to finish it.
    """
    if bool(backup) == bool(no_backup):
        raise click.UsageError("give exactly one of --backup FILE or --no-backup")
    from scaiwave_room.usecases.delete import delete_room

    app.out.record(
        delete_room(
            app,
            room_id=room_id,
            tenant=tenant,
            backup=backup,
            dry_run=dry_run,
            yes=yes,
            batch_size=batch_size,
        )
    )
