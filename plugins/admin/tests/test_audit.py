"""`scaiwave admin audit` on SQLite and MariaDB: the rows the admin commands write (same
transaction as the change), filters, streaming, scope, exit codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from scaiwave_cli import api

m = api.store.models
KEY_SAFETY = ["--server-name", "wave.test", "--allow-unencrypted"]  # issue 13's key rules


def _count(store, model):
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def history(cli, store):
    """Partners, tenants, updates and a key, made through the CLI (so audited by it)."""
    cli.json("admin", "create-partner", "--slug", "north", "--name", "North",
             "--scaikey-partner-id", "prt_north")  # fmt: skip
    for slug, partner in (("acme", "north"), ("bolt", "north"), ("zeta", None)):
        args = ["--partner-id", partner] if partner else []
        cli.json("admin", "create-tenant", "--slug", slug, "--name", slug.title(),
                 "--scaikey-tenant-id", f"tnt_{slug}", *args)  # fmt: skip
    cli.json("admin", "update-tenant", "acme", "--limit", "max_rooms=5")
    cli.json("admin", "update-tenant", "zeta", "--status", "suspended", "--yes")
    cli.json("admin", "federation", "key", "generate", *KEY_SAFETY)
    return store


def test_audit_lists_every_change_oldest_first(cli, history):
    rows = cli.json("admin", "audit")
    assert [(r["action"], r["target"], r["tenant"]) for r in rows] == [
        ("partner.create", "partner:north", None),
        ("tenant.create", "tenant:acme", "acme"),
        ("tenant.create", "tenant:bolt", "bolt"),
        ("tenant.create", "tenant:zeta", "zeta"),
        ("tenant.update", "tenant:acme", "acme"),
        ("tenant.update", "tenant:zeta", "zeta"),
        ("federation.key.generate", rows[-1]["target"], None),
    ]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    update = rows[4]
    assert update["details"] == {"before": {"max_rooms": None}, "after": {"max_rooms": 5}}
    assert update["actor"].startswith("local:") and update["actor_kind"] == "local"

    table = cli.invoke("admin", "audit")
    assert table.exit_code == 0
    assert table.stdout.split()[:8] == [
        "id", "at", "actor", "actor_kind", "action", "target", "tenant", "details",
    ]  # fmt: skip
    jsonl = cli.invoke("--output", "jsonl", "admin", "audit")
    assert [json.loads(line)["id"] for line in jsonl.stdout.splitlines()] == [r["id"] for r in rows]
    csv = cli.invoke("--output", "csv", "admin", "audit")
    assert len(csv.stdout.splitlines()) == 8 and '""max_rooms"": 5' in csv.stdout


def test_audit_filters(cli, history):
    def actions(*args):
        return [(r["action"], r["tenant"]) for r in cli.json("admin", "audit", *args)]

    assert actions("--tenant", "acme") == [("tenant.create", "acme"), ("tenant.update", "acme")]
    assert actions("--action", "tenant.update") == [
        ("tenant.update", "acme"), ("tenant.update", "zeta"),
    ]  # fmt: skip
    assert [a for a, _ in actions("--action", "federation.*")] == ["federation.key.generate"]
    assert actions("--action", "tenant_*") == []  # '_' is literal, not a LIKE wildcard
    assert len(actions("--since", "1h")) == 7
    assert actions("--until", "1h") == []
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert actions("--since", tomorrow) == []
    assert len(actions("--until", tomorrow + "T00:00:00Z")) == 7
    assert len(actions("--actor", cli.json("admin", "audit")[0]["actor"])) == 7
    assert actions("--actor", "scaikey:nobody") == []

    # an old row (written directly) falls outside --since 7d
    with history.transaction() as s:
        s.add(m.AuditEntry(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), actor="local:old",
                           action="tenant.update", target="tenant:acme", tenant_id=None,
                           details={}))  # fmt: skip
    assert len(actions("--since", "7d")) == 7
    assert len(actions("--since", "2019-12-31")) == 8

    bad = cli.invoke("--output", "json", "admin", "audit", "--since", "last tuesday")
    assert bad.exit_code == 1
    assert json.loads(bad.stderr)["error"]["code"] == "SW_TIME_INVALID"
    missing = cli.invoke("admin", "audit", "--tenant", "nope")
    assert missing.exit_code == 1 and "SW_TENANT_NOT_FOUND" in missing.stderr


def test_audit_row_and_change_share_one_transaction(cli, store, monkeypatch):
    """If writing the audit row fails, the change is rolled back with it; a refused change
    writes no audit row."""
    real = api.audit.record

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(api.audit, "record", failing)
    result = cli.invoke("admin", "create-tenant", "--slug", "acme", "--name", "A",
                        "--scaikey-tenant-id", "tnt_a")  # fmt: skip
    assert result.exit_code == 1 and "audit table unavailable" in result.stderr
    result = cli.invoke("admin", "federation", "key", "generate", *KEY_SAFETY)
    assert result.exit_code == 1
    assert _count(store, m.Tenant) == 0 and _count(store, m.FederationKey) == 0
    assert _count(store, m.AuditEntry) == 0
    monkeypatch.setattr(api.audit, "record", real)

    cli.json("admin", "create-tenant", "--slug", "acme", "--name", "A",
             "--scaikey-tenant-id", "tnt_a")  # fmt: skip
    refused = cli.invoke("admin", "create-tenant", "--slug", "acme", "--name", "B",
                         "--scaikey-tenant-id", "tnt_a")  # fmt: skip
    assert refused.exit_code == 1 and _count(store, m.AuditEntry) == 1


def test_audit_streams_many_rows(cli, store):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with store.transaction() as s:
        api.store.insert_batches(s, m.AuditEntry, (
            {"at": start + dt.timedelta(seconds=i), "actor": "local:bulk", "actor_kind": "local",
             "action": "tenant.update", "target": f"tenant:t{i}", "tenant_id": None,
             "details": {"i": i}}
            for i in range(5000)))  # fmt: skip
    result = cli.invoke("--output", "jsonl", "admin", "audit", "--batch-size", "100")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 5000
    assert [json.loads(lines[i])["details"]["i"] for i in (0, 1, 4999)] == [0, 1, 4999]


def test_audit_scope_of_partner_and_tenant_admins(cli, history, admin_token):
    partner = admin_token.env("partner_admin", partner_id="prt_north")
    rows = cli.json("admin", "audit", env=partner)
    assert {r["tenant"] for r in rows} == {"acme", "bolt"}  # no partner/key rows, no zeta
    tenant = admin_token.env("tenant_admin", tenant_id="tnt_bolt")
    assert [r["target"] for r in cli.json("admin", "audit", env=tenant)] == ["tenant:bolt"]
    assert [r["tenant"] for r in cli.json("admin", "audit", "--tenant", "bolt", env=tenant)] == [
        "bolt"
    ]
    for env, other in ((partner, "zeta"), (tenant, "acme")):
        result = cli.invoke("--output", "json", "admin", "audit", "--tenant", other, env=env)
        assert result.exit_code == 3
        assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert len(cli.json("admin", "audit", env=admin_token.env("super_admin"))) == 7


def test_audit_expired_token_exits_3(cli, db_url, admin_token):
    result = cli.invoke("admin", "audit", env=admin_token.env(exp=1_000_000))
    assert result.exit_code == 3 and "SW_AUTH_EXPIRED_TOKEN" in result.stderr


def test_audit_unusable_database_exits_2(cli, unusable_db_url):
    url, code = unusable_db_url()
    result = cli.invoke("admin", "audit", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2 and code in result.stderr, result.output


def test_audit_help_has_example(cli):
    result = cli.invoke("admin", "audit", "--help")
    assert result.exit_code == 0 and "Example: scaiwave" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", dt.datetime(2026, 1, 31, tzinfo=dt.UTC)),
        ("2026-01-31T12:00:00Z", dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC)),
        ("2026-01-31T12:00:00+02:00", dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)),
        ("7d", dt.datetime(2026, 1, 24, tzinfo=dt.UTC)),
        ("36h", dt.datetime(2026, 1, 29, 12, tzinfo=dt.UTC)),
    ],
)
def test_parse_when(text, expected):
    from scaiwave_admin.audit import parse_when

    now = dt.datetime(2026, 1, 31, tzinfo=dt.UTC)
    assert parse_when(text, option="--since", now=now) == expected
