"""The room plugin's store queries on the core's schema (``api.store.models``) through
SQLAlchemy: nothing else. Works on SQLite and MariaDB. The use cases (``usecases/``) decide what
to ask and what the answers mean; tenants, workspaces and participants are found with the core's
``api.find_*``.

Tenant isolation: every room, event, media and participant query filters on ``tenant_id``; a
room of another tenant is answered exactly like a missing room.

MariaDB streaming: ``api.store.stream`` holds an unbuffered server-side cursor, so the export
reads everything else it needs (senders, media) BEFORE it opens the event stream and runs no
other statement on that session until the stream is done. The import's writer thread is the
only user of its connection while events flow (``inserts.event_writer``).
"""

from __future__ import annotations

import datetime as _dt

from sqlalchemy import Text, case, func, select, type_coerce

from scaiwave_cli import api
from scaiwave_room import errors

m = api.store.models


# -- rooms -------------------------------------------------------------------------------------


def get_room(session, tenant_id, room_id: str):
    room = session.scalar(select(m.Room).where(m.Room.id == room_id, m.Room.tenant_id == tenant_id))
    if room is None:
        raise api.NotFoundError(
            f"room {room_id!r} not found",
            code=errors.SW_ROOM_NOT_FOUND,
            hint="check the id and --tenant (`scaiwave room list --tenant …`)",
        )
    return room


def open_room_count(session, tenant_id) -> int:
    """The tenant's rooms that are not closed (what ``max_rooms`` caps)."""
    return session.scalar(
        select(func.count())
        .select_from(m.Room)
        .where(m.Room.tenant_id == tenant_id, m.Room.state != "closed")
    )


def list_rooms(session, tenant_id, *, workspace_id=None, room_type=None, state=None) -> list:
    """(room, workspace slug, event count) of the tenant's rooms, oldest first."""
    q = (
        select(m.Room, m.Workspace.slug)
        .join(m.Workspace, m.Workspace.id == m.Room.workspace_id)
        .where(m.Room.tenant_id == tenant_id)
        .order_by(m.Room.created_at, m.Room.id)
    )
    if workspace_id is not None:
        q = q.where(m.Room.workspace_id == workspace_id)
    if room_type:
        q = q.where(m.Room.type == room_type)
    if state:
        q = q.where(m.Room.state == state)
    rows = session.execute(q).all()
    counts = _event_counts(session, tenant_id, [r.id for r, _ in rows])
    return [(room, ws_slug, counts.get(room.id, 0)) for room, ws_slug in rows]


def _event_counts(session, tenant_id, room_ids):
    if not room_ids:
        return {}
    rows = session.execute(
        select(m.Event.room_id, func.count())
        .where(m.Event.tenant_id == tenant_id, m.Event.room_id.in_(room_ids))
        .group_by(m.Event.room_id)
    )
    return dict(rows.all())


def room_stats(session, room) -> dict:
    """The room's workspace slug and counts: events (first/last time), members, media."""
    ws = session.get(m.Workspace, room.workspace_id)
    where = (m.Event.tenant_id == room.tenant_id, m.Event.room_id == room.id)
    events, first, last = session.execute(
        select(func.count(), func.min(m.Event.created_at), func.max(m.Event.created_at)).where(
            *where
        )
    ).one()
    members = session.scalar(
        select(func.count()).select_from(m.RoomMember).where(m.RoomMember.room_id == room.id)
    )
    media, media_bytes = session.execute(
        select(func.count(func.distinct(m.Media.sha256)), func.sum(m.Media.size)).where(
            m.Media.tenant_id == room.tenant_id, m.Media.room_id == room.id
        )
    ).one()
    return {
        "workspace": ws.slug if ws else None,
        "events": events,
        "first_event_at": first,
        "last_event_at": last,
        "members": members,
        "media": media,
        "media_bytes": int(media_bytes or 0),
    }


# -- export ------------------------------------------------------------------------------------


