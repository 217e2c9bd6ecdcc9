"""`room list` and `room show`: find the room to export. Light (click + api only)."""

from __future__ import annotations

import click

from scaiwave_cli import api

LIST_COLUMNS = ["id", "name", "type", "state", "workspace", "events", "exportable", "created_at"]


@click.command(name="list")
@click.option("--tenant", "tenant", required=True, help="Tenant slug.")
@click.option("--workspace", help="Only rooms of this workspace (slug or id).")
@click.option(
    "--type",
    "room_type",
    type=click.Choice(["group", "dm", "incognito", "sidekick", "public", "bridge"]),
    help="Only rooms of this type.",
)
@click.option("--state", type=click.Choice(["open", "archived", "closed"]), help="Only this state.")
@click.option(
    "--via",
    type=click.Choice(["db", "api"]),
    default="db",
    show_default=True,
    help="The database, or the ScaiWave HTTP API (SCAIWAVE_API_URL + SCAIWAVE_ADMIN_TOKEN).",
)
@api.pass_app
def list_cmd(app, tenant, workspace, room_type, state, via):
    """List a tenant's rooms.

    Example: scaiwave room list --tenant acme --workspace general --state open
    """
    if via == "api":
        from scaiwave_room.adapters.http import RoomApi

        with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
            rows = client.list_rooms(tenant, workspace=workspace, type=room_type, state=state)
        app.out.rows(rows, LIST_COLUMNS)
        return
    from scaiwave_room.adapters import db

    with app.store.read_session() as session:
        tenant_row = db.get_tenant(session, tenant)
        app.actor.require_tenant(tenant_row)
        workspace_row = None
        if workspace:
            workspace_row = db.get_workspace(session, tenant_row.id, workspace)
        rows = db.list_rooms(
            session,
            tenant_row.id,
            workspace_id=workspace_row.id if workspace_row else None,
            room_type=room_type,
            state=state,
        )
        app.out.rows(rows, LIST_COLUMNS)


@click.command(name="show")
@click.argument("room_id")
@click.option("--tenant", "tenant", required=True, help="Tenant slug that owns the room.")
@click.option(
    "--via",
    type=click.Choice(["db", "api"]),
    default="db",
    show_default=True,
    help="The database, or the ScaiWave HTTP API (SCAIWAVE_API_URL + SCAIWAVE_ADMIN_TOKEN).",
)
@api.pass_app
def show_cmd(app, room_id, tenant, via):
    """Show one room and whether it can be exported.

    Example: scaiwave room show room-01H… --tenant acme
    """
    if via == "api":
        from scaiwave_room.adapters.http import RoomApi

        with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
            app.out.record(client.show_room(room_id, tenant))
        return
    from scaiwave_room.adapters import db

    with app.store.read_session() as session:
        tenant_row = db.get_tenant(session, tenant)
        app.actor.require_tenant(tenant_row)
        room = db.get_room(session, tenant_row.id, room_id)
        app.out.record(db.room_details(session, room))
