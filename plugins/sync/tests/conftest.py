"""Fixtures of the sync plugin's tests: a fake ScaiKey on 127.0.0.1 and a world to seed and
inspect the ScaiWave database (both engines through ``db_url``)."""

from __future__ import annotations

import json

import pytest
from scaiwave_sync.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeScaiKey
from sqlalchemy import func, select

from scaiwave_cli import api


@pytest.fixture
def fake():
    """Two tenants (acme, globex) of six users and two groups each; user 0 is TENANT_ADMIN."""
    server = FakeScaiKey(tenants=2, users_per_tenant=6, groups_per_tenant=2)
    server.start()
    yield server
    server.stop()


def sync_env(fake) -> dict:
    return {
        "SCAIKEY_BASE_URL": fake.url,
        "SCAIKEY_CLIENT_ID": DEFAULT_CLIENT_ID,
        "SCAIKEY_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "SCAIWAVE_SYNC_BACKOFF": "0",
        "SCAIWAVE_SYNC_RETRIES": "3",
        "SCAIWAVE_SYNC_PAGE_SIZE": "4",
        "SCAIWAVE_SYNC_HTTP_TIMEOUT": "5",
        # six users a tenant: the default 10% would refuse a second deactivation
        "SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": "50",
    }


class World:
    """Seeds tenants linked to the fake's and reads back what the sync did."""

    def __init__(self, cli, store, fake):
        self.cli, self.store, self.fake = cli, store, fake
        self.m = api.store.models
        cli.env.update(sync_env(fake))

    def link(self, *slugs: str) -> None:
        with self.store.transaction() as s:
            for slug in slugs:
                s.add(
                    self.m.Tenant(
                        id=f"tnt-{slug}",
                        slug=slug,
                        name=slug.title(),
                        scaikey_tenant_id=f"tnt_{slug}",
                    )
                )

    def sync(self, *args, **kwargs):
        return self.cli.invoke("--output", "json", "sync", *args, **kwargs)

    def ok(self, *args, **kwargs) -> dict:
        """Run ``sync`` (json), assert exit 0, return the parsed summary."""
        result = self.sync(*args, **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def count(self, model, *where) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))

    def participant(self, scaikey_user_id: str):
        with self.store.session() as s:
            return s.scalar(
                select(self.m.Participant).where(
                    self.m.Participant.scaikey_user_id == scaikey_user_id
                )
            )

    def active(self, tenant_slug: str | None = None) -> int:
        p = self.m.Participant
        where = [p.active.is_(True), p.kind == "human"]
        if tenant_slug:
            where.append(p.tenant_id == f"tnt-{tenant_slug}")
        return self.count(p, *where)

    def roles(self, scaikey_user_id: str) -> list[tuple[str, str | None]]:
        m = self.m
        with self.store.session() as s:
            rows = s.execute(
                select(m.Role.name, m.RoleAssignment.created_by)
                .join(m.RoleAssignment, m.RoleAssignment.role_id == m.Role.id)
                .join(m.Participant, m.Participant.id == m.RoleAssignment.participant_id)
                .where(m.Participant.scaikey_user_id == scaikey_user_id)
            )
            return sorted((r.name, r.created_by) for r in rows)


@pytest.fixture
def world(cli, store, fake):
    return World(cli, store, fake)
