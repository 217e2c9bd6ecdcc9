"""The room plugin's queries for `room delete` and `room purge` (the destructive half; the rest
is in ``db.py``, kept apart so that no module passes 500 lines). Same rules as ``db.py``: the
core's schema through SQLAlchemy, every statement filtered on ``tenant_id``, no commits (the use
cases own the transactions).

Every statement is bounded: a batch is found through an index ((room_id, stream_position),
relates_to_id, (tenant_id, sha256)) and deleted by key, so one batch costs the same whether the
room holds a thousand events or a million.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from scaiwave_cli import api
from scaiwave_room.adapters import db

m = api.store.models

# -- delete and purge (usecases/delete.py, usecases/purge.py) ----------------------------------

ID_CHUNK = 500  # ids per IN (...) list


def _chunks(values, size=ID_CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


def delete_counts(session, room) -> dict:
    """What a delete of ``room`` removes: events (of which relations), members, media rows,
    and the media files only this room references with their bytes."""
    counts = db.room_counts(session, room)  # events, members, media rows
    relations = session.scalar(
        select(func.count(m.Event.relates_to_id)).where(
            m.Event.tenant_id == room.tenant_id, m.Event.room_id == room.id
        )
    )
    files = files_only_here(session, room.tenant_id, room.id, media_shas(session, room))
    return {
        "events": counts["events"],
        "relations": relations,
        "members": counts["members"],
        "media": counts["media"],
        "media_files": len(files),
        "media_bytes": sum(files.values()),
    }


def media_shas(session, room) -> set:
    """The distinct sha256 of the room's media rows."""
    return set(
        session.scalars(
            select(m.Media.sha256)
            .where(m.Media.tenant_id == room.tenant_id, m.Media.room_id == room.id)
            .distinct()
        )
    )


def files_only_here(session, tenant_id, room_id, shas, *, except_ids=()) -> dict:
    """sha256 -> size for those of ``shas`` that no media row of the tenant references except
    the rows of room ``room_id`` (None: none excepted) and the rows ``except_ids``."""
    out = {}
    except_ids = list(except_ids)
    for chunk in _chunks(sorted(shas)):
        sizes = dict(
            session.execute(
                select(m.Media.sha256, func.max(m.Media.size))
                .where(m.Media.tenant_id == tenant_id, m.Media.sha256.in_(chunk))
                .group_by(m.Media.sha256)
            ).all()
        )
        q = select(m.Media.sha256).where(m.Media.tenant_id == tenant_id, m.Media.sha256.in_(chunk))
        if room_id is not None:
            q = q.where((m.Media.room_id.is_(None)) | (m.Media.room_id != room_id))
        if except_ids:
            q = q.where(m.Media.id.not_in(except_ids))
        elsewhere = set(session.scalars(q.distinct()))
        out.update({sha: int(sizes.get(sha) or 0) for sha in chunk if sha not in elsewhere})
    return out


