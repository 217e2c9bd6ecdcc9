"""`scaiwave room show`: one room and whether it can be exported."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import tenant_option, via_option


@click.command(name="show")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@via_option()
@api.pass_app
def show_cmd(app, room_id, tenant, via):
    """Show one room and whether it can be exported.

    Example: scaiwave room show room-123 --tenant acme
    """
    from scaiwave_room.usecases.rooms import show_room

    app.out.record(show_room(app, room_id=room_id, tenant=tenant, via=via))