def sender_blocks(session, tenant_id, room_id) -> list:
    """Distinct (sender_id, the JSON text of ``content._imported_sender`` or None) of the
    room's events: an imported event keeps its foreign author in that block."""
    text = type_coerce(m.Event.content, Text)
    mentions = text.like("%!_imported!_sender%", escape="!")
    block = case((mentions, func.json_extract(text, "$._imported_sender")), else_=None)
    return session.execute(
        select(m.Event.sender_id, block)
        .where(m.Event.tenant_id == tenant_id, m.Event.room_id == room_id)
        .distinct()
    ).all()


def participants(session, tenant_id, ids) -> dict:
    """id -> Participant row, for the ids of the tenant that exist."""
    if not ids:
        return {}
    return {
        p.id: p
        for p in session.scalars(
            select(m.Participant).where(
                m.Participant.tenant_id == tenant_id, m.Participant.id.in_(sorted(ids))
            )
        )
    }


def room_media(session, tenant_id, room_id) -> list:
    """(media id, event id, sha256, name, size, content_type) of the room, by sha256 then id."""
    return session.execute(
        select(
            m.Media.id,
            m.Media.event_id,
            m.Media.sha256,
            m.Media.name,
            m.Media.size,
            m.Media.content_type,
        )
        .where(m.Media.tenant_id == tenant_id, m.Media.room_id == room_id)
        .order_by(m.Media.sha256, m.Media.id)
    ).all()


def event_summary(session, tenant_id, room_id) -> tuple[int, _dt.datetime | None]:
    """(number of events, created_at of the last one in stream order) of the room."""
    where = (m.Event.tenant_id == tenant_id, m.Event.room_id == room_id)
    count = session.scalar(select(func.count()).select_from(m.Event).where(*where))
    last = session.scalar(
        select(m.Event.created_at).where(*where).order_by(m.Event.stream_position.desc()).limit(1)
    )
    return count, last


EXPORT_COLUMNS = (
    "id",
    "sender_id",
    "event_type",
    "content",
    "original_content",
    "origin_ts",
    "created_at",
    "edited_at",
    "redacted_at",
    "relation_type",
    "relates_to_id",
)


STORED_JSON = ("content", "original_content")
STORED_TIMES = ("created_at", "edited_at", "redacted_at")


def stream_events(session, tenant_id, room_id, *, batch_size=2000):
    """Every event of the room as a plain tuple of ``EXPORT_COLUMNS`` (no ORM objects), in
    stream_position order, read ``batch_size`` at a time through ``api.store.stream``. Nothing
    else may run on ``session`` until this generator is exhausted.

    Undecoded, for speed: ``content`` and ``original_content`` come as the JSON text the
    database holds, and on SQLite the times as their stored text; ``StoredDecoders`` turns
    them into what the ORM would have given."""
    table = m.Event.__table__
    raw = STORED_JSON + (STORED_TIMES if _dialect(session) == "sqlite" else ())
    stmt = (
        select(
            *[
                type_coerce(table.c[name], Text) if name in raw else table.c[name]
                for name in EXPORT_COLUMNS
            ]
        )
        .where(table.c.tenant_id == tenant_id, table.c.room_id == room_id)
        .order_by(table.c.stream_position)
    )
    yield from api.store.stream(session, stmt, batch_size=batch_size)


def _dialect(session) -> str:
    return session.get_bind().dialect.name


class StoredDecoders:
    """What the ORM does to the undecoded values of ``stream_events``: ``json(value)`` decodes
    a JSON column's value and ``time(value)`` a time column's (an aware UTC datetime), each with
    the column type's own result processor on this session's database. ``times_as_text``: the
    times come as text (SQLite), in SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` when written
    by it."""

    def __init__(self, session):
        dialect = session.get_bind().dialect
        table = m.Event.__table__
        self.times_as_text = dialect.name == "sqlite"
        self._json = _processor(table.c.content.type, dialect)
        self._time = _processor(table.c.created_at.type, dialect)

    def json(self, value):
        return value if self._json is None else self._json(value)

    def time(self, value):
        return value if self._time is None else self._time(value)


