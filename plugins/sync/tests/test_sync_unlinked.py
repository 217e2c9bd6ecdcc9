"""ScaiKey tenants not linked to any ScaiWave tenant are counted and named (with the command that
links each) by `scaiwave sync` and `sync status`; with ScaiKey unreachable `sync status` still
prints the local state, then the error (exit 2)."""

from __future__ import annotations

import json

import pytest
from scaiwave_sync.testing import FakeScaiKey

CREATE_INITECH = (
    "scaiwave admin create-tenant --slug initech --name Initech --scaikey-tenant-id tnt_initech"
)
UPDATE_GLOBEX = "scaiwave admin update-tenant globex --scaikey-tenant-id tnt_globex"


@pytest.fixture
def fake():
    """acme, globex and initech in ScaiKey (this module's ``world`` uses it)."""
    server = FakeScaiKey(tenants=3, users_per_tenant=3, groups_per_tenant=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def w(world, store):
    """acme linked; a local globex not linked to ScaiKey; initech only in ScaiKey."""
    world.link("acme")
    with store.transaction() as s:
        s.add(world.m.Tenant(id="tnt-globex", slug="globex", name="Globex"))
    return world


def test_sync_summary_counts_and_names_unlinked_tenants(w, db_url):
    result = w.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["scaikey_tenants_unlinked"] == 2
    assert out["unlinked_tenants"] == [
        {"scaikey_tenant_id": "tnt_globex", "slug": "globex", "name": "Globex",
         "local_tenant": "globex", "link": UPDATE_GLOBEX},
        {"scaikey_tenant_id": "tnt_initech", "slug": "initech", "name": "Initech",
         "local_tenant": None, "link": CREATE_INITECH},
    ]  # fmt: skip
    assert "2 ScaiKey tenant(s) not linked to any ScaiWave tenant" in result.stderr
    assert UPDATE_GLOBEX in result.stderr and CREATE_INITECH in result.stderr
    assert "scaiwave sync --create-tenants" in result.stderr
    # the table summary says it too
    table = w.cli.invoke("sync")
    assert table.exit_code == 0, table.output
    assert "2 ScaiKey tenant(s) not linked" in table.stderr and CREATE_INITECH in table.stderr


def test_status_reports_unlinked_tenants_as_drift(w, db_url):
    w.ok()  # acme is in sync now: nothing would change
    out = w.cli.json("sync", "status")
    drift = out["drift"]
    assert drift["changes"] == 0 and drift["drift"] is True
    assert drift["scaikey"]["tenants_unlinked"] == 2
    assert [t["link"] for t in drift["unlinked_tenants"]] == [UPDATE_GLOBEX, CREATE_INITECH]
    failing = w.cli.invoke("status", "--fail-on-drift")
    assert failing.exit_code == 1 and "SW_SYNC_DRIFT" in failing.stderr
    assert "2 ScaiKey tenant(s) not linked" in failing.stderr
    table = w.cli.invoke("status")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert any(
        line.startswith("drift.unlinked.initech") and line.endswith(CREATE_INITECH)
        for line in lines
    ), table.stdout
    assert any(line.startswith("drift.drift ") and line.endswith("yes") for line in lines)


def test_the_named_commands_link_the_tenants(w, db_url):
    globex, initech = w.cli.json("status")["drift"]["unlinked_tenants"]
    created = w.cli.invoke(*initech["link"].split()[1:])
    assert created.exit_code == 0, created.output
    out = w.ok()
    assert [t["slug"] for t in out["unlinked_tenants"]] == ["globex"]
    assert {t["tenant"] for t in out["tenants"]} == {"acme", "initech"}
    assert out["totals"]["create"] == 6
    linked = w.cli.invoke(*globex["link"].split()[1:])  # admin update-tenant (issue 13, point 2)
    assert linked.exit_code == 0, linked.output
    out = w.ok()
    assert out["unlinked_tenants"] == [] and out["scaikey_tenants_unlinked"] == 0
    assert out["totals"]["create"] == 3 and "not linked" not in w.sync().stderr
    assert w.cli.invoke("status", "--fail-on-drift").exit_code == 0


def test_create_tenants_leaves_only_the_slug_conflict_unlinked(w, db_url):
    dry = w.ok("--dry-run", "--create-tenants")
    assert [t["slug"] for t in dry["unlinked_tenants"]] == ["globex"]
    assert UPDATE_GLOBEX in w.sync("--create-tenants").stderr


def test_tenant_not_linked_names_the_command_that_links_it(w, db_url):
    result = w.sync("--tenant", "globex")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr
    assert UPDATE_GLOBEX in result.stderr
    only_in_scaikey = w.sync("--tenant", "initech")
    assert only_in_scaikey.exit_code == 1 and "SW_TENANT_NOT_FOUND" in only_in_scaikey.stderr
    assert "not linked to any ScaiWave tenant" in only_in_scaikey.stderr
    assert CREATE_INITECH in only_in_scaikey.stderr and "--create-tenants" in only_in_scaikey.stderr
    unknown = w.sync("--tenant", "nope")
    assert unknown.exit_code == 1 and "tenant 'nope' not found" in unknown.stderr


def test_unlinked_tenants_are_named_within_the_actors_scope_only(w, db_url, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme", aud=w.cli.env["SCAIKEY_CLIENT_ID"])
    out = json.loads(w.sync(env=env).stdout)
    assert out["unlinked_tenants"] == [] and out["scaikey_tenants_unlinked"] == 0
    assert "not linked" not in w.sync(env=env).stderr
    status = w.cli.json("status", env=env)
    assert status["drift"]["unlinked_tenants"] == []
    assert [t["slug"] for t in status["linked_tenants"]] == ["acme"]


def test_status_with_scaikey_down_prints_the_local_state_then_exits_2(w, db_url):
    w.ok()
    w.fake.stop()
    result = w.cli.invoke("--output", "json", "sync", "status")
    assert result.exit_code == 2, result.output
    assert "SW_SCAIKEY_UNREACHABLE" in result.stderr and w.fake.url in result.stderr
    out = json.loads(result.stdout)
    assert out["credentials"] == "configured"
    assert out["last_run"]["status"] == "ok" and out["last_success"]["id"] == out["last_run"]["id"]
    assert out["linked_tenants"] == [{"slug": "acme", "scaikey_tenant_id": "tnt_acme"}]
    assert out["drift"]["drift"] is None
    assert out["drift"]["error"]["code"] == "SW_SCAIKEY_UNREACHABLE"
    table = w.cli.invoke("status")
    assert table.exit_code == 2 and "SW_SCAIKEY_UNREACHABLE" in table.stderr
    assert "last_run.status" in table.stdout and "acme (tnt_acme)" in table.stdout


def test_status_polling_a_pending_request_with_scaikey_down(cli, store, fake):
    args = ["--scaikey-url", fake.url, "--url", "https://wave.example.com",
            "--email", "ops@example.com", "--scope", "GLOBAL", "--name", "test"]  # fmt: skip
    assert cli.invoke("sync", "register", *args).exit_code == 0
    fake.stop()
    env = {"SCAIWAVE_SYNC_RETRIES": "1", "SCAIWAVE_SYNC_BACKOFF": "0"}
    result = cli.invoke("--output", "json", "status", env=env)
    assert result.exit_code == 2 and "SW_SCAIKEY_UNREACHABLE" in result.stderr
    out = json.loads(result.stdout)
    assert out["registration"]["status"] == "pending"
    assert out["registration"]["error"]["code"] == "SW_SCAIKEY_UNREACHABLE"
    assert out["last_run"] is None and out["linked_tenants"] == []
