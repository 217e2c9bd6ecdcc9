"""`scaiwave room list`: a tenant's rooms, to find the one to export."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import tenant_option, via_option

LIST_COLUMNS = ["id", "name", "type", "state", "workspace", "events", "exportable", "created_at"]


@click.command(name="list")
@tenant_option()
@click.option("--workspace", help="Only rooms of this workspace (slug or id).")
@click.option(
    "--type",
    "room_type",
    type=click.Choice(["group", "dm", "incognito", "sidekick", "public", "bridge"]),
    help="Only rooms of this type.",
)
@click.option(
    "--state",
    type=click.Choice(["open", "archived", "closed", "deleting"]),
    help="Only this state (deleting: a `room delete` under way or interrupted).",
)
@via_option()
@api.pass_app
def list_cmd(app, tenant, workspace, room_type, state, via):
    """List a tenant's rooms.

    Example: scaiwave room list --tenant acme --workspace general --state open
    """
    from scaiwave_room.usecases.rooms import list_rooms

    rows = list_rooms(
        app, tenant=tenant, workspace=workspace, room_type=room_type, state=state, via=via
    )
    app.out.rows(rows, LIST_COLUMNS)
