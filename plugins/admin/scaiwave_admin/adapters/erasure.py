"""The SQL of `admin erase-participant`: the plan's counts, the scrub of the text columns that
may name the person, their events redacted in place, their media rows, and the last
transaction (memberships, roles, groups, the personal workspace, the tombstone).

Every statement is bounded: one person's events through the index (sender_id, stream_position),
their media through (tenant_id, uploader_id), ids in IN lists of at most ``ID_CHUNK``; the scrub
walks a table by primary key (keyset), a batch at a time. Nothing here commits (the use case
owns the transactions). The hand-over guards' look-ups live in ``participant_status.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import (
    Text,
    and_,
    delete,
    func,
    not_,
    null,
    or_,
    select,
    true,
    type_coerce,
    update,
)

from scaiwave_cli import api

m = api.store.models

TOMBSTONE = "Erased participant"
PERSONAL_TOMBSTONE = "Erased participant's workspace"
IMPORTED = "_imported_sender"  # an event imported on behalf of another author (room import)
ID_CHUNK = 500
MEMBERSHIPS = (  # what ends with the erasure: the participant's rows, deleted
    ("workspace_memberships", m.WorkspaceMember),
    ("room_memberships", m.RoomMember),
    ("role_assignments", m.RoleAssignment),
    ("group_memberships", m.ScaikeyGroupMember),
)


def _chunks(values, size=ID_CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _count(session, model, *where) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _like(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '/'``."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


# -- the plan -----------------------------------------------------------------------------------


def _imported(E):
    """True when the event's content carries ``_imported_sender`` (False without an event)."""
    content = func.coalesce(type_coerce(E.content, Text), "")
    return type_coerce(content, Text).like(_like(f'"{IMPORTED}"'), escape="/")


def counts(session, tenant_id: str, pid: str) -> dict:
    """What an erasure of ``pid`` touches: their events (of which relations, and imported ones
    that name another author and stay), the media rows they uploaded (but not an imported
    event's) and the files only those name, memberships, role assignments, ScaiKey group
    memberships."""
    E, M = m.Event, m.Media
    theirs = (E.tenant_id == tenant_id, E.sender_id == pid)
    files = files_only_theirs(session, tenant_id, pid)
    uploads = (
        select(func.count())
        .select_from(M)
        .outerjoin(E, and_(E.id == M.event_id, E.tenant_id == M.tenant_id))
        .where(M.tenant_id == tenant_id, M.uploader_id == pid, not_(_imported(E)))
    )
    return {
        "events": _count(session, E, *theirs),
        "relations": _count(session, E, *theirs, E.relation_type.is_not(None)),
        "imported_events_kept": _count(session, E, *theirs, _imported(E)),
        "media_rows": int(session.scalar(uploads) or 0),
        "media_files": len(files),
        "media_bytes": sum(files.values()),
        **{
            key: _count(session, model, model.tenant_id == tenant_id, model.participant_id == pid)
            for key, model in MEMBERSHIPS
        },
    }


def files_only_theirs(session, tenant_id: str, pid: str) -> dict:
    """sha256 -> size of the files that only ``pid``'s own uploads name (a row attached to an
    event imported on behalf of another author stays, and keeps its file)."""
    E, M = m.Event, m.Media
    joined = and_(E.id == M.event_id, E.tenant_id == M.tenant_id)
    mine = dict(
        session.execute(
            select(M.sha256, func.max(M.size))
            .outerjoin(E, joined)
            .where(M.tenant_id == tenant_id, M.uploader_id == pid, not_(_imported(E)))
            .group_by(M.sha256)
        ).all()
    )
    out = {}
    for chunk in _chunks(sorted(mine)):
        elsewhere = set(
            session.scalars(
                select(M.sha256)
                .outerjoin(E, joined)
                .where(
                    M.tenant_id == tenant_id,
                    M.sha256.in_(chunk),
                    or_(M.uploader_id.is_(None), M.uploader_id != pid, _imported(E)),
                )
                .distinct()
            )
        )
        out.update({sha: int(mine[sha] or 0) for sha in chunk if sha not in elsewhere})
    return out


def fingerprint(session, tenant_id: str, pid: str) -> tuple:
    """(their events, highest stream position, their media rows): changes when they post."""
    E, M = m.Event, m.Media
    events, top = session.execute(
        select(func.count(), func.max(E.stream_position)).where(
            E.tenant_id == tenant_id, E.sender_id == pid
        )
    ).one()
    return (events, top, _count(session, M, M.tenant_id == tenant_id, M.uploader_id == pid))


def personal_workspaces(session, tenant_id: str, pid: str) -> list[dict]:
    """The personal workspaces whose only member is ``pid``: id, slug, rooms."""
    wm, w = m.WorkspaceMember, m.Workspace
    rows = session.execute(
        select(w.id, w.slug)
        .join(wm, wm.workspace_id == w.id)
        .where(w.tenant_id == tenant_id, w.personal.is_(True), wm.participant_id == pid)
        .order_by(w.slug)
    ).all()
    out = []
    for ws_id, slug in rows:
        if _count(session, wm, wm.workspace_id == ws_id, wm.participant_id != pid):
            continue  # shared with someone: an ordinary workspace for the erasure
        rooms = _count(session, m.Room, m.Room.tenant_id == tenant_id, m.Room.workspace_id == ws_id)
        out.append({"id": ws_id, "slug": slug, "rooms": rooms})
    return out


