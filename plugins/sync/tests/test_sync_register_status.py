"""`sync register` and `sync status` (and their aliases) against the loopback fake ScaiKey."""

from __future__ import annotations

import json
import os
import stat

import pytest
from scaiwave_sync import register as register_cmd
from scaiwave_sync.testing import FakeScaiKey
from sqlalchemy import select

from scaiwave_cli import api


@pytest.fixture
def scaikey():
    server = FakeScaiKey(tenants=1, users_per_tenant=3, groups_per_tenant=1)
    server.start()
    yield server
    server.stop()


def register_args(url):
    return [
        "--scaikey-url",
        url,
        "--url",
        "https://wave.example.com",
        "--email",
        "ops@example.com",
        "--scope",
        "GLOBAL",
        "--name",
        "ScaiWave test",
    ]


def state(cli):
    return json.loads((cli.home / "scaikey-registration.json").read_text())


def test_register_files_a_request_and_keeps_the_token_private(cli, store, scaikey):
    result = cli.invoke("--output", "json", "sync", "register", *register_args(scaikey.url))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "pending" and out["scope"] == "GLOBAL"
    saved = state(cli)
    assert saved["status_token"] and saved["status_token"] not in result.output
    path = cli.home / "scaikey-registration.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    (request,) = scaikey.registrations.values()
    assert request["contact_email"] == "ops@example.com" and request["app_scope"] == "GLOBAL"
    m = api.store.models
    with store.session() as s:
        row = s.scalar(select(m.ScaikeyRegistration))
        audit = s.scalar(select(m.AuditEntry).where(m.AuditEntry.action == "sync.register"))
    assert (row.request_id, row.status) == (out["request_id"], "pending")
    assert audit.target == f"scaikey-registration:{out['request_id']}"
    # re-running while pending shows the request instead of filing another
    again = cli.invoke("--output", "json", "register")
    assert again.exit_code == 0 and json.loads(again.stdout)["request_id"] == out["request_id"]
    assert len(scaikey.registrations) == 1 and "already pending" in again.stderr


def test_missing_option_without_a_terminal_is_exit_2_naming_it(cli, store, scaikey):
    result = cli.invoke(
        "sync",
        "register",
        "--scaikey-url",
        scaikey.url,
        "--url",
        "https://wave.example.com",
        "--scope",
        "GLOBAL",
    )
    assert result.exit_code == 2 and "SW_OPTION_MISSING" in result.stderr
    assert "--email" in result.stderr and not scaikey.registrations


def test_scope_needs_its_partner_or_tenant(cli, store, scaikey):
    args = register_args(scaikey.url)
    args[args.index("GLOBAL")] = "TENANT"
    result = cli.invoke("sync", "register", *args)
    assert result.exit_code == 2 and "--tenant" in result.stderr


def test_invalid_email_is_exit_1(cli, store, scaikey):
    args = register_args(scaikey.url)
    args[args.index("ops@example.com")] = "not-an-address"
    result = cli.invoke("sync", "register", *args)
    assert result.exit_code == 1 and "SW_OPTION_INVALID" in result.stderr


def test_interactive_prompts(cli, store, scaikey, monkeypatch):
    monkeypatch.setattr(register_cmd, "can_prompt", lambda: True)
    answers = f"{scaikey.url}\nhttps://wave.example.com\nops@example.com\nTENANT\nacme\n\n"
    result = cli.invoke("sync", "register", input=answers)
    assert result.exit_code == 0, result.output
    (request,) = scaikey.registrations.values()
    assert request["app_scope"] == "TENANT" and request["tenant_slug"] == "acme"
    assert request["name"] == "ScaiWave localhost"  # the default, accepted with Enter


def test_status_polls_then_writes_credentials_into_env(cli, store, scaikey):
    env_file = cli.home.parent / ".env"
    env_file.write_text(
        "# my settings\nSCAIWAVE_SERVER_NAME=wave.example.com\n"
        "SCAIKEY_CLIENT_ID=old-client\n\nOTHER='kept as is'\n"
    )
    assert cli.invoke("sync", "register", *register_args(scaikey.url)).exit_code == 0
    pending = cli.invoke("--output", "json", "status", "--no-drift")
    assert pending.exit_code == 0, pending.output
    assert json.loads(pending.stdout)["registration"]["status"] == "pending"
    (request_id,) = scaikey.registrations
    creds = scaikey.approve(request_id)
    approved = cli.invoke("--output", "json", "sync", "status")
    assert approved.exit_code == 0, approved.output
    out = json.loads(approved.stdout)
    assert out["registration"]["status"] == "approved"
    assert out["credentials"] == "configured"
    assert out["drift"]["scaikey"]["tenants_unlinked"] == 1
    assert creds["client_secret"] not in approved.output
    text = env_file.read_text()
    assert text.startswith("# my settings\nSCAIWAVE_SERVER_NAME=wave.example.com\n")
    assert f"SCAIKEY_CLIENT_ID={creds['client_id']}\n\nOTHER='kept as is'\n" in text
    assert f"SCAIKEY_CLIENT_SECRET={creds['client_secret']}" in text
    assert "old-client" not in text
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    backup = env_file.with_name(".env.bak")
    assert "old-client" in backup.read_text()
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert "status_token" not in state(cli)
    m = api.store.models
    with store.session() as s:
        row = s.scalar(select(m.ScaikeyRegistration))
        actions = set(s.scalars(select(m.AuditEntry.action)))
    assert (row.status, row.client_id) == ("approved", creds["client_id"])
    assert "sync.registration.approved" in actions
    # the credentials are in use now: a full sync works with them
    synced = cli.invoke("--output", "json", "sync", "--create-tenants")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["totals"]["create"] == 3
    again = cli.invoke("sync", "register", *register_args(scaikey.url))
    assert again.exit_code == 1 and "SW_SYNC_ALREADY_REGISTERED" in again.stderr


