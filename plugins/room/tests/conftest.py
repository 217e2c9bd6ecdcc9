"""Fixtures of the room plugin's database tests: a source tenant with rooms, a target tenant
with an importer, and helpers to count what is in the database and the media store."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from scaiwave_room.testing import DB_SERVER as SERVER

from scaiwave_cli import api


class World:
    """Seeds and inspects one database (both engines through ``db_url``)."""

    def __init__(self, cli, store, db_url):
        self.cli = cli
        self.store = store
        self.db_url = db_url
        self.m = api.store.models
        cli.env.update({"SCAIWAVE_DB_URL": db_url, "SCAIWAVE_SERVER_NAME": SERVER})
        self.settings = api.load_settings(
            {},
            environ={
                "SCAIWAVE_HOME": str(cli.home),
                "SCAIWAVE_DB_URL": db_url,
                "SCAIWAVE_SERVER_NAME": SERVER,
            },
        )
        self._n = 0

    # -- seeding --------------------------------------------------------------------------------
    def tenant(self, slug, *, workspace="general", participant=None, role="editor", **fields):
        """A tenant, a workspace and a participant holding ``role`` there (None: no role)."""
        m = self.m
        participant = participant or f"prt-{slug}"
        tenant_id = f"tnt-{slug}"
        ws_id = f"ws-{slug}-{workspace}"
        with self.store.transaction() as s:
            s.add(
                m.Tenant(
                    id=tenant_id,
                    slug=slug,
                    name=slug.title(),
                    scaikey_tenant_id=f"sk-{slug}",
                    **fields,
                )
            )
            s.flush()
            s.add(m.Workspace(id=ws_id, tenant_id=tenant_id, slug=workspace, name=workspace))
            s.add(
                m.Participant(
                    id=participant,
                    tenant_id=tenant_id,
                    display_name=f"{slug} person",
                    active=True,
                )
            )
            s.flush()
            if role:
                s.add(
                    m.WorkspaceMember(
                        workspace_id=ws_id,
                        participant_id=participant,
                        tenant_id=tenant_id,
                        role=role,
                    )
                )
        return {"tenant_id": tenant_id, "workspace_id": ws_id, "participant_id": participant}

    def participant(
        self,
        tenant_slug,
        pid,
        *,
        role=None,
        workspace="general",
        active=True,
        kind="human",
        fqid=None,
        display_name=None,
    ):
        m = self.m
        tenant_id = f"tnt-{tenant_slug}"
        with self.store.transaction() as s:
            s.add(
                m.Participant(
                    id=pid,
                    tenant_id=tenant_id,
                    display_name=display_name or pid,
                    active=active,
                    kind=kind,
                    fqid=fqid,
                )
            )
            s.flush()
            if role:
                s.add(
                    m.WorkspaceMember(
                        workspace_id=f"ws-{tenant_slug}-{workspace}",
                        participant_id=pid,
                        tenant_id=tenant_id,
                        role=role,
                    )
                )
        return pid

    def media_file(self, tenant_id, data: bytes) -> str:
        sha, _ = self.store.media.put_bytes(tenant_id, data)
        return sha

    def federation_key(self, *, encrypted_with=None):
        """An active federation key (``api.fedkeys``); returns (row id, public key base64)."""
        settings = self.settings
        if encrypted_with:
            settings = api.load_settings(
                {},
                environ={
                    "SCAIWAVE_HOME": str(self.cli.home),
                    "SCAIWAVE_KEY_ENCRYPTION_KEY": encrypted_with,
                },
            )
        values = api.fedkeys.new_keypair(settings)
        with self.store.transaction() as s:
            s.add(self.m.FederationKey(active_slot=1, **values))
        return values["id"], values["public_key"]

    def room(
        self,
        tenant_slug,
        *,
        room_id=None,
        type="group",
        events=(),
        federated=False,
        scope=None,
        name="Design review",
    ):
        """A room with ``events`` (dicts: content/type/relates/original/redacted/media/sender/
        imported/media_ref)."""
        m = self.m
        self._n += 1
        room_id = room_id or f"room-{tenant_slug}-{self._n}"
        tenant_id = f"tnt-{tenant_slug}"
        base = dt.datetime(2026, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
        with self.store.transaction() as s:
            s.add(
                m.Room(
                    id=room_id,
                    tenant_id=tenant_id,
                    workspace_id=f"ws-{tenant_slug}-general",
                    name=name,
                    topic="weekly",
                    type=type,
                    state="open",
                    scope=scope,
                    federated=federated,
                    creator_id=f"prt-{tenant_slug}",
                    created_at=base,
                )
            )
            s.flush()
            positions = api.store.next_stream_positions(s)
            for i, spec in enumerate(events):
                content = dict(spec.get("content", {"msgtype": "swp.text", "body": f"m{i}"}))
                if spec.get("imported"):
                    content["_imported_sender"] = spec["imported"]
                if spec.get("media_ref"):
                    content["media_id"] = f"med-{room_id}-{i}-0"
                if spec.get("reply_to") is not None:
                    content["reply_to_event_id"] = f"{room_id}-e{spec['reply_to']}"
                s.add(
                    m.Event(
                        id=f"{room_id}-e{i}",
                        tenant_id=tenant_id,
                        room_id=room_id,
                        sender_id=spec.get("sender", f"prt-{tenant_slug}"),
                        event_type=spec.get("type", "swp.room.message"),
                        content=content,
                        original_content=spec.get("original"),
                        stream_position=next(positions),
                        origin_ts=1767258000000 + i * 1000,
                        created_at=base + dt.timedelta(seconds=i),
                        edited_at=base + dt.timedelta(hours=1) if spec.get("original") else None,
                        redacted_at=base + dt.timedelta(hours=2) if spec.get("redacted") else None,
                        relation_type=spec["relates"][0] if spec.get("relates") else None,
                        relates_to_id=f"{room_id}-e{spec['relates'][1]}"
                        if spec.get("relates")
                        else None,
                        do_not_index=False,
                    )
                )
                for j, (name_, data) in enumerate(spec.get("media", ())):
                    sha = self.media_file(tenant_id, data)
                    s.add(
                        m.Media(
                            id=f"med-{room_id}-{i}-{j}",
                            tenant_id=tenant_id,
                            sha256=sha,
                            name=name_,
                            size=len(data),
                            content_type="application/octet-stream",
                            storage_key=api.store.media.storage_key(tenant_id, sha),
                            room_id=room_id,
                            event_id=f"{room_id}-e{i}",
                            uploader_id=spec.get("sender", f"prt-{tenant_slug}"),
                        )
                    )
                s.flush()
        return room_id

    # -- the commands ---------------------------------------------------------------------------
    def export(self, room_id, tenant, *extra, to=None):
        """`scaiwave room export ROOM --tenant T [EXTRA…] [--to TO]`."""
        args = ["room", "export", room_id, "--tenant", tenant, *extra]
        if to is not None:
            args += ["--to", str(to)]
        return self.cli.invoke(*args)

    def imp(self, bundle: bytes, *extra, workspace="general", tenant="globex", as_="prt-globex"):
        """`scaiwave --output json room import WORKSPACE --tenant T --as P [EXTRA…] < bundle`."""
        return self.cli.invoke(
            "--output",
            "json",
            "room",
            "import",
            workspace,
            "--tenant",
            tenant,
            "--as",
            as_,
            *extra,
            input=bundle,
        )

    # -- inspecting -----------------------------------------------------------------------------
    def count(self, model, **where) -> int:
        from sqlalchemy import func, select

        q = select(func.count()).select_from(model)
        for key, value in where.items():
            q = q.where(getattr(model, key) == value)
        with self.store.session() as s:
            return s.scalar(q)

    def rows(self, model, order_by=None, **where):
        from sqlalchemy import select

        q = select(model)
        for key, value in where.items():
            q = q.where(getattr(model, key) == value)
        if order_by is not None:
            q = q.order_by(order_by)
        with self.store.session() as s:
            return list(s.scalars(q))

    def kill_at_hook(self, point: str, *args: str, marker_dir) -> None:
        """``scaiwave ARGS`` killed with SIGKILL at the kill point ``point``."""
        self.cli.kill_at("SCAIWAVE_ROOM_TEST_HOOK", point, *args, marker_dir=marker_dir)

    def media_files(self) -> list[str]:
        root = self.settings.media_path
        out = []
        for dirpath, _, files in os.walk(root):
            out += [os.path.join(dirpath, f) for f in files]
        return sorted(out)


@pytest.fixture
def world(cli, store, db_url):
    return World(cli, store, db_url)


@pytest.fixture
def two_tenants(world):
    """``world`` with tenants acme and globex, each with workspace general and an editor."""
    world.tenant("acme")
    world.tenant("globex")
    return world
