"""The SQL of `admin export-participant` and of the tenant people export (issue 16).

One participant (``participant_export`` use cases read everything in one ``read_session``, so
the entries of one export agree with each other):

- ``tenant_row``, ``participant_row``, ``workspace_memberships``, ``room_memberships``,
  ``role_assignments``: one statement each (a person's memberships are few).
- ``event_batches``: the person's events ``batch_size`` at a time by keyset on the index
  ``events (sender_id, stream_position)`` (migration 0004); no cursor stays open between
  batches, so the media store and other statements can run meanwhile, on both engines.
- ``media_batches``: the media rows the person uploaded (index ``media (tenant_id,
  uploader_id)``), by keyset on ``(sha256, id)``, each with its event's content (to tell an
  imported event's attachment from the person's own).
- ``rooms``: the rooms named by id, in chunks.

The whole tenant (people export): ``people_statements`` gives one ordered statement per entry,
streamed with ``api.store.stream`` one after the other (never two open at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from scaiwave_cli import api

m = api.store.models

PROFILE_COLUMNS = (
    "id",
    "kind",
    "display_name",
    "email",
    "fqid",
    "avatar_url",
    "scaikey_user_id",
    "active",
    "deactivated_at",
    "operator_hold",
    "erased_at",
    "last_synced_at",
    "created_at",
)
IN_CHUNK = 500


def tenant_row(session: Session, tenant_id: str):
    return session.get(m.Tenant, tenant_id)


def participant_row(session: Session, tenant_id: str, participant_id: str):
    p = m.Participant
    return session.execute(
        select(*(getattr(p, c) for c in PROFILE_COLUMNS)).where(
            p.id == participant_id, p.tenant_id == tenant_id
        )
    ).first()


def workspace_memberships(session: Session, tenant_id: str, participant_id: str) -> list:
    ws, wm = m.Workspace, m.WorkspaceMember
    return session.execute(
        select(ws.id, ws.slug, ws.name, ws.personal, wm.role, wm.created_at)
        .join(wm, wm.workspace_id == ws.id)
        .where(wm.participant_id == participant_id, wm.tenant_id == tenant_id)
        .order_by(ws.slug, ws.id)
    ).all()


def room_memberships(session: Session, tenant_id: str, participant_id: str) -> list:
    rm = m.RoomMember
    return session.execute(
        select(rm.room_id, rm.membership, rm.power_level, rm.joined_at)
        .where(rm.participant_id == participant_id, rm.tenant_id == tenant_id)
        .order_by(rm.room_id)
    ).all()


def role_assignments(session: Session, tenant_id: str, participant_id: str) -> list:
    ra, r, ws = m.RoleAssignment, m.Role, m.Workspace
    return session.execute(
        select(r.name, r.builtin, r.level, ra.workspace_id, ws.slug, ra.created_at, ra.created_by)
        .join(r, r.id == ra.role_id)
        .outerjoin(ws, ws.id == ra.workspace_id)
        .where(ra.participant_id == participant_id, ra.tenant_id == tenant_id)
        .order_by(ra.scope_key, r.name, ra.id)
    ).all()


EVENT_COLUMNS = (
    "stream_position",
    "id",
    "room_id",
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


def event_count(session: Session, tenant_id: str, participant_id: str) -> int:
    e = m.Event
    return session.scalar(
        select(func.count()).where(e.sender_id == participant_id, e.tenant_id == tenant_id)
    )


def event_batches(
    session: Session, tenant_id: str, participant_id: str, *, batch_size: int = 2000
) -> Iterator[list]:
    """Lists of rows (``EVENT_COLUMNS``) by stream position, ``batch_size`` at a time."""
    e = m.Event
    columns = [getattr(e, c) for c in EVENT_COLUMNS]
    last = None
    while True:
        stmt = select(*columns).where(e.sender_id == participant_id, e.tenant_id == tenant_id)
        if last is not None:
            stmt = stmt.where(e.stream_position > last)
        rows = session.execute(stmt.order_by(e.stream_position).limit(batch_size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


MEDIA_COLUMNS = (
    "sha256",
    "id",
    "name",
    "size",
    "content_type",
    "room_id",
    "event_id",
    "created_at",
)


def media_batches(
    session: Session, tenant_id: str, participant_id: str, *, batch_size: int = 500
) -> Iterator[list]:
    """Lists of rows (``MEDIA_COLUMNS`` + the event's content, None without an event) the
    person uploaded, by (sha256, id), ``batch_size`` at a time."""
    md, e = m.Media, m.Event
    columns = [getattr(md, c) for c in MEDIA_COLUMNS]
    last = None
    while True:
        stmt = (
            select(*columns, e.content)
            .outerjoin(e, and_(e.id == md.event_id, e.tenant_id == md.tenant_id))
            .where(md.tenant_id == tenant_id, md.uploader_id == participant_id)
        )
        if last is not None:
            sha, mid = last
            stmt = stmt.where(or_(md.sha256 > sha, and_(md.sha256 == sha, md.id > mid)))
        rows = session.execute(stmt.order_by(md.sha256, md.id).limit(batch_size)).all()
        if not rows:
            return
        yield rows
        last = (rows[-1][0], rows[-1][1])


def rooms(session: Session, tenant_id: str, room_ids: Iterable[str]) -> list:
    """(id, name, workspace slug, type, state) of the rooms named, sorted by id."""
    room, ws = m.Room, m.Workspace
    ids = sorted(set(room_ids))
    found = []
    for start in range(0, len(ids), IN_CHUNK):
        found += session.execute(
            select(room.id, room.name, ws.slug, room.type, room.state)
            .join(ws, ws.id == room.workspace_id)
            .where(room.tenant_id == tenant_id, room.id.in_(ids[start : start + IN_CHUNK]))
        ).all()
    return sorted(found, key=lambda r: r[0])


# -- the whole tenant ----------------------------------------------------------------------------


def people_statements(tenant_id: str) -> dict:
    """One ordered statement per entry of the people export (``entry name -> statement``)."""
    p, wm, ws = m.Participant, m.WorkspaceMember, m.Workspace
    rm, ra, r = m.RoomMember, m.RoleAssignment, m.Role
    return {
        "participants.jsonl": select(*(getattr(p, c) for c in PROFILE_COLUMNS))
        .where(p.tenant_id == tenant_id)
        .order_by(p.id),
        "workspace_members.jsonl": select(
            wm.participant_id, wm.workspace_id, ws.slug, wm.role, wm.created_at
        )
        .join(ws, ws.id == wm.workspace_id)
        .where(wm.tenant_id == tenant_id)
        .order_by(wm.participant_id, wm.workspace_id),
        "room_members.jsonl": select(
            rm.participant_id, rm.room_id, rm.membership, rm.power_level, rm.joined_at
        )
        .where(rm.tenant_id == tenant_id)
        .order_by(rm.participant_id, rm.room_id),
        "role_assignments.jsonl": select(
            ra.participant_id,
            r.name,
            r.builtin,
            r.level,
            ra.workspace_id,
            ws.slug,
            ra.created_at,
            ra.created_by,
        )
        .join(r, r.id == ra.role_id)
        .outerjoin(ws, ws.id == ra.workspace_id)
        .where(ra.tenant_id == tenant_id)
        .order_by(ra.participant_id, ra.scope_key, r.name, ra.id),
    }


def stream(session: Session, stmt, *, batch_size: int = 2000) -> Iterator:
    return api.store.stream(session, stmt, batch_size=batch_size)