def test_status_rejected(cli, store, scaikey):
    assert cli.invoke("sync", "register", *register_args(scaikey.url)).exit_code == 0
    (request_id,) = scaikey.registrations
    scaikey.registrations[request_id]["status"] = "REJECTED"
    out = cli.json("status", "--no-drift")
    assert out["registration"]["status"] == "rejected"
    # a rejected request may be replaced by a new one
    assert cli.invoke("register", *register_args(scaikey.url)).exit_code == 0
    assert len(scaikey.registrations) == 2


def test_credentials_collected_elsewhere_is_exit_1(cli, store, scaikey):
    assert cli.invoke("sync", "register", *register_args(scaikey.url)).exit_code == 0
    (request_id,) = scaikey.registrations
    scaikey.approve(request_id)
    scaikey.registrations[request_id]["collected"] = True
    result = cli.invoke("status", "--no-drift")
    assert result.exit_code == 1 and "SW_SYNC_CREDENTIALS_COLLECTED" in result.stderr


def test_unknown_request_is_exit_3(cli, store, scaikey):
    assert cli.invoke("sync", "register", *register_args(scaikey.url)).exit_code == 0
    scaikey.registrations.clear()
    result = cli.invoke("status")
    assert result.exit_code == 3 and "SW_SYNC_REGISTRATION_UNKNOWN" in result.stderr


def test_status_without_registration_or_credentials(cli, store):
    out = cli.json("sync", "status")
    assert out["registration"] == {"status": "none"} and out["credentials"] == "missing"
    assert out["drift"]["drift"] is None and out["last_run"] is None
    table = cli.invoke("status")
    assert table.exit_code == 0 and "registration.status" in table.stdout
    failing = cli.invoke("status", "--fail-on-drift")
    assert failing.exit_code == 2 and "SW_SCAIKEY_NOT_CONFIGURED" in failing.stderr


def test_drift_and_fail_on_drift(world, db_url):
    world.link("acme")
    result = world.cli.invoke("--output", "json", "status", "--fail-on-drift")
    assert result.exit_code == 1 and "SW_SYNC_DRIFT" in result.stderr
    drift = json.loads(result.stdout)["drift"]
    assert drift["would"]["create"] == 6 and drift["scaikey"]["users"] == 6
    assert drift["local"] == {"tenants": 1, "users": 0, "groups": 0}
    world.ok()
    # acme is in sync; globex, not linked to any local tenant, is drift still (issue 13)
    unlinked = world.cli.invoke("--output", "json", "status", "--fail-on-drift")
    assert unlinked.exit_code == 1 and "SW_SYNC_DRIFT" in unlinked.stderr
    assert json.loads(unlinked.stdout)["drift"]["changes"] == 0
    assert "globex (tnt_globex)" in unlinked.stderr
    linked = world.cli.invoke(
        "admin", "create-tenant", "--slug", "globex", "--name", "Globex",
        "--scaikey-tenant-id", "tnt_globex",
    )  # fmt: skip
    assert linked.exit_code == 0, linked.output
    world.ok()
    out = world.cli.json("status", "--fail-on-drift")
    assert out["drift"]["drift"] is False and out["drift"]["local"]["users"] == 12
    assert out["last_run"]["status"] == "ok" and out["last_run"]["counts"]["totals"]["create"] == 6
    assert out["running"] is None


def test_status_reports_a_failed_run(world, db_url):
    world.link("acme")
    world.fake.add_fault("status", path="/users/", status=500, times=None)
    assert world.sync().exit_code == 2
    out = world.cli.json("status", "--no-drift")
    assert out["last_run"]["status"] == "failed"
    assert "kept answering 500" in out["last_run"]["error"]
