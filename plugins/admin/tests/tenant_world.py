"""Two tenants with a row in every table that has a tenant, for `admin delete-tenant`'s tests:
the seed, a per-table snapshot (counts and a checksum), the media files, and the kill -9 runner.

``TenantWorld.seed(slug)`` gives a tenant participants (humans and an AI), two workspaces with
members, five rooms (group, dm, and three that `room export` refuses: incognito, sidekick,
federated) with events (messages, a reaction, an edit, a redaction, media), media rows and files
(one file shared by two rows, one row without a room), a custom role with permissions, an
override of a built-in role, role assignments at both scopes, a ScaiKey group with members, AI
token usage and audit rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models
SERVER = "wave.example.com"
ROOMS = {  # suffix -> (type, federated)
    "group": ("group", False),
    "dm": ("dm", False),
    "incog": ("incognito", False),
    "side": ("sidekick", False),
    "fed": ("group", True),
}
EXPORTABLE = ("group", "dm")


def tenant_column(table):
    """The column naming the tenant (``tenant_id`` or a foreign key to tenants.id), or None."""
    for column in table.columns:
        if column.name == "tenant_id" or any(
            fk.column.table.name == "tenants" for fk in column.foreign_keys
        ):
            return column
    return None


def _owner_parents(table):
    """(column, parent table, parent tenant column) of the foreign keys of a table without a
    tenant column into tables that have one (role_permissions -> roles)."""
    out = []
    for column in table.columns:
        for fk in column.foreign_keys:
            parent = fk.column.table
            tc = tenant_column(parent)
            if tc is not None and parent.name != "tenants":
                out.append((column, fk.column, tc))
    return out


def _canon(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


class TenantWorld:
    def __init__(self, cli, store, db_url):
        self.cli, self.store, self.db_url = cli, store, db_url
        cli.env.update({"SCAIWAVE_DB_URL": db_url, "SCAIWAVE_SERVER_NAME": SERVER})
        self.media_root = store.media.root

    # -- seeding --------------------------------------------------------------------------------
    def seed(self, slug: str, *, status: str = "active") -> str:
        tid = f"tnt-{slug}"
        base = dt.datetime(2026, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
        media = self.store.media
        with self.store.transaction() as s:
            api.permissions.ensure_builtin_roles(s)
            if s.get(m.Partner, "ptn-north") is None:
                s.add(
                    m.Partner(
                        id="ptn-north", slug="north", name="North", scaikey_partner_id="prt_north"
                    )
                )
                s.flush()
            s.add(
                m.Tenant(
                    id=tid,
                    slug=slug,
                    name=slug.title(),
                    scaikey_tenant_id=f"tnt_{slug}",
                    partner_id="ptn-north",
                    status=status,
                    features={"a": 1},
                    ai_defaults={},
                )
            )
            s.flush()
            people = {}
            for name, kind in (("ada", "human"), ("bob", "human"), ("bot", "ai")):
                pid = f"prt-{slug}-{name}"
                people[name] = pid
                s.add(
                    m.Participant(
                        id=pid,
                        tenant_id=tid,
                        kind=kind,
                        display_name=f"{name.title()} of {slug}",
                        email=f"{name}@{slug}.test" if kind == "human" else None,
                        scaikey_user_id=f"usr_{slug}_{name}" if kind == "human" else None,
                    )
                )
            for ws in ("general", "design"):
                s.add(m.Workspace(id=f"ws-{slug}-{ws}", tenant_id=tid, slug=ws, name=ws.title()))
            s.flush()
            for ws in ("general", "design"):
                s.add(
                    m.WorkspaceMember(
                        workspace_id=f"ws-{slug}-{ws}",
                        participant_id=people["ada"],
                        tenant_id=tid,
                        role="owner",
                    )
                )
            s.add(
                m.WorkspaceMember(
                    workspace_id=f"ws-{slug}-general",
                    participant_id=people["bob"],
                    tenant_id=tid,
                    role="editor",
                )
            )
            positions = api.store.next_stream_positions(s)
            shared = media.put_bytes(tid, f"shared file of {slug}".encode())
            for suffix, (rtype, federated) in ROOMS.items():
                rid = f"room-{slug}-{suffix}"
                s.add(
                    m.Room(
                        id=rid,
                        tenant_id=tid,
                        workspace_id=f"ws-{slug}-general",
                        type=rtype,
                        federated=federated,
                        name=f"{suffix} of {slug}",
                        topic="weekly",
                        creator_id=people["ada"],
                        created_at=base,
                    )
                )
                s.flush()
                for pid in (people["ada"], people["bob"]):
                    s.add(
                        m.RoomMember(
                            room_id=rid,
                            participant_id=pid,
                            tenant_id=tid,
                            power_level=100 if pid == people["ada"] else 0,
                        )
                    )
                n = 7 if suffix == "group" else 2
                for i in range(n):
                    sender = people["ada"] if i % 2 == 0 else people["bob"]
                    fields = {
                        "content": {"msgtype": "swp.text", "body": f"{slug} {suffix} m{i}"},
                        "event_type": "swp.room.message",
                    }
                    if suffix == "group" and i == 2:
                        fields = {
                            "content": {"key": "+1"},
                            "event_type": "swp.reaction",
                            "relation_type": "reaction",
                            "relates_to_id": f"{rid}-e0",
                        }
                    if suffix == "group" and i == 3:
                        fields["original_content"] = {"msgtype": "swp.text", "body": "before"}
                        fields["edited_at"] = base + dt.timedelta(hours=1)
                    if suffix == "group" and i == 4:
                        fields["redacted_at"] = base + dt.timedelta(hours=2)
                    s.add(
                        m.Event(
                            id=f"{rid}-e{i}",
                            tenant_id=tid,
                            room_id=rid,
                            sender_id=sender,
                            stream_position=next(positions),
                            origin_ts=1767258000000 + i,
                            created_at=base + dt.timedelta(seconds=i),
                            **fields,
                        )
                    )
                s.flush()
                if suffix in ("group", "dm"):
                    own = media.put_bytes(tid, f"{suffix} photo of {slug}".encode())
                    for j, (sha, size) in enumerate((own, shared)):
                        s.add(
                            m.Media(
                                id=f"med-{rid}-{j}",
                                tenant_id=tid,
                                sha256=sha,
                                name=f"photo{j}.png",
                                size=size,
                                room_id=rid,
                                event_id=f"{rid}-e1",
                                uploader_id=people["bob"],
                                storage_key=media.storage_key(tid, sha),
                            )
                        )
            avatar, size = media.put_bytes(tid, f"avatar of {slug}".encode())
            s.add(
                m.Media(
                    id=f"med-{slug}-avatar",
                    tenant_id=tid,
                    sha256=avatar,
                    name="a.png",
                    size=size,
                    uploader_id=people["ada"],
                    storage_key=media.storage_key(tid, avatar),
                )
            )
            role = m.Role(tenant_id=tid, name="moderator", level="workspace", description="mods")
            s.add(role)
            s.flush()
            s.add_all(
                m.RolePermission(role_id=role.id, permission=p) for p in ("room.kick", "room.ban")
            )
            builtin = {r.name: r.id for r in s.scalars(select(m.Role).where(m.Role.builtin))}
            s.add(
                m.RoleOverride(
                    tenant_id=tid,
                    role_id=builtin["editor"],
                    permission="room.invite",
                    granted=False,
                )
            )
            s.add(
                m.RoleAssignment(
                    tenant_id=tid,
                    participant_id=people["ada"],
                    role_id=builtin["tenant_admin"],
                    scope_key="",
                )
            )
            s.add(
                m.RoleAssignment(
                    tenant_id=tid,
                    participant_id=people["bob"],
                    role_id=role.id,
                    workspace_id=f"ws-{slug}-design",
                    scope_key=f"ws-{slug}-design",
                )
            )
            group = m.ScaikeyGroup(tenant_id=tid, scaikey_group_id=f"grp_{slug}", name="Staff")
            s.add(group)
            s.flush()
            for pid in (people["ada"], people["bob"]):
                s.add(m.ScaikeyGroupMember(group_id=group.id, participant_id=pid, tenant_id=tid))
            for day, tokens in ((dt.date(2026, 1, 1), 100), (dt.date(2026, 1, 2), 250)):
                s.add(
                    m.AiTokenUsage(tenant_id=tid, day=day, model="scaigrid/default", tokens=tokens)
                )
            for action in ("tenant.create", "role.create", "room.export"):
                s.add(
                    m.AuditEntry(
                        actor="local:root",
                        actor_kind="local",
                        action=action,
                        target=f"tenant:{slug}",
                        tenant_id=tid,
                        details={"slug": slug},
                    )
                )
            s.add(
                m.AuditEntry(
                    actor="local:root",
                    actor_kind="local",
                    action="partner.create",
                    target="partner:north",
                    tenant_id=None,
                    details={},
                )
            )
        return tid

    def suspend(self, slug: str) -> None:
        with self.store.transaction() as s:
            s.scalar(select(m.Tenant).where(m.Tenant.slug == slug)).status = "suspended"

    def status(self, slug: str):
        with self.store.session() as s:
            return s.scalar(select(m.Tenant.status).where(m.Tenant.slug == slug))

    # -- inspecting -----------------------------------------------------------------------------
    def table_rows(self, table) -> list[tuple]:
        with self.store.session() as s:
            rows = s.execute(select(table)).all()
        return sorted(
            tuple(json.dumps(_canon(v), sort_keys=True, default=str) for v in row) for row in rows
        )

    def snapshot(self, drop_tid: str, *, audit_upto: int | None = None) -> dict:
        """Per table, the rows that are not ``drop_tid``'s: (count, sha256). audit_log: every
        row up to id ``audit_upto``, with ``drop_tid`` read as NULL (its rows stay, under the
        platform)."""
        out = {}
        with self.store.session() as s:
            owned = {}
            for table in m.Base.metadata.sorted_tables:
                if tenant_column(table) is None:
                    for column, target, tc in _owner_parents(table):
                        ids = s.scalars(select(target).where(tc == drop_tid)).all()
                        owned.setdefault(table.name, []).append((column.name, set(ids)))
        for table in m.Base.metadata.sorted_tables:
            names = [c.name for c in table.columns]
            tc = tenant_column(table)
            keep = []
            for row in self.table_rows(table):
                values = dict(zip(names, (json.loads(v) for v in row), strict=True))
                if table.name == "audit_log":
                    if audit_upto is not None and values["id"] > audit_upto:
                        continue
                    if values["tenant_id"] == drop_tid:
                        values["tenant_id"] = None
                elif tc is not None and values[tc.name] == drop_tid:
                    continue
                elif table.name == "tenants" and values["id"] == drop_tid:
                    continue
                elif any(values[c] in ids for c, ids in owned.get(table.name, ())):
                    continue
                keep.append(json.dumps(values, sort_keys=True))
            out[table.name] = (len(keep), hashlib.sha256("\n".join(keep).encode()).hexdigest())
        return out

    def last_audit_id(self) -> int:
        with self.store.session() as s:
            return max(s.scalars(select(m.AuditEntry.id)).all() or [0])

    def rows_of(self, tid: str) -> dict:
        """Table -> number of rows whose tenant column is ``tid`` (every table with one)."""
        out = {}
        with self.store.session() as s:
            for table in m.Base.metadata.sorted_tables:
                tc = tenant_column(table)
                if tc is not None:
                    out[table.name] = len(s.execute(select(tc).where(tc == tid)).all())
        return out

    def media_files(self, tid: str) -> dict:
        """Relative path -> sha256 of the bytes, of every file under the tenant's media folder."""
        base = self.media_root / tid
        out = {}
        for dirpath, _, files in os.walk(base):
            for name in files:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as fh:
                    out[os.path.relpath(path, base)] = hashlib.sha256(fh.read()).hexdigest()
        return out

    # -- kill -9 --------------------------------------------------------------------------------
    def kill_at_hook(self, point: str, *args: str, marker_dir) -> None:
        """``scaiwave ARGS`` killed with SIGKILL at the kill point ``point``."""
        self.cli.kill_at("SCAIWAVE_ADMIN_TEST_HOOK", point, *args, marker_dir=marker_dir)
