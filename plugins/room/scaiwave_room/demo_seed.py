"""Seed a small room for ``plugins/room/demo.sh`` (no CLI command creates rooms or events).

``python -m scaiwave_room.demo_seed`` creates, in the configured store (the embedded SQLite by
default), tenants ``roomdemo-src`` and ``roomdemo-dst`` (workspace ``general`` each, participant
``prt-roomdemo-<x>`` as its editor), a group room in the source tenant with a few events as the
product stores them (an edit kept in place, a reaction, a redaction, an attachment, a threaded
reply, an author kept from an earlier import, sidekick metadata, a read marker) and a sidekick
room; and, when the server has no active federation key yet, one (what
``scaiwave admin federation key generate`` would make). It prints one JSON object: the room
ids and the active key's id and public key. Idempotent: a second run prints the same.
"""

from __future__ import annotations

import datetime as dt
import json

from scaiwave_cli import api

ROOM = "room-roomdemo-design"
HELPER_ROOM = "room-roomdemo-helper"
SRC, DST = "roomdemo-src", "roomdemo-dst"


def _tenants(s, m) -> None:
    from sqlalchemy import select

    for slug in (SRC, DST):
        if s.scalar(select(m.Tenant.id).where(m.Tenant.slug == slug)) is not None:
            continue
        tenant_id, ws_id, pid = f"tnt-{slug}", f"ws-{slug}", f"prt-{slug}"
        s.add(m.Tenant(id=tenant_id, slug=slug, name=slug))
        s.flush()
        s.add(m.Workspace(id=ws_id, tenant_id=tenant_id, slug="general", name="General"))
        s.add(m.Participant(id=pid, tenant_id=tenant_id, display_name=f"{slug} editor"))
        s.flush()
        s.add(
            m.WorkspaceMember(
                workspace_id=ws_id, participant_id=pid, tenant_id=tenant_id, role="editor"
            )
        )
        s.flush()


def _room(s, m, store) -> None:
    tenant_id, creator = f"tnt-{SRC}", f"prt-{SRC}"
    base = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.UTC)
    for room_id, kind, name in (
        (ROOM, "group", "Design review"),
        (HELPER_ROOM, "sidekick", "AI helper"),
    ):
        s.add(
            m.Room(
                id=room_id,
                tenant_id=tenant_id,
                workspace_id=f"ws-{SRC}",
                name=name,
                topic="weekly",
                type=kind,
                creator_id=creator,
                created_at=base,
            )
        )
    s.flush()
    data = b"%PDF-1.4 demo attachment\n" * 40
    sha, size = store.media.put_bytes(tenant_id, data)
    media_id = f"med-{ROOM}-3"
    e = [f"{ROOM}-e{i}" for i in range(9)]
    bob = {"display_name": "Bob", "avatar_url": None, "fqid": "@bob:globex.example"}
    specs = [
        # (type, content, original_content, redacted, relation)
        ("swp.room.message", {"msgtype": "swp.text", "body": "Kick-off at 10"}, None, False, None),
        ("swp.room.message", {"msgtype": "swp.text", "body": "Agenda attached"},
         {"msgtype": "swp.text", "body": "Agenda atached"}, False, None),
        ("swp.reaction", {"key": "👍"}, None, False, ("reaction", e[0])),
        ("swp.room.message", {"msgtype": "swp.media", "body": "agenda.pdf", "media_id": media_id},
         None, False, None),
        ("swp.room.message", {}, None, True, None),
        ("swp.room.message", {"msgtype": "swp.text", "body": "Joining from Globex",
                              "_imported_sender": bob}, None, False, None),
        ("swp.room.message", {"msgtype": "swp.text", "body": "Summary ready",
                              "sidekick": {"model": "demo"}}, None, False, None),
        ("swp.room.message", {"msgtype": "swp.text", "body": "Agreed", "reply_to_event_id": e[1]},
         None, False, None),
        ("swp.read_marker", {"event_id": e[7]}, None, False, None),
    ]  # fmt: skip
    positions = api.store.next_stream_positions(s)
    for i, (kind, content, original, redacted, rel) in enumerate(specs):
        at = base + dt.timedelta(minutes=i)
        s.add(
            m.Event(
                id=e[i],
                tenant_id=tenant_id,
                room_id=ROOM,
                sender_id=creator,
                event_type=kind,
                content=content,
                original_content=original,
                stream_position=next(positions),
                origin_ts=int(at.timestamp() * 1000),
                created_at=at,
                edited_at=at + dt.timedelta(minutes=30) if original else None,
                redacted_at=at + dt.timedelta(minutes=45) if redacted else None,
                relation_type=rel[0] if rel else None,
                relates_to_id=rel[1] if rel else None,
            )
        )
    s.flush()
    s.add(
        m.Media(
            id=media_id,
            tenant_id=tenant_id,
            sha256=sha,
            name="agenda.pdf",
            size=size,
            content_type="application/pdf",
            storage_key=api.store.media.storage_key(tenant_id, sha),
            room_id=ROOM,
            event_id=e[3],
            uploader_id=creator,
        )
    )


def seed(store, settings) -> dict:
    m = api.store.models
    with store.transaction() as s:
        _tenants(s, m)
        if s.get(m.Room, ROOM) is None:
            _room(s, m, store)
        try:
            key = api.fedkeys.active_key(s)
        except api.DomainError:
            s.add(m.FederationKey(active_slot=1, **api.fedkeys.new_keypair(settings)))
            s.flush()
            key = api.fedkeys.active_key(s)
        return {
            "room": ROOM,
            "helper_room": HELPER_ROOM,
            "key_id": key.id,
            "public_key": key.public_key,
        }


def main() -> None:
    settings = api.load_settings({})
    store = api.store.open_store(settings)
    try:
        print(json.dumps(seed(store, settings)))
    finally:
        store.close()


if __name__ == "__main__":
    main()