def _processor(type_, dialect):
    return type_.dialect_impl(dialect).result_processor(dialect, None)


# -- import ------------------------------------------------------------------------------------


def add_room(session, *, room_id, tenant_id, workspace_id, creator_id, room, created_at) -> None:
    """The imported room (``room``: the manifest's room record) and its creator as its only
    member (power level 100); flushed."""
    session.add(
        m.Room(
            id=room_id,
            tenant_id=tenant_id,
            workspace_id=workspace_id,
            name=room.name,
            topic=room.topic,
            type=room.type,
            scope=room.scope,
            state="open",
            creator_id=creator_id,
            created_at=created_at,
            do_not_index=True,
        )
    )
    session.add(
        m.RoomMember(
            room_id=room_id,
            participant_id=creator_id,
            tenant_id=tenant_id,
            power_level=100,
            membership="join",
        )
    )
    session.flush()


def is_integrity_error(exc: BaseException) -> bool:
    """A unique or primary key violation (a concurrent write, or a repeated id)."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


# -- room states and move (usecases/lifecycle.py) -------------------------------------------


def room_counts(session, room) -> dict:
    """The room's events, members and media rows (what a state change or move reports)."""
    events = session.scalar(
        select(func.count())
        .select_from(m.Event)
        .where(m.Event.tenant_id == room.tenant_id, m.Event.room_id == room.id)
    )
    members = session.scalar(
        select(func.count())
        .select_from(m.RoomMember)
        .where(m.RoomMember.tenant_id == room.tenant_id, m.RoomMember.room_id == room.id)
    )
    media = session.scalar(
        select(func.count())
        .select_from(m.Media)
        .where(m.Media.tenant_id == room.tenant_id, m.Media.room_id == room.id)
    )
    return {"events": events, "members": members, "media": media}


def room_member_power(session, room, participant_id) -> int | None:
    """The participant's power level in the room (joined members only), None if no member."""
    return session.scalar(
        select(m.RoomMember.power_level).where(
            m.RoomMember.tenant_id == room.tenant_id,
            m.RoomMember.room_id == room.id,
            m.RoomMember.participant_id == participant_id,
            m.RoomMember.membership == "join",
        )
    )


def members_without_workspace_role(session, room, workspace_id) -> list[str]:
    """Ids of the room's members holding no ``workspace_members`` row and no role assignment
    in ``workspace_id`` (nor a tenant-scope one), sorted."""
    rm, wm, ra = m.RoomMember, m.WorkspaceMember, m.RoleAssignment
    in_workspace = select(wm.participant_id).where(
        wm.tenant_id == room.tenant_id, wm.workspace_id == workspace_id
    )
    assigned = select(ra.participant_id).where(
        ra.tenant_id == room.tenant_id, ra.scope_key.in_(["", workspace_id])
    )
    return list(
        session.scalars(
            select(rm.participant_id)
            .where(
                rm.tenant_id == room.tenant_id,
                rm.room_id == room.id,
                rm.participant_id.not_in(in_workspace),
                rm.participant_id.not_in(assigned),
            )
            .order_by(rm.participant_id)
        )
    )


def set_room_state(session, room, *, expected: str, state: str) -> bool:
    """``state`` for the room if it is still ``expected`` (compare and set); False when a
    concurrent change got there first (nothing written)."""
    from sqlalchemy import update

    result = session.execute(
        update(m.Room)
        .where(m.Room.tenant_id == room.tenant_id, m.Room.id == room.id, m.Room.state == expected)
        .values(state=state)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def set_room_workspace(session, room, *, expected: str, workspace_id: str) -> bool:
    """Move the room to ``workspace_id`` if it is still open in ``expected`` (compare and set);
    its events, members and media rows point at the room, not the workspace, and stay."""
    from sqlalchemy import update

    result = session.execute(
        update(m.Room)
        .where(
            m.Room.tenant_id == room.tenant_id,
            m.Room.id == room.id,
            m.Room.workspace_id == expected,
            m.Room.state == "open",
        )
        .values(workspace_id=workspace_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
