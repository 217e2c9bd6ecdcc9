"""The room plugin's SQL: every query of export, import, list and show, on the core's schema
(``scaiwave_cli.api.store.models``) through SQLAlchemy. Works on SQLite and MariaDB.

Tenant isolation: every room, event, media, workspace and participant query filters on
``tenant_id``; a room of another tenant is answered exactly like a missing room.

MariaDB streaming: ``api.store.stream`` holds an unbuffered server-side cursor, so the export
reads everything else it needs (senders, media) BEFORE it opens the event stream and runs no
other statement on that session until the stream is done. The import's writer thread is the
only user of its connection while events flow (see ``write_import``).
"""

from __future__ import annotations

import datetime as _dt
import os

from sqlalchemy import Text, case, func, select, type_coerce

from scaiwave_cli import api
from scaiwave_room import manifest as mf

m = api.store.models

REFUSED_EXPORT = ("sidekick", "bridge", "incognito", "federated")
# Participants of these kinds are not local people: their events travel as foreign senders.
FOREIGN_KINDS = ("federated", "shadow")


# -- look-ups ----------------------------------------------------------------------------------


def get_tenant(session, slug: str):
    tenant = session.scalar(select(m.Tenant).where(m.Tenant.slug == slug))
    if tenant is None:
        raise api.NotFoundError(
            f"tenant {slug!r} not found",
            code="SW_TENANT_NOT_FOUND",
            hint="`scaiwave admin list-tenants` lists the tenants",
        )
    return tenant


def get_workspace(session, tenant_id, ref: str):
    q = select(m.Workspace).where(m.Workspace.tenant_id == tenant_id)
    ws = session.scalar(q.where(m.Workspace.slug == ref))
    if ws is None:
        ws = session.scalar(q.where(m.Workspace.id == ref))
    if ws is None:
        raise api.NotFoundError(
            f"workspace {ref!r} not found in this tenant",
            code="SW_WORKSPACE_NOT_FOUND",
            hint="give the workspace's slug or id (`scaiwave room list --tenant …` shows them)",
        )
    return ws


def get_room(session, tenant_id, room_id: str):
    room = session.scalar(select(m.Room).where(m.Room.id == room_id, m.Room.tenant_id == tenant_id))
    if room is None:
        raise api.NotFoundError(
            f"room {room_id!r} not found",
            code="SW_ROOM_NOT_FOUND",
            hint="check the id and --tenant (`scaiwave room list --tenant …`)",
        )
    return room


def room_kind(room) -> str:
    """The room's type, or ``federated`` for a federated room of any type."""
    if room.federated or room.scope == "federated":
        return "federated"
    return room.type


def refuse_export(room) -> None:
    kind = room_kind(room)
    if kind in REFUSED_EXPORT:
        raise api.DomainError(
            f"room {room.id} is a {kind} room, which cannot be exported",
            code="SW_ROOM_EXPORT_REFUSED",
            hint="sidekick, bridge, incognito and federated rooms never leave the server",
        )


def require_importer(session, tenant, workspace, participant_ref: str):
    """The ``--as`` participant: of the tenant, active, ``create_note`` in the workspace
    (``api.permissions.check``: workspace owner/editor rows, or a role granting it)."""
    participant = session.scalar(
        select(m.Participant).where(
            m.Participant.id == participant_ref, m.Participant.tenant_id == tenant.id
        )
    )
    if participant is None:
        raise api.PermissionDenied(
            f"participant {participant_ref!r} does not belong to tenant {tenant.slug!r}",
            code="SW_AUTH_INSUFFICIENT_PERMISSION",
            hint="--as must be a participant of the target tenant who may create rooms",
        )
    decision = api.permissions.check(
        session,
        tenant_id=tenant.id,
        participant_id=participant.id,
        permission="create_note",
        workspace_id=workspace.id,
    )
    if not decision.allowed:
        raise api.PermissionDenied(
            f"participant {participant_ref!r} may not create rooms in workspace "
            f"{workspace.slug!r}: {decision.reason or 'create_note not held'}",
            code="SW_AUTH_INSUFFICIENT_PERMISSION",
            hint="make the participant an owner or editor of the workspace "
            "(`scaiwave role …`), or import as someone who is",
            details={"permission": "create_note", "chain": list(decision.chain)},
        )
    return participant


