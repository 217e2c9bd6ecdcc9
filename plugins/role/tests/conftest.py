"""Fixtures of the role plugin's tests: a small world seeded straight into the store through the
core's ``factory`` (no command creates tenants or participants) and helpers to read rows back.
Admin tokens come from the core's ``admin_token`` fixture (``scaiwave_cli.testing``).

Every test that takes ``world`` runs on SQLite and on MariaDB (``db_url`` is parametrized).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from scaiwave_cli import api


class World:
    """Tenant ``acme`` (ScaiKey id ``tnt_acme``, partner ``north``) with workspaces ``design``
    and ``ops``: alice owns ``design``; bob, carol and dave (deactivated) hold nothing.
    Tenant ``beta`` (partner ``south``) with workspace ``general`` owned by erin. Participant
    ids are ``prt-<name>``, e-mails ``<name>@<tenant>.test``. Built-in roles are not seeded:
    the first role command does that."""

    def __init__(self, cli, store, factory):
        self.cli = cli
        self.store = store
        self.factory = factory
        self.m = api.store.models
        self.tenants = {
            "acme": factory.tenant(
                "acme", partner=factory.partner("north", scaikey_partner_id="prt_n")
            ),
            "beta": factory.tenant(
                "beta", partner=factory.partner("south", scaikey_partner_id="prt_s")
            ),
        }
        for name in ("alice", "bob", "carol"):
            self.participant("acme", name)
        self.participant("acme", "dave", active=False)
        self.participant("beta", "erin")
        self.workspace("acme", "design")
        self.workspace("acme", "ops")
        self.workspace("beta", "general")
        self.member("acme", "design", "alice", "owner")
        self.member("beta", "general", "erin", "owner")

    # -- seeding ----------------------------------------------------------------------------------
    def workspace(self, tenant, slug):
        return self.factory.workspace(self.tenants[tenant], slug).id

    def participant(self, tenant, name, *, active=True):
        return self.factory.participant(self.tenants[tenant], name, active=active).id

    def member(self, tenant, ws, name, role):
        with self.store.transaction() as s:
            s.add(
                self.m.WorkspaceMember(
                    workspace_id=f"ws-{tenant}-{ws}",
                    participant_id=f"prt-{name}",
                    tenant_id=f"tnt-{tenant}",
                    role=role,
                )
            )

    # -- reading back -----------------------------------------------------------------------------
    def rows(self, sql, **params) -> list[tuple]:
        with self.store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def scalar(self, sql, **params):
        with self.store.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def members(self, ws="design", tenant="acme") -> dict:
        rows = self.rows(
            "SELECT participant_id, role FROM workspace_members WHERE workspace_id = :w",
            w=f"ws-{tenant}-{ws}",
        )
        return dict(rows)

    def assignments(self) -> set[tuple]:
        """{(participant_id, role name, workspace_id or None)} of role_assignments."""
        rows = self.rows(
            "SELECT a.participant_id, r.name, a.workspace_id, a.scope_key "
            "FROM role_assignments a JOIN roles r ON r.id = a.role_id"
        )
        for _p, _r, ws, key in rows:
            assert key == (ws or "")  # scope_key mirrors workspace_id
        return {(p, r, ws) for p, r, ws, _ in rows}

    def role_permissions(self, name, tenant=None) -> set[str]:
        cond = "r.tenant_id IS NULL" if tenant is None else "r.tenant_id = :t"
        rows = self.rows(
            "SELECT p.permission FROM role_permissions p JOIN roles r ON r.id = p.role_id "
            f"WHERE r.name = :n AND {cond}",
            n=name,
            t=f"tnt-{tenant}",
        )
        return {r[0] for r in rows}

    def audit(self, prefix="role.") -> list[dict]:
        rows = self.rows(
            "SELECT action, target, tenant_id, actor, details FROM audit_log "
            "WHERE action LIKE :p ORDER BY id",
            p=prefix + "%",
        )
        out = []
        for action, target, tenant_id, actor, details in rows:
            if isinstance(details, str):
                details = json.loads(details)
            out.append(
                {
                    "action": action,
                    "target": target,
                    "tenant_id": tenant_id,
                    "actor": actor,
                    "details": details,
                }
            )
        return out

    def changes(self) -> list[dict]:
        """Audit rows of changes (the one-time built-in seeding left out)."""
        return [a for a in self.audit() if a["action"] != "role.builtin.seed"]

    # -- running the CLI --------------------------------------------------------------------------
    def run(self, *args, **kwargs):
        return self.cli.invoke(*args, **kwargs)

    def json(self, *args, **kwargs):
        result = self.cli.invoke("--output", "json", *args, **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def world(cli, store, factory):
    return World(cli, store, factory)
