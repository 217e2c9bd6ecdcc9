"""`scaiwave room move`: a room to another workspace of its tenant, with every event."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import tenant_option


@click.command(name="move")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@click.option(
    "--to-workspace",
    "to_workspace",
    required=True,
    metavar="WORKSPACE",
    help="The target workspace (slug or id) of the same tenant.",
)
@click.option(
    "--as",
    "as_participant",
    metavar="PARTICIPANT",
    help="Act as this participant (id, e-mail or FQID), who must hold room.move in both "
    "workspaces; default: the admin token (or local operator) within its scope.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@api.pass_app
def move_cmd(app, room_id, tenant, to_workspace, as_participant, dry_run):
    """Move a room to another workspace; its events, members and media go with it.

    Example: scaiwave room move room-123 --tenant acme --to-workspace design --as prt-ada

    The members keep their room membership and power levels; their workspace rights are
    now the target workspace's (the summary lists members with no role there). Only an
    open room moves: archived or closed ones are frozen (SW_ROOM_FROZEN, exit 1). Moving
    to the room's own workspace is "unchanged" (exit 0). Audited.
    """
    from scaiwave_room.usecases.lifecycle import move_room

    app.out.record(
        move_room(
            app,
            room_id=room_id,
            tenant=tenant,
            to_workspace=to_workspace,
            as_participant=as_participant,
            dry_run=dry_run,
        )
    )