def mark_room_deleting(session, room, *, expected: str) -> bool:
    """State ``deleting`` if the room is still in ``expected`` (compare and set)."""
    result = session.execute(
        update(m.Room)
        .where(m.Room.tenant_id == room.tenant_id, m.Room.id == room.id, m.Room.state == expected)
        .values(state="deleting")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def room_fingerprint(session, tenant_id, room_id) -> tuple:
    """(event count, highest stream position): changes when an event is added or removed."""
    return tuple(
        session.execute(
            select(func.count(), func.max(m.Event.stream_position)).where(
                m.Event.tenant_id == tenant_id, m.Event.room_id == room_id
            )
        ).one()
    )


def delete_event_batch(session, tenant_id, room_id, batch_size: int) -> int:
    """Delete the room's ``batch_size`` first events (stream order) with one range DELETE on
    (room_id, stream_position); the number deleted."""
    where = (m.Event.tenant_id == tenant_id, m.Event.room_id == room_id)
    cutoff = session.scalar(
        select(m.Event.stream_position)
        .where(*where)
        .order_by(m.Event.stream_position)
        .offset(batch_size - 1)
        .limit(1)
    )
    stmt = delete(m.Event).where(*where)
    if cutoff is not None:
        stmt = stmt.where(m.Event.stream_position <= cutoff)
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def delete_member_batch(session, room, batch_size: int) -> int:
    rm = m.RoomMember
    ids = list(
        session.scalars(
            select(rm.participant_id)
            .where(rm.tenant_id == room.tenant_id, rm.room_id == room.id)
            .order_by(rm.participant_id)
            .limit(batch_size)
        )
    )
    if not ids:
        return 0
    return session.execute(
        delete(rm)
        .where(rm.tenant_id == room.tenant_id, rm.room_id == room.id, rm.participant_id.in_(ids))
        .execution_options(synchronize_session=False)
    ).rowcount


def room_media_batch(session, room, batch_size: int) -> list:
    """(id, sha256) of up to ``batch_size`` media rows of the room."""
    return session.execute(
        select(m.Media.id, m.Media.sha256)
        .where(m.Media.tenant_id == room.tenant_id, m.Media.room_id == room.id)
        .order_by(m.Media.id)
        .limit(batch_size)
    ).all()


def _delete_by_id(session, model, tenant_id, ids) -> int:
    """Delete the tenant's rows of ``model`` whose id is in ``ids``, a bounded IN list at a
    time; the number deleted."""
    n = 0
    for chunk in _chunks(ids):
        n += session.execute(
            delete(model)
            .where(model.tenant_id == tenant_id, model.id.in_(chunk))
            .execution_options(synchronize_session=False)
        ).rowcount
    return n


def delete_media_rows(session, tenant_id, ids) -> int:
    return _delete_by_id(session, m.Media, tenant_id, ids)


def delete_room_row(session, room) -> int:
    return session.execute(
        delete(m.Room)
        .where(m.Room.tenant_id == room.tenant_id, m.Room.id == room.id)
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_rooms(session, tenant_id) -> list:
    """The tenant's rooms a purge covers: every state but ``deleting``, oldest first."""
    return list(
        session.scalars(
            select(m.Room)
            .where(m.Room.tenant_id == tenant_id, m.Room.state != "deleting")
            .order_by(m.Room.created_at, m.Room.id)
        )
    )


def purge_counts(session, tenant_id, room_ids, before) -> dict:
    """Events of the rooms created before ``before``, newer relation events pointing at them,
    and the media rows and bytes of both."""
    E = m.Event
    old = (E.tenant_id == tenant_id, E.room_id.in_(room_ids), E.created_at < before)
    events = session.scalar(select(func.count()).select_from(E).where(*old)) if room_ids else 0
    if not events:
        return {"events": 0, "relations": 0, "media": 0, "media_bytes": 0}
    old_ids = select(E.id).where(*old)
    T = E.__table__.alias("rel")
    relations = session.scalar(
        select(func.count())
        .select_from(T)
        .where(T.c.tenant_id == tenant_id, T.c.created_at >= before, T.c.relates_to_id.in_(old_ids))
    )
    media, media_bytes = session.execute(
        select(func.count(), func.sum(m.Media.size)).where(
            m.Media.tenant_id == tenant_id,
            m.Media.room_id.in_(room_ids),
            m.Media.event_id.in_(old_ids),
        )
    ).one()
    return {
        "events": events,
        "relations": relations,
        "media": media,
        "media_bytes": int(media_bytes or 0),
    }


def old_event_ids(session, tenant_id, room_id, before, batch_size: int) -> list:
    """Ids of the room's first ``batch_size`` events (stream order) created before ``before``."""
    E = m.Event
    return list(
        session.scalars(
            select(E.id)
            .where(E.tenant_id == tenant_id, E.room_id == room_id, E.created_at < before)
            .order_by(E.stream_position)
            .limit(batch_size)
        )
    )


def relation_closure(session, tenant_id, ids) -> list:
    """The events that point (``relates_to_id``) at any of ``ids``, at any depth (a reaction
    to an edit of a message), not counting ``ids`` themselves."""
    seen = set(ids)
    frontier = list(ids)
    found = []
    while frontier:
        nxt = []
        for chunk in _chunks(frontier):
            for eid in session.scalars(
                select(m.Event.id).where(
                    m.Event.tenant_id == tenant_id, m.Event.relates_to_id.in_(chunk)
                )
            ):
                if eid not in seen:
                    seen.add(eid)
                    nxt.append(eid)
        found += nxt
        frontier = nxt
    return found


def media_of_events(session, tenant_id, event_ids) -> list:
    """(id, sha256, size) of the media rows attached to any of ``event_ids``."""
    rows = []
    for chunk in _chunks(event_ids):
        rows += session.execute(
            select(m.Media.id, m.Media.sha256, m.Media.size).where(
                m.Media.tenant_id == tenant_id, m.Media.event_id.in_(chunk)
            )
        ).all()
    return rows


def delete_events_by_id(session, tenant_id, ids) -> int:
    return _delete_by_id(session, m.Event, tenant_id, ids)


def count_created_since(session, tenant_id, ids, since) -> int:
    """How many of the events ``ids`` were created at or after ``since``."""
    n = 0
    for chunk in _chunks(ids):
        n += session.scalar(
            select(func.count())
            .select_from(m.Event)
            .where(
                m.Event.tenant_id == tenant_id, m.Event.id.in_(chunk), m.Event.created_at >= since
            )
        )
    return n