def check_room_capacity(session, tenant) -> None:
    """``SW_ROOM_CAPACITY`` (exit 1) when the tenant already has ``max_rooms`` rooms that are
    not closed."""
    if tenant.max_rooms is None:
        return
    used = session.scalar(
        select(func.count())
        .select_from(m.Room)
        .where(m.Room.tenant_id == tenant.id, m.Room.state != "closed")
    )
    if used >= tenant.max_rooms:
        raise api.DomainError(
            f"tenant {tenant.slug!r} has {used} rooms; its limit is {tenant.max_rooms}",
            code="SW_ROOM_CAPACITY",
            hint="close or delete rooms, or raise the tenant's max_rooms",
        )


# -- list / show -------------------------------------------------------------------------------


def _event_counts(session, tenant_id, room_ids):
    if not room_ids:
        return {}
    rows = session.execute(
        select(m.Event.room_id, func.count())
        .where(m.Event.tenant_id == tenant_id, m.Event.room_id.in_(room_ids))
        .group_by(m.Event.room_id)
    )
    return dict(rows.all())


def list_rooms(session, tenant_id, *, workspace_id=None, room_type=None, state=None) -> list:
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
    return [
        {
            "id": room.id,
            "name": room.name,
            "type": room.type,
            "state": room.state,
            "workspace": ws_slug,
            "events": counts.get(room.id, 0),
            "exportable": room_kind(room) not in REFUSED_EXPORT,
            "created_at": room.created_at,
        }
        for room, ws_slug in rows
    ]


def room_details(session, room) -> dict:
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
    kind = room_kind(room)
    return {
        "id": room.id,
        "name": room.name,
        "topic": room.topic,
        "type": room.type,
        "state": room.state,
        "scope": room.scope,
        "federated": bool(room.federated),
        "workspace": ws.slug if ws else None,
        "creator_id": room.creator_id,
        "created_at": room.created_at,
        "events": events,
        "first_event_at": first,
        "last_event_at": last,
        "members": members,
        "media": media,
        "media_bytes": int(media_bytes or 0),
        "do_not_index": bool(room.do_not_index),
        "exportable": kind not in REFUSED_EXPORT,
        "export_refused_because": f"{kind} room" if kind in REFUSED_EXPORT else None,
    }


# -- export ------------------------------------------------------------------------------------


def federation_signer(session, settings):
    """The server's active federation Ed25519 key (``api.fedkeys``) as a bundle signer; the
    key id is the row's id. ``SW_FEDERATION_KEY_MISSING`` (exit 1) when there is none. The
    private key is never printed."""
    from scaiwave_room.bundle import Ed25519Signer

    row = api.fedkeys.active_key(session)
    signer = Ed25519Signer(api.fedkeys.private_key(row, settings), key_id=row.id)
    if signer.public_key_raw != api.fedkeys.unb64(row.public_key):
        raise api.ConfigError(
            f"federation key {row.id}: the stored private key does not match its public key",
            code="SW_FEDERATION_KEY_INVALID",
            hint="rotate the key with `scaiwave admin federation key rotate`",
        )
    return signer


def participant_fqid(participant, server_name: str) -> str:
    """``@<id>:<server>`` for a local participant; a foreign one's own ``fqid`` when known."""
    if participant is not None and participant.fqid:
        return participant.fqid
    return f"@{participant.id}:{server_name}"


def _imported_block(value):
    """A valid ``_imported_sender`` block (a dict with a usable ``fqid``) or None."""
    if isinstance(value, dict):
        fqid = value.get("fqid")
        if isinstance(fqid, str) and 0 < len(fqid) <= mf.MAX_ID:
            return value
    return None


class ExportPlan:
    """What the export needs besides the events themselves, read before the event stream opens:
    the manifest header, the media list, each sender's FQID, each event's media and the media
    id -> sha256 map (``content.media_id`` travels as ``sha256:<hex>``)."""

    def __init__(self, header, media, fqids, media_of, media_ids):
        self.server = header["source"]["server_name"]
        self.header = header
        self.media = media
        self.fqids = fqids
        self.media_of = media_of
        self.media_ids = media_ids