def started_row(session, tenant_id: str, pid: str):
    """The audit row ``participant.erase-started`` of the erasure under way (the latest)."""
    a = m.AuditEntry
    return session.scalar(
        select(a)
        .where(
            a.tenant_id == tenant_id,
            a.action == "participant.erase-started",
            a.target == f"participant:{pid}",
        )
        .order_by(a.id.desc())
        .limit(1)
    )


# -- (0) the marker -----------------------------------------------------------------------------


def lock_participant(session, pid: str):
    p = m.Participant
    return session.scalar(select(p).where(p.id == pid).with_for_update())


def mark_started(session, pid: str, now) -> bool:
    """Inactive, ``erased_at`` set, held against the sync (compare and set on ``erased_at``)."""
    p = m.Participant
    result = session.execute(
        update(p)
        .where(p.id == pid, p.erased_at.is_(None))
        .values(
            active=False,
            operator_hold=True,
            erased_at=now,
            deactivated_at=func.coalesce(p.deactivated_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# -- (1) the scrub ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A table whose free-text columns may name a person outside their own rows."""

    table: str
    model: type
    text: tuple[str, ...]
    json: tuple[str, ...] = ()
    scope: str = "tenant"  # tenant | tenant+platform (tenant_id NULL too) | all (no tenant)


TARGETS = (
    Target("audit_log", m.AuditEntry, ("actor", "target"), ("details",), "tenant+platform"),
    Target("role_assignments", m.RoleAssignment, ("created_by",)),
    Target("rooms", m.Room, ("name", "topic")),
    Target("workspaces", m.Workspace, ("name", "description")),
    Target("roles", m.Role, ("description",)),  # the tenant's custom roles (names are keys)
    Target("sync_runs", m.SyncRun, ("error",), ("counts",), "all"),
    Target("scaikey_registrations", m.ScaikeyRegistration, ("contact_email", "name"), (), "all"),
)


class Scrubber:
    """Replaces ``terms`` (whole words, any case) by ``replacement`` in text and JSON values."""

    def __init__(self, terms, replacement: str):
        self.terms = [t for t in dict.fromkeys(terms) if t and t != replacement]
        self.replacement = replacement
        alternatives = "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))
        self.regex = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def text(self, value):
        if not isinstance(value, str) or not self.terms:
            return value
        return self.regex.sub(self.replacement, value)

    def value(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        return value

    def needles(self, *, json_column: bool) -> set[str]:
        """Lower-case substrings a row must contain to be worth reading (``LIKE``); in a JSON
        column also the escaped forms (``\\u00eb``) of the usual spellings."""
        out = {t.lower() for t in self.terms}
        if json_column:
            for t in self.terms:
                for spelling in (t, t.lower(), t.upper(), t.title()):
                    out.add(json.dumps(spelling)[1:-1].lower())
        return out


def _scope(target: Target, tenant_id: str):
    model = target.model
    if target.scope == "tenant":
        return model.tenant_id == tenant_id
    if target.scope == "tenant+platform":
        return or_(model.tenant_id == tenant_id, model.tenant_id.is_(None))
    return true()


def _prefilter(session, target: Target, scrubber: Scrubber):
    conditions = []
    for names, is_json in ((target.text, False), (target.json, True)):
        for name in names:
            column = api.folded(session, type_coerce(getattr(target.model, name), Text))
            column = type_coerce(column, Text)
            conditions += [
                column.like(_like(n), escape="/")
                for n in sorted(scrubber.needles(json_column=is_json))
            ]
    return or_(*conditions)


def scrub_candidates(session, target: Target, scrubber: Scrubber, tenant_id: str) -> int:
    """Rows of ``target`` the scrub will read (the plan's count: an upper bound)."""
    if not scrubber.terms:
        return 0
    return _count(
        session, target.model, _scope(target, tenant_id), _prefilter(session, target, scrubber)
    )


def scrub_batch(session, target: Target, scrubber: Scrubber, tenant_id: str, after, limit: int):
    """Scrub the next ``limit`` candidate rows after primary key ``after`` (None: from the
    start). Returns (last key read, rows read, rows changed)."""
    if not scrubber.terms:
        return None, 0, 0
    model = target.model
    pk = model.__mapper__.primary_key[0]
    names = (*target.text, *target.json)
    stmt = (
        select(pk, *(getattr(model, n) for n in names))
        .where(_scope(target, tenant_id), _prefilter(session, target, scrubber))
        .order_by(pk)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(pk > after)
    rows = session.execute(stmt).all()
    changed = 0
    for row in rows:
        values = {}
        for i, name in enumerate(names, start=1):
            old = row[i]
            if name in target.text:
                new = scrubber.text(old)
                length = getattr(model.__table__.c[name].type, "length", None)
                if isinstance(new, str) and length:
                    new = new[:length]
            else:
                new = scrubber.value(old)
            if new != old:
                values[name] = new
        if values:
            session.execute(
                update(model)
                .where(pk == row[0])
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return (rows[-1][0] if rows else None), len(rows), changed


# -- (2) events, (3) media ----------------------------------------------------------------------


def event_batch(session, tenant_id: str, pid: str, after: int, limit: int) -> list:
    """(id, stream_position, content) of ``pid``'s next ``limit`` events after ``after``."""
    E = m.Event
    return session.execute(
        select(E.id, E.stream_position, E.content)
        .where(E.sender_id == pid, E.stream_position > after, E.tenant_id == tenant_id)
        .order_by(E.stream_position)
        .limit(limit)
    ).all()


def is_imported(content) -> bool:
    return isinstance(content, dict) and IMPORTED in content


def redact_events(session, tenant_id: str, ids, now) -> int:
    """Content ``{}``, no edit history, ``redacted_at`` set (kept when already redacted)."""
    E = m.Event
    for chunk in _chunks(ids):
        session.execute(
            update(E)
            .where(E.tenant_id == tenant_id, E.id.in_(chunk))
            .values(
                content={},
                original_content=null(),
                redacted_at=func.coalesce(E.redacted_at, now),
            )
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def media_batch(session, tenant_id: str, pid: str, after: str, limit: int) -> list:
    """(id, sha256, content of its event or None) of the next ``limit`` media rows ``pid``
    uploaded, by id after ``after``."""
    E, M = m.Event, m.Media
    return session.execute(
        select(M.id, M.sha256, E.content)
        .outerjoin(E, and_(E.id == M.event_id, E.tenant_id == M.tenant_id))
        .where(M.tenant_id == tenant_id, M.uploader_id == pid, M.id > after)
        .order_by(M.id)
        .limit(limit)
    ).all()


def shas_named_elsewhere(session, tenant_id: str, shas, except_ids) -> set:
    """Those of ``shas`` that a media row of the tenant other than ``except_ids`` names."""
    M = m.Media
    found = set()
    for chunk in _chunks(sorted(shas)):
        q = select(M.sha256).where(M.tenant_id == tenant_id, M.sha256.in_(chunk))
        for ids in _chunks(except_ids):
            q = q.where(M.id.not_in(ids))
        found |= set(session.scalars(q.distinct()))
    return found


def delete_media_rows(session, tenant_id: str, ids) -> int:
    M = m.Media
    n = 0
    for chunk in _chunks(ids):
        n += session.execute(
            delete(M)
            .where(M.tenant_id == tenant_id, M.id.in_(chunk))
            .execution_options(synchronize_session=False)
        ).rowcount
    return n


# -- (4) the last transaction -------------------------------------------------------------------


def end_memberships(session, tenant_id: str, pid: str) -> dict:
    """Delete ``pid``'s workspace and room memberships, role assignments and ScaiKey group
    memberships; the numbers deleted."""
    out = {}
    for key, model in MEMBERSHIPS:
        out[key] = session.execute(
            delete(model)
            .where(model.tenant_id == tenant_id, model.participant_id == pid)
            .execution_options(synchronize_session=False)
        ).rowcount
    return out


def erased_slug(pid: str) -> str:
    return ("erased-" + re.sub(r"[^a-z0-9-]+", "-", pid.lower())).strip("-")[:63]


def retire_personal_workspace(session, tenant_id: str, ws: dict, pid: str) -> dict:
    """Without rooms: deleted (with any role assignment scoped to it). With rooms: kept (the
    rooms and the others' events in them stay consistent), renamed, no description."""
    w = m.Workspace
    rooms = _count(session, m.Room, m.Room.tenant_id == tenant_id, m.Room.workspace_id == ws["id"])
    if rooms == 0:
        ra = m.RoleAssignment
        session.execute(
            delete(ra)
            .where(ra.tenant_id == tenant_id, ra.workspace_id == ws["id"])
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(w)
            .where(w.tenant_id == tenant_id, w.id == ws["id"])
            .execution_options(synchronize_session=False)
        )
        return {"slug": ws["slug"], "action": "deleted"}
    slug = erased_slug(pid)
    session.execute(
        update(w)
        .where(w.tenant_id == tenant_id, w.id == ws["id"])
        .values(slug=slug, name=PERSONAL_TOMBSTONE, description=None)
        .execution_options(synchronize_session=False)
    )
    return {"slug": ws["slug"], "action": "kept", "renamed_to": slug, "rooms": rooms}


def tombstone(session, pid: str, now) -> None:
    """The profile becomes the tombstone (SPEC16 "Rules of the data")."""
    p = m.Participant
    session.execute(
        update(p)
        .where(p.id == pid)
        .values(
            display_name=TOMBSTONE,
            email=None,
            fqid=None,
            avatar_url=None,
            scaikey_user_id=None,
            active=False,
            operator_hold=False,
            deactivated_at=func.coalesce(p.deactivated_at, now),
            erased_at=func.coalesce(p.erased_at, now),
        )
        .execution_options(synchronize_session=False)
    )
