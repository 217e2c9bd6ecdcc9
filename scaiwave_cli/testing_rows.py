"""Rows for tests: ``Factory`` behind the ``factory`` fixture of ``scaiwave_cli.testing``.

Readable ids from names (``tnt-acme``, ``prt-ada``, ``ws-acme-design``, ``room-<n>``), each call
one committed transaction, the ORM row returned (expired attributes reload on access).
"""

from __future__ import annotations

import itertools
import time

from scaiwave_cli import store as st
from scaiwave_cli.store import models as m


class Factory:
    def __init__(self, store):
        self.store = store
        self._rooms = itertools.count(1)
        self._events = itertools.count(1)

    def _add(self, *rows):
        with self.store.transaction() as session:
            session.add_all(rows)
        return rows[0]

    def partner(self, slug: str, **fields):
        fields.setdefault("name", slug.title())
        fields.setdefault("scaikey_partner_id", f"ptn_{slug}")
        return self._add(m.Partner(id=f"ptn-{slug}", slug=slug, **fields))

    def tenant(self, slug: str, *, partner=None, **fields):
        """A tenant; ``partner`` is a Partner row or a partner slug (made when missing)."""
        if isinstance(partner, str):
            with self.store.transaction() as session:
                found = session.get(m.Partner, f"ptn-{partner}")
            partner = found or self.partner(partner)
        fields.setdefault("name", slug.title())
        fields.setdefault("scaikey_tenant_id", f"tnt_{slug}")
        if partner is not None:
            fields["partner_id"] = partner.id
        return self._add(m.Tenant(id=f"tnt-{slug}", slug=slug, **fields))

    def participant(self, tenant, name: str, *, email=None, kind="human", active=True, **fields):
        fields.setdefault("display_name", name.title())
        fields.setdefault("scaikey_user_id", f"usr_{name}" if kind == "human" else None)
        return self._add(
            m.Participant(
                id=f"prt-{name}",
                tenant_id=tenant.id,
                kind=kind,
                email=email if email is not None else f"{name}@{tenant.slug}.test",
                active=active,
                **fields,
            )
        )

    def workspace(self, tenant, slug: str, *, owner=None, **fields):
        fields.setdefault("name", slug.title())
        ws = m.Workspace(id=f"ws-{tenant.slug}-{slug}", tenant_id=tenant.id, slug=slug, **fields)
        rows = [ws]
        if owner is not None:
            rows.append(
                m.WorkspaceMember(
                    workspace_id=ws.id, participant_id=owner.id, tenant_id=tenant.id, role="owner"
                )
            )
        with self.store.transaction() as session:
            session.add(ws)
            session.flush()
            session.add_all(rows[1:])
        return ws

    def room(self, tenant, workspace, *, name="Room", members=(), **fields):
        """A room; ``members`` join it (the first, or ``creator=``, is its creator)."""
        creator = fields.pop("creator", None) or (members[0] if members else None)
        room = m.Room(
            id=fields.pop("id", f"room-{next(self._rooms)}"),
            tenant_id=tenant.id,
            workspace_id=workspace.id,
            name=name,
            creator_id=creator.id if creator is not None else None,
            **fields,
        )
        with self.store.transaction() as session:
            session.add(room)
            session.flush()
            for member in members:
                session.add(
                    m.RoomMember(
                        room_id=room.id,
                        participant_id=member.id,
                        tenant_id=tenant.id,
                        power_level=100 if member is creator else 0,
                    )
                )
        return room

    def event(self, room, sender, *, body="hello", event_type="swp.message", **fields):
        """One event at the next stream position (``content`` defaults to ``{"body": body}``)."""
        with self.store.transaction() as session:
            position = next(st.next_stream_positions(session, block=1))
            n = next(self._events)
            event = m.Event(
                id=fields.pop("id", f"evt-{n}"),
                tenant_id=room.tenant_id,
                room_id=room.id,
                sender_id=sender.id,
                event_type=event_type,
                content=fields.pop("content", {"body": body}),
                stream_position=position,
                origin_ts=fields.pop("origin_ts", int(time.time() * 1000)),
                **fields,
            )
            session.add(event)
        return event