def plan_export(session, settings, tenant, room) -> ExportPlan:
    import json

    from scaiwave_room import bundle as fmt

    server = settings.server_name
    text = type_coerce(m.Event.content, Text)
    mentions = text.like("%!_imported!_sender%", escape="!")
    block = case((mentions, func.json_extract(text, "$._imported_sender")), else_=None)
    pairs = session.execute(
        select(m.Event.sender_id, block)
        .where(m.Event.tenant_id == tenant.id, m.Event.room_id == room.id)
        .distinct()
    ).all()
    senders: dict = {}
    local_ids = set()
    foreign = []
    for sender_id, raw in pairs:
        parsed = None
        if isinstance(raw, str):
            try:
                parsed = _imported_block(json.loads(raw))
            except ValueError:
                parsed = None
        if parsed is None:
            local_ids.add(sender_id)
        else:
            foreign.append((parsed["fqid"], json.dumps(parsed, sort_keys=True), parsed))
    participants = {}
    if local_ids:
        participants = {
            p.id: p
            for p in session.scalars(
                select(m.Participant).where(
                    m.Participant.tenant_id == tenant.id, m.Participant.id.in_(sorted(local_ids))
                )
            )
        }
    fqids = {}
    for pid in sorted(local_ids):
        p = participants.get(pid)
        key = participant_fqid(p, server) if p is not None else f"@{pid}:{server}"
        fqids[pid] = key
        senders[key] = {
            "id": key,
            "display_name": p.display_name if p is not None else None,
            "avatar_url": p.avatar_url if p is not None else None,
            "local": p is not None and p.kind not in FOREIGN_KINDS,
        }
    # one block per FQID, the same whatever order the database returns them in
    for fqid, _, parsed in sorted(foreign, key=lambda f: (f[0], f[1])):
        senders.setdefault(
            fqid,
            {
                "id": fqid,
                "display_name": _str_or_none(parsed.get("display_name"), 200),
                "avatar_url": _str_or_none(parsed.get("avatar_url"), 1024),
                "local": False,
            },
        )

    media: dict = {}
    media_of: dict = {}
    media_ids: dict = {}
    for media_id, event_id, sha, name, size, content_type in session.execute(
        select(
            m.Media.id,
            m.Media.event_id,
            m.Media.sha256,
            m.Media.name,
            m.Media.size,
            m.Media.content_type,
        )
        .where(m.Media.tenant_id == tenant.id, m.Media.room_id == room.id)
        .order_by(m.Media.sha256, m.Media.id)
    ):
        media.setdefault(
            sha, {"sha256": sha, "name": name, "size": size, "content_type": content_type}
        )
        media_ids[media_id] = sha
        if event_id is not None:
            shas = media_of.setdefault(event_id, [])
            if sha not in shas:
                shas.append(sha)

    epoch = fmt.source_date_epoch()
    if epoch is not None:
        exported = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
    else:
        # never the wall clock: the room's last event (or its creation) dates the export
        last = session.scalar(
            select(m.Event.created_at)
            .where(m.Event.tenant_id == tenant.id, m.Event.room_id == room.id)
            .order_by(m.Event.stream_position.desc())
            .limit(1)
        )
        exported = max(filter(None, [last, room.created_at]))
    header = {
        "format": fmt.FORMAT,
        "format_version": fmt.FORMAT_VERSION,
        "exported_at": mf.format_time(exported),
        "source": {"server_name": server, "room_id": room.id, "tenant": tenant.slug},
        "room": {
            "name": room.name,
            "topic": room.topic,
            "type": room.type,
            "scope": room.scope,
            "created_at": mf.format_time(room.created_at),
            "federated": bool(room.federated),
        },
        "senders": sorted(senders.values(), key=lambda s: s["id"]),
        "media": list(media.values()),
    }
    return ExportPlan(header, list(media.values()), fqids, media_of, media_ids)


def _str_or_none(value, limit: int):
    """A string the manifest accepts (the store's column width), else None."""
    if not isinstance(value, str):
        return None
    return value[:limit]


