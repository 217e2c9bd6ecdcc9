"""Fixtures of the directory tests (participants and workspaces), imported explicitly by
``test_participants.py`` and ``test_workspaces.py``.

- ``directory``: a ``Directory`` seeded on ``store`` (so on SQLite and on MariaDB through
  ``db_url``): tenant ``acme`` (partner ``north``) and tenant ``globex``, participants of every
  kind, a personal and two shared workspaces, rooms, a custom role. ``directory.run(...)`` invokes
  the CLI; ``directory.json(...)`` parses ``--output json``.
- ``statements``: ``with statements() as seen:`` collects the SQL sent meanwhile.

Admin tokens come from the core's ``admin_token`` fixture, unusable database URLs from its
``unusable_db_url`` (``scaiwave_cli.testing``). The seed keeps its own rows rather than the core's
``factory``: the tests assert on these exact ids, e-mails, FQIDs and sync fields.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest

from scaiwave_cli import api

SYNCED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Directory:
    """Seeds and inspects one database for the directory commands."""

    def __init__(self, cli, store):
        self.cli = cli
        self.store = store
        self.m = api.store.models

    # -- running the CLI ------------------------------------------------------------------------
    def run(self, *args, env=None, input=None):
        return self.cli.invoke(*args, env=env, input=input)

    def json(self, *args, env=None):
        result = self.cli.invoke("--output", "json", *args, env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # -- seeding --------------------------------------------------------------------------------
    def seed(self) -> Directory:
        m = self.m
        with self.store.transaction() as s:
            s.add_all(
                [
                    m.Partner(
                        id="prn-north", slug="north", name="North", scaikey_partner_id="prt_north"
                    ),
                    m.Partner(
                        id="prn-south", slug="south", name="South", scaikey_partner_id="prt_south"
                    ),
                ]
            )
            s.flush()
            s.add_all(
                [
                    m.Tenant(
                        id="tnt-acme",
                        slug="acme",
                        name="Acme",
                        scaikey_tenant_id="tnt_acme",
                        partner_id="prn-north",
                    ),
                    m.Tenant(
                        id="tnt-globex",
                        slug="globex",
                        name="Globex",
                        scaikey_tenant_id="tnt_globex",
                        partner_id="prn-south",
                    ),
                ]
            )
            s.flush()
            P = m.Participant
            s.add_all(
                [
                    P(
                        id="ptn-ada",
                        tenant_id="tnt-acme",
                        kind="human",
                        display_name="Ada Lovelace",
                        email="Ada@Acme.test",
                        scaikey_user_id="usr_ada",
                        fqid="@ada:acme.test",
                        last_synced_at=SYNCED,
                    ),
                    P(
                        id="ptn-bob",
                        tenant_id="tnt-acme",
                        kind="human",
                        display_name="Bob Builder",
                        email="bob@acme.test",
                        scaikey_user_id="usr_bob",
                        active=False,
                        deactivated_at=SYNCED,
                    ),
                    P(
                        id="ptn-zoe",
                        tenant_id="tnt-acme",
                        kind="human",
                        display_name="Zoë Ärger",
                        email="zoe@acme.test",
                        scaikey_user_id="usr_zoe",
                        last_synced_at=SYNCED,
                    ),
                    P(id="ptn-bot", tenant_id="tnt-acme", kind="ai", display_name="Summarizer"),
                    P(
                        id="ptn-fed",
                        tenant_id="tnt-acme",
                        kind="federated",
                        display_name="Far Away",
                        fqid="@far:peer.test",
                    ),
                    P(
                        id="ptn-shadow",
                        tenant_id="tnt-acme",
                        kind="shadow",
                        display_name="50%_off bridge user",
                        email="shared@acme.test",
                    ),
                    P(
                        id="ptn-shared",
                        tenant_id="tnt-acme",
                        kind="human",
                        display_name="Shared Inbox",
                        email="shared@acme.test",
                        scaikey_user_id="usr_shared",
                    ),
                    # another tenant: same e-mail as acme's Ada, never visible from acme
                    P(
                        id="ptn-globex-ada",
                        tenant_id="tnt-globex",
                        kind="human",
                        display_name="Ada of Globex",
                        email="ada@acme.test",
                    ),
                ]
            )
            s.flush()
            W = m.Workspace
            s.add_all(
                [
                    W(
                        id="ws-ada",
                        tenant_id="tnt-acme",
                        slug="ada",
                        name="Ada's space",
                        personal=True,
                    ),
                    W(
                        id="ws-design",
                        tenant_id="tnt-acme",
                        slug="design",
                        name="Design",
                        description="the design team",
                    ),
                    W(id="ws-empty", tenant_id="tnt-acme", slug="empty", name="Nobody here"),
                    W(id="ws-globex", tenant_id="tnt-globex", slug="design", name="Globex design"),
                ]
            )
            s.flush()
            WM = m.WorkspaceMember
            for ws, pid, role in [
                ("ws-ada", "ptn-ada", "owner"),
                ("ws-design", "ptn-ada", "owner"),
                ("ws-design", "ptn-zoe", "owner"),
                ("ws-design", "ptn-bot", "editor"),
                ("ws-design", "ptn-bob", "viewer"),
                ("ws-globex", "ptn-globex-ada", "owner"),
            ]:
                tenant = "tnt-globex" if ws == "ws-globex" else "tnt-acme"
                s.add(WM(workspace_id=ws, participant_id=pid, tenant_id=tenant, role=role))
            R = m.Room
            s.add_all(
                [
                    R(
                        id="room-d1",
                        tenant_id="tnt-acme",
                        workspace_id="ws-design",
                        name="Sketches",
                    ),
                    R(
                        id="room-d2",
                        tenant_id="tnt-acme",
                        workspace_id="ws-design",
                        name="Reviews",
                        state="archived",
                    ),
                    R(id="room-a1", tenant_id="tnt-acme", workspace_id="ws-ada", name="Notes"),
                    R(id="room-g1", tenant_id="tnt-globex", workspace_id="ws-globex", name="G"),
                ]
            )
            s.flush()
            s.add_all(
                [
                    m.RoomMember(
                        room_id="room-d1",
                        participant_id="ptn-ada",
                        tenant_id="tnt-acme",
                        power_level=100,
                    ),
                    m.RoomMember(
                        room_id="room-a1",
                        participant_id="ptn-ada",
                        tenant_id="tnt-acme",
                        power_level=100,
                    ),
                    m.RoomMember(
                        room_id="room-d1",
                        participant_id="ptn-bob",
                        tenant_id="tnt-acme",
                        power_level=0,
                        membership="leave",
                    ),
                ]
            )
            # a custom tenant role granting create_note, held by the federated participant at
            # tenant scope, and a workspace-scoped assignment of it for the shadow participant
            role = m.Role(tenant_id="tnt-acme", name="room-maker", level="any")
            s.add(role)
            s.flush()
            s.add(m.RolePermission(role_id=role.id, permission="create_note"))
            s.add_all(
                [
                    m.RoleAssignment(
                        tenant_id="tnt-acme",
                        participant_id="ptn-fed",
                        role_id=role.id,
                        workspace_id=None,
                        scope_key="",
                    ),
                    m.RoleAssignment(
                        tenant_id="tnt-acme",
                        participant_id="ptn-shadow",
                        role_id=role.id,
                        workspace_id="ws-empty",
                        scope_key="ws-empty",
                    ),
                ]
            )
        return self

    def add_participants(self, n: int, *, tenant_id="tnt-acme", prefix="ptn-bulk") -> None:
        rows = (
            {
                "id": f"{prefix}-{i:06d}",
                "tenant_id": tenant_id,
                "kind": "human",
                "display_name": f"Bulk {i:06d}",
                "email": f"bulk{i}@acme.test",
                "active": True,
                "created_at": SYNCED,
            }
            for i in range(n)
        )
        with self.store.transaction() as s:
            api.store.insert_batches(s, self.m.Participant, rows)

    def add_workspaces(self, n: int, *, owner="ptn-ada", prefix="bulk") -> None:
        m = self.m
        with self.store.transaction() as s:
            for i in range(n):
                ws_id = f"ws-{prefix}-{i:04d}"
                s.add(
                    m.Workspace(
                        id=ws_id, tenant_id="tnt-acme", slug=f"{prefix}-{i:04d}", name=ws_id
                    )
                )
                s.flush()
                s.add(
                    m.WorkspaceMember(
                        workspace_id=ws_id, participant_id=owner, tenant_id="tnt-acme", role="owner"
                    )
                )
                s.add(m.Room(id=f"room-{prefix}-{i:04d}", tenant_id="tnt-acme", workspace_id=ws_id))

    # -- inspecting -----------------------------------------------------------------------------
    def count(self, model, **where) -> int:
        from sqlalchemy import func, select

        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        with self.store.session() as s:
            return s.scalar(stmt)

    def audit_rows(self, action: str) -> list:
        from sqlalchemy import select

        a = self.m.AuditEntry
        with self.store.session() as s:
            return list(s.scalars(select(a).where(a.action == action).order_by(a.id)))


@pytest.fixture
def directory(cli, store) -> Directory:
    return Directory(cli, store).seed()


@pytest.fixture
def statements():
    """``with statements() as seen:`` collects the SQL every engine sends meanwhile."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @contextlib.contextmanager
    def counting():
        seen: list[str] = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(Engine, "before_cursor_execute", listener)
        try:
            yield seen
        finally:
            event.remove(Engine, "before_cursor_execute", listener)

    return counting
