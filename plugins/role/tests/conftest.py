"""Fixtures of the role plugin's tests: a small world seeded straight into the store (no command
creates tenants or participants), helpers to read rows back, and admin tokens verified against a
JWKS served by pytest-httpx (keys made here; nothing leaves the process).

Every test that takes ``world`` runs on SQLite and on MariaDB (``db_url`` is parametrized).
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text

from scaiwave_cli import api

BASE = "https://scaikey.test"
JWKS = BASE + "/api/v1/platform/.well-known/jwks.json"


class World:
    """Tenant ``acme`` (ScaiKey id ``tnt_acme``, partner ``north``) with workspaces ``design``
    and ``ops``: alice owns ``design``; bob, carol and dave (deactivated) hold nothing.
    Tenant ``beta`` (partner ``south``) with workspace ``general`` owned by erin. Participant
    ids are ``prt-<name>``, e-mails ``<name>@<tenant>.test``. Built-in roles are not seeded:
    the first role command does that."""

    def __init__(self, cli, store):
        self.cli = cli
        self.store = store
        self.m = api.store.models
        m = self.m
        with store.transaction() as s:
            s.add_all(
                [
                    m.Partner(
                        id="ptn-north", slug="north", name="North", scaikey_partner_id="prt_n"
                    ),
                    m.Partner(
                        id="ptn-south", slug="south", name="South", scaikey_partner_id="prt_s"
                    ),
                ]
            )
            s.flush()
            for slug, partner in (("acme", "ptn-north"), ("beta", "ptn-south")):
                s.add(
                    m.Tenant(
                        id=f"tnt-{slug}",
                        slug=slug,
                        name=slug.title(),
                        scaikey_tenant_id=f"tnt_{slug}",
                        partner_id=partner,
                    )
                )
            s.flush()
        self.workspace("acme", "design")
        self.workspace("acme", "ops")
        self.workspace("beta", "general")
        for name in ("alice", "bob", "carol"):
            self.participant("acme", name)
        self.participant("acme", "dave", active=False)
        self.participant("beta", "erin")
        self.member("acme", "design", "alice", "owner")
        self.member("beta", "general", "erin", "owner")

    # -- seeding ----------------------------------------------------------------------------------
    def workspace(self, tenant, slug):
        with self.store.transaction() as s:
            s.add(
                self.m.Workspace(
                    id=f"ws-{tenant}-{slug}",
                    tenant_id=f"tnt-{tenant}",
                    slug=slug,
                    name=slug.title(),
                )
            )
        return f"ws-{tenant}-{slug}"

    def participant(self, tenant, name, *, active=True):
        with self.store.transaction() as s:
            s.add(
                self.m.Participant(
                    id=f"prt-{name}",
                    tenant_id=f"tnt-{tenant}",
                    display_name=name.title(),
                    email=f"{name}@{tenant}.test",
                    active=active,
                )
            )
        return f"prt-{name}"

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
def world(cli, store):
    return World(cli, store)


# -- admin tokens ---------------------------------------------------------------------------------


class Signer:
    """A ScaiKey stand-in: an EC key, its JWK, and tokens signed with it."""

    def __init__(self):
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec

        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid="role-test", use="sig", alg="ES256")

    def token(self, **claims) -> str:
        import jwt

        now = int(time.time())
        body = {"sub": "usr_admin", "iat": now, "exp": now + 600, "role": "super_admin"}
        body.update(claims)
        return jwt.encode(body, self.private, algorithm="ES256", headers={"kid": "role-test"})


@pytest.fixture(scope="session")
def signer():
    return Signer()


@pytest.fixture
def as_admin(httpx_mock, signer):
    """``as_admin(role=..., tenant_id=..., partner_id=...)`` -> env for ``cli.invoke``."""
    httpx_mock.add_response(
        url=JWKS, json={"keys": [signer.jwk]}, is_reusable=True, is_optional=True
    )

    def env(**claims):
        return {"SCAIWAVE_ADMIN_TOKEN": signer.token(**claims), "SCAIKEY_BASE_URL": BASE}

    return env
