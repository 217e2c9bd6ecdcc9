"""`scaiwave room import`: a bundle as a new room, all or nothing."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import from_option, tenant_option, via_option


@click.command(name="import")
@click.argument("workspace")
@tenant_option("Tenant slug to import into.")
@click.option(
    "--as",
    "as_participant",
    required=True,
    help="Participant (id or e-mail) who becomes the room's creator (needs create_note in the "
    "workspace).",
)
@from_option()
@click.option("--dry-run", is_flag=True, help="Validate fully and report; write nothing.")
@via_option("Database or HTTP API.")
@api.pass_app
def import_cmd(app, workspace, tenant, as_participant, from_file, dry_run, via):
    """Import a bundle as a new room, all or nothing.

    Example: scaiwave room import general --tenant acme --as prt-42 < room.zip

    WORKSPACE is the target workspace's slug or id. The ZIP is checked completely
    (structure, caps, hashes) first, then the manifest is validated and written in one
    transaction; any problem exits 1 and leaves no rows and no media files behind.
    """
    from scaiwave_room.usecases.import_ import import_room

    app.out.record(
        import_room(
            app,
            workspace=workspace,
            tenant=tenant,
            as_participant=as_participant,
            from_file=from_file,
            dry_run=dry_run,
            via=via,
        )
    )
