"""`room list` and `room show`: find the room to export, in the database or through the API."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_room import errors

# Room kinds that never leave the server (``room_kind``): an export is refused.
REFUSED_EXPORT = ("sidekick", "bridge", "incognito", "federated")


def room_kind(room) -> str:
    """The room's type, or ``federated`` for a federated room of any type."""
    if room.federated or room.scope == "federated":
        return "federated"
    return room.type


def refuse_deleting(room) -> None:
    """``SW_ROOM_DELETING`` (exit 1) for a room a `room delete` has marked (and not finished)."""
    if room.state == "deleting":
        raise api.DomainError(
            f"room {room.id} is being deleted (an interrupted `room delete`)",
            code=errors.SW_ROOM_DELETING,
            hint=f"finish it: scaiwave room delete {room.id} --tenant … (the same command again)",
        )


def refuse_export(room) -> None:
    refuse_deleting(room)
    kind = room_kind(room)
    if kind in REFUSED_EXPORT:
        raise api.DomainError(
            f"room {room.id} is a {kind} room, which cannot be exported",
            code=errors.SW_ROOM_EXPORT_REFUSED,
            hint="sidekick, bridge, incognito and federated rooms never leave the server",
        )


def list_rooms(app, *, tenant, workspace=None, room_type=None, state=None, via="db") -> list:
    """The tenant's rooms (dicts), optionally of one workspace (slug or id), type or state."""
    if via == "api":
        from scaiwave_room.adapters.http import RoomApi

        with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
            return client.list_rooms(tenant, workspace=workspace, type=room_type, state=state)
    from scaiwave_room.adapters import db

    with app.store.read_session() as session:
        tenant_row = api.find_tenant(session, tenant, actor=app.actor)
        workspace_id = None
        if workspace:
            workspace_id = api.find_workspace(session, tenant_row, workspace).id
        rows = db.list_rooms(
            session, tenant_row.id, workspace_id=workspace_id, room_type=room_type, state=state
        )
        return [
            {
                "id": room.id,
                "name": room.name,
                "type": room.type,
                "state": room.state,
                "workspace": ws_slug,
                "events": events,
                "exportable": room_kind(room) not in REFUSED_EXPORT,
                "created_at": room.created_at,
            }
            for room, ws_slug, events in rows
        ]


def show_room(app, *, room_id, tenant, via="db") -> dict:
    """One room: metadata, counts, and whether (or why not) it can be exported."""
    if via == "api":
        from scaiwave_room.adapters.http import RoomApi

        with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
            return client.show_room(room_id, tenant)
    from scaiwave_room.adapters import db

    with app.store.read_session() as session:
        tenant_row = api.find_tenant(session, tenant, actor=app.actor)
        room = db.get_room(session, tenant_row.id, room_id)
        stats = db.room_stats(session, room)
        kind = room_kind(room)
        return {
            "id": room.id,
            "name": room.name,
            "topic": room.topic,
            "type": room.type,
            "state": room.state,
            "scope": room.scope,
            "federated": bool(room.federated),
            "workspace": stats["workspace"],
            "creator_id": room.creator_id,
            "created_at": room.created_at,
            "events": stats["events"],
            "first_event_at": stats["first_event_at"],
            "last_event_at": stats["last_event_at"],
            "members": stats["members"],
            "media": stats["media"],
            "media_bytes": stats["media_bytes"],
            "do_not_index": bool(room.do_not_index),
            "exportable": kind not in REFUSED_EXPORT,
            "export_refused_because": f"{kind} room" if kind in REFUSED_EXPORT else None,
        }
