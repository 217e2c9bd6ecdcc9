"""`scaiwave admin list-partners | create-partner` on SQLite and MariaDB: output, idempotency,
conflicts, audit rows, platform-only scope, exit codes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models


def _partners(store):
    with store.session() as s:
        return list(s.scalars(select(m.Partner).order_by(m.Partner.slug)))


def _audit(store):
    with store.session() as s:
        return list(s.scalars(select(m.AuditEntry).order_by(m.AuditEntry.id)))


def test_create_partner_then_unchanged_then_conflict(cli, store):
    args = ["admin", "create-partner", "--slug", "northwind", "--name", "Northwind",
            "--scaikey-partner-id", "prt_north"]  # fmt: skip
    created = cli.json(*args)
    assert created["result"] == "created" and created["id"].startswith("ptn-")
    [row] = _partners(store)
    assert (row.slug, row.name, row.scaikey_partner_id) == ("northwind", "Northwind", "prt_north")
    [entry] = _audit(store)
    assert (entry.action, entry.target, entry.tenant_id) == (
        "partner.create", "partner:northwind", None,
    )  # fmt: skip
    assert entry.details == {
        "before": None,
        "after": {"slug": "northwind", "name": "Northwind", "scaikey_partner_id": "prt_north"},
    }

    again = cli.invoke("--output", "json", *args)
    assert again.exit_code == 0 and json.loads(again.stdout)["result"] == "unchanged"
    assert len(_partners(store)) == 1 and len(_audit(store)) == 1

    differs = cli.invoke("--output", "json", "admin", "create-partner", "--slug", "northwind",
                         "--name", "Northwind Ltd")  # fmt: skip
    assert differs.exit_code == 1
    error = json.loads(differs.stderr)["error"]
    assert error["code"] == "SW_PARTNER_CONFLICT"
    assert set(error["details"]["conflicts"]) == {"name", "scaikey_partner_id"}

    taken = cli.invoke("admin", "create-partner", "--slug", "other", "--name", "O",
                       "--scaikey-partner-id", "prt_north")  # fmt: skip
    assert taken.exit_code == 1 and "SW_PARTNER_CONFLICT" in taken.stderr
    assert "northwind" in taken.stderr
    assert len(_partners(store)) == 1 and len(_audit(store)) == 1


def test_create_partner_bad_slug(cli, store):
    result = cli.invoke("admin", "create-partner", "--slug", "No!", "--name", "x")
    assert result.exit_code == 1 and "SW_SLUG_INVALID" in result.stderr
    assert "partner slug" in result.stderr and _partners(store) == []


def test_list_partners_with_tenant_counts(cli, store):
    cli.json("admin", "create-partner", "--slug", "north", "--name", "North")
    cli.json("admin", "create-partner", "--slug", "south", "--name", "South",
             "--scaikey-partner-id", "prt_s")  # fmt: skip
    for slug in ("acme", "bolt"):
        cli.json("admin", "create-tenant", "--slug", slug, "--name", slug,
                 "--scaikey-tenant-id", f"tnt_{slug}", "--partner-id", "north")  # fmt: skip
    rows = cli.json("admin", "list-partners")
    assert [(r["slug"], r["tenants"], r["scaikey_partner_id"]) for r in rows] == [
        ("north", 2, None), ("south", 0, "prt_s"),
    ]  # fmt: skip
    table = cli.invoke("admin", "list-partners")
    assert table.exit_code == 0 and table.stdout.split()[:4] == [
        "slug", "name", "scaikey_partner_id", "tenants",
    ]  # fmt: skip
    csv = cli.invoke("--output", "csv", "admin", "list-partners")
    assert csv.stdout.splitlines()[1].startswith("north,North,,2,ptn-")


def test_partners_are_platform_only(cli, store, admin_token):
    cli.json("admin", "create-partner", "--slug", "north", "--name", "North",
             "--scaikey-partner-id", "prt_north")  # fmt: skip
    for env in (
        admin_token.env("partner_admin", partner_id="prt_north"),
        admin_token.env("tenant_admin", tenant_id="tnt_acme"),
    ):
        for args in (["list-partners"], ["create-partner", "--slug", "x-y", "--name", "X"]):
            result = cli.invoke("--output", "json", "admin", *args, env=env)
            assert result.exit_code == 3, result.output
            error = json.loads(result.stderr)["error"]
            assert error["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
            assert "platform admins only" in error["message"]
    platform = admin_token.env("super_admin")
    assert [r["slug"] for r in cli.json("admin", "list-partners", env=platform)] == ["north"]
    assert len(_partners(store)) == 1


COMMANDS = [["list-partners"], ["create-partner", "--slug", "north", "--name", "N"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_expired_token_exits_3(cli, store, admin_token, args):
    result = cli.invoke("admin", *args, env=admin_token.env(exp=1_000_000))
    assert result.exit_code == 3 and "SW_AUTH_EXPIRED_TOKEN" in result.stderr
    assert _partners(store) == []


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_unusable_database_exits_2(cli, unusable_db_url, args):
    url, code = unusable_db_url()
    result = cli.invoke("admin", *args, env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2 and code in result.stderr, result.output


@pytest.mark.parametrize("name", ["list-partners", "create-partner"])
def test_help_has_example(cli, name):
    result = cli.invoke("admin", name, "--help")
    assert result.exit_code == 0 and "Example: scaiwave" in result.stdout