_EVENT_COLUMNS = (
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


def iter_manifest_events(session, tenant, room, plan: ExportPlan, *, batch_size=2000):
    """Every event of the room as a manifest record, in stream_position order, read
    ``batch_size`` at a time through ``api.store.stream`` (plain column tuples, no ORM
    objects). Nothing else may run on ``session`` until this generator is exhausted."""
    table = m.Event.__table__
    stmt = (
        select(*[table.c[name] for name in _EVENT_COLUMNS])
        .where(table.c.tenant_id == tenant.id, table.c.room_id == room.id)
        .order_by(table.c.stream_position)
    )
    for row in api.store.stream(session, stmt, batch_size=batch_size):
        yield to_manifest_event(row, plan)


_time = mf.format_time


def to_manifest_event(row, plan: ExportPlan) -> dict:
    (
        event_id,
        sender_id,
        event_type,
        content,
        original,
        origin_ts,
        created_at,
        edited_at,
        redacted_at,
        relation_type,
        relates_to_id,
    ) = row
    content = content if isinstance(content, dict) else {}
    block = _imported_block(content.get("_imported_sender"))
    if block is not None:
        sender = block["fqid"]
        content = {k: v for k, v in content.items() if k != "_imported_sender"}
    else:
        sender = plan.fqids.get(sender_id) or f"@{sender_id}:{plan.server}"
    media = plan.media_of.get(event_id, ())
    if plan.media_ids and not mf.MEDIA_KEYS.isdisjoint(content):
        # media ids mean nothing on another server: the bundle names media by sha256
        media = list(media)
        content = dict(content)
        for key in sorted(mf.MEDIA_KEYS):
            value = content.get(key)
            sha = plan.media_ids.get(value) if isinstance(value, str) else None
            if sha is not None:
                content[key] = mf.MEDIA_REF_PREFIX + sha
                if sha not in media:
                    media.append(sha)
    return {
        "id": event_id,
        "type": event_type,
        "sender": sender,
        "origin_ts": origin_ts,
        "created_at": _time(created_at),
        "content": content,
        "original_content": original if isinstance(original, dict) else None,
        "edited_at": _time(edited_at),
        "redacted_at": _time(redacted_at),
        "relates_to": {"rel_type": relation_type or "relation", "event_id": relates_to_id}
        if relates_to_id
        else None,
        "media": list(media),
    }


# -- import ------------------------------------------------------------------------------------


class RawInsert:
    """A fast executemany into one table through the session's own connection (same
    transaction). Rows are tuples in ``columns`` order; the SQL is built once; bind processors
    run only where the dialect has one (e.g. datetimes as text on SQLite); ``text_columns``
    take the text the caller made (JSON text, ``YYYY-MM-DD HH:MM:SS.ffffff`` times) as they
    are. Table columns the caller does not give get their scalar default."""

    def __init__(self, session, table, columns, *, text_columns=("content", "original_content")):
        conn = session.connection()
        dialect = conn.dialect
        self.conn = conn
        given = list(columns)
        extra = [c for c in table.columns if c.name not in given]
        self.extra = tuple(
            c.default.arg
            if c.default is not None and getattr(c.default, "is_scalar", False)
            else None
            for c in extra
        )
        names = given + [c.name for c in extra]
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        self.procs = []
        for i, name in enumerate(given):
            if name in text_columns:
                continue
            proc = _fast_processor(table.c[name].type.bind_processor(dialect))
            if proc is not None:
                self.procs.append((i, proc))

    def __call__(self, rows: list[tuple]) -> None:
        if self.procs or self.extra:
            procs, extra = self.procs, self.extra
            converted = []
            for row in rows:
                if procs:
                    row = list(row)
                    for i, proc in procs:
                        value = row[i]
                        if value is not None:
                            row[i] = proc(value)
                    row = tuple(row)
                converted.append(row + extra if extra else row)
            rows = converted
        self.conn.exec_driver_sql(self.sql, rows)


_SAMPLES = (
    _dt.datetime(2026, 1, 2, 3, 4, 5, 6),
    _dt.datetime(1999, 12, 31, 23, 59, 59),
    _dt.datetime(2026, 11, 24, 0, 0, 0, 999999),
)


def _iso_space(value):
    return value.isoformat(" ", "microseconds")


def _fast_processor(proc):
    """Drop a bind processor that changes nothing the driver cares about (booleans on SQLite),
    and replace SQLite's datetime formatting by the C ``isoformat`` that writes the same text."""
    if proc is None:
        return None
    try:
        if proc(True) == 1 and proc(False) == 0:
            return None
    except Exception:  # not a boolean processor
        pass
    try:
        if all(proc(v) == _iso_space(v) for v in _SAMPLES):
            return _iso_space
    except Exception:  # not a datetime processor
        pass
    return proc


class BackgroundWriter:
    """Runs ``write(batch)`` in one helper thread so parsing the next batch overlaps the
    database's work on this one (sqlite3 and PyMySQL release the GIL while the database works).
    At most ``depth`` batches wait; ``close()`` drains and re-raises the writer's error; the
    connection is never used by two threads at once (the caller touches it only before the
    first batch and after ``close()``)."""

    def __init__(self, write, depth: int = 2):
        import queue
        import threading

        self._write = write
        self._queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._discard = False
        self._thread = threading.Thread(target=self._run, name="room-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            rows = self._queue.get()
            if rows is None:
                return
            if self._error is None and not self._discard:
                try:
                    self._write(rows)
                except BaseException as exc:  # handed to the caller in put()/close()
                    self._error = exc

    def __call__(self, rows) -> None:
        if self._error is not None:
            self.close()
        self._queue.put(rows)

    def close(self, discard: bool = False) -> None:
        """Wait for the writer; ``discard`` drops the batches still waiting (on an error)."""
        self._discard = self._discard or discard
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None and not discard:
            error, self._error = self._error, None
            raise error


def _hook(point: str) -> None:
    """Test hook: ``SCAIWAVE_ROOM_TEST_HOOK=<point>:<file>`` makes the import create <file> at
    <point> ("events": in the writer thread once the first batch of rows is inserted; "media":
    after the media files, just before COMMIT) and then wait there until it is killed. Used by
    the kill -9 tests; inert otherwise (one environment lookup per batch)."""
    spec = os.environ.get("SCAIWAVE_ROOM_TEST_HOOK")
    if not spec or not spec.startswith(point + ":"):
        return
    import time

    with open(spec.split(":", 1)[1], "w") as fh:
        fh.write(str(os.getpid()))
    while True:  # pragma: no cover - ends with the process
        time.sleep(0.05)


def write_import(app, *, opened, limits, target, progress=None, batch_size=2000):
    """Validate and write in one pass, inside one transaction: the room row is added when the
    header passed, events and their media rows as they pass (by one writer thread, which also
    draws the stream positions), the audit row after the last event, media files last; then
    COMMIT. Any error rolls everything back and removes the media files this run created.
    Returns (report, result)."""
    from scaiwave_room.importer import EVENT_COLUMNS, EVENT_TEXT_COLUMNS, EventSink

    media_store = app.store.media
    created: list[str] = []  # sha256 of the media files this run wrote
    now = api.store.utcnow()
    room_id = api.store.new_id("room")
    tenant_id = target["tenant_id"]
    creator_id = target["creator_id"]
    try:
        with app.store.transaction() as session:
            insert_events = RawInsert(
                session, m.Event.__table__, EVENT_COLUMNS, text_columns=EVENT_TEXT_COLUMNS
            )
            media_table = m.Media.__table__
            connection = session.connection()
            positions = api.store.next_stream_positions(session)

            def write(batch):
                # the writer thread: the only user of the connection while events flow
                events, media_rows = batch
                insert_events([row + (next(positions),) for row in events])
                if media_rows:
                    connection.execute(media_table.insert(), media_rows)
                _hook("events")  # tests: park here once the first batch is in

            writer = BackgroundWriter(write)
            sink = EventSink(
                room_id=room_id,
                tenant_id=tenant_id,
                creator_id=creator_id,
                flush=writer,
                batch_size=batch_size,
                progress=progress,
            )

            def on_header(header):
                sink.header(header)
                session.add(
                    m.Room(
                        id=room_id,
                        tenant_id=tenant_id,
                        workspace_id=target["workspace_id"],
                        name=header.room.name,
                        topic=header.room.topic,
                        type=header.room.type,
                        scope=header.room.scope,
                        state="open",
                        creator_id=creator_id,
                        created_at=now,
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

            try:
                report = mf.validate(opened, limits, on_event=sink.event, on_header=on_header)
                sink.flush()
            except BaseException:
                writer.close(discard=True)
                raise
            writer.close()
            media_refs = {ref.sha256: ref for ref in report.header.media}
            api.audit.record(
                session,
                app.actor,
                "room.import",
                f"room:{room_id}",
                tenant_id=tenant_id,
                details={
                    "workspace_id": target["workspace_id"],
                    "creator_id": creator_id,
                    "events": sink.count,
                    "media": len(media_refs),
                    "source_room": report.header.source.room_id,
                    "source_server": report.header.source.server_name,
                    "bundle_signed": report.signed,
                },
            )
            session.flush()
            for sha in sorted(media_refs):
                if media_store.exists(tenant_id, sha):
                    continue
                with opened.open_media(sha) as src:
                    created.append(sha)
                    media_store.put_stream(tenant_id, src, expected_sha256=sha)
            _hook("media")
    except BaseException as exc:
        for sha in created:
            try:
                os.unlink(media_store.path_for(tenant_id, sha))
            except OSError:
                pass
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            # Rows go in before the whole manifest is checked: a bundle that repeats an event
            # id hits the primary key first. Name the bundle's defect if it has one.
            mf.validate(opened, limits)
            raise api.DomainError(
                "the import collided with a concurrent write (stream positions or ids); "
                "nothing was written",
                code="SW_CONFLICT",
                hint="run the import again",
            ) from None
        raise
    result = {
        "room_id": room_id,
        "events": sink.count,
        "media": len(report.header.media),
        "media_files_written": len(created),
    }
    return report, result
