"""`scaiwave admin list-tenants | create-tenant | show-tenant | update-tenant`, through the CLI on
SQLite and MariaDB (``db_url``), checking output, exit codes and database rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from scaiwave_cli import api
from scaiwave_cli.testing import assert_help_is_light

m = api.store.models


def _today():
    return dt.datetime.now(dt.UTC).date()


def _rows(store, model, **where):
    with store.session() as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(s.scalars(q))


def _audit(store, action=None):
    with store.session() as s:
        q = select(m.AuditEntry).order_by(m.AuditEntry.id)
        if action:
            q = q.where(m.AuditEntry.action == action)
        return list(s.scalars(q))


def _month_days():
    today = _today()
    first = today.replace(day=1)
    last_month = first - dt.timedelta(days=1)
    return today, first, last_month


# -- list-tenants ---------------------------------------------------------------------------


def test_list_tenants_counts_storage_and_ai_tokens(cli, seed):
    today, first, last_month = _month_days()
    seed.partner("north")
    seed.tenant("acme", partner="north")
    seed.tenant("globex", status="suspended")
    seed.tenant("empty")
    seed.usage(
        "acme", members=3, inactive=2, rooms=4,
        media=[("a" * 64, 1000), ("a" * 64, 1000), ("b" * 64, 2 * 1024 * 1024)],
        ai=[(first, "m1", 100), (today, "m2", 50), (last_month, "m1", 999)],
    )  # fmt: skip
    seed.usage("globex", members=1, rooms=1, media=[("c" * 64, 10)])

    rows = {r["slug"]: r for r in cli.json("admin", "list-tenants")}
    assert list(rows) == ["acme", "empty", "globex"]
    acme = rows["acme"]
    assert acme["partner"] == "north"
    assert (acme["members"], acme["rooms"]) == (3, 4)  # inactive participants are not members
    assert acme["storage_bytes"] == 1000 + 2 * 1024 * 1024  # the same file counts once
    assert acme["ai_tokens_mtd"] == 150  # last month's tokens are not month-to-date
    assert acme["status"] == "active" and acme["scaikey_tenant_id"] == "tnt_acme"
    assert rows["empty"] | {"created_at": None, "id": None} == {
        "id": None, "slug": "empty", "name": "Empty", "partner": None,
        "scaikey_tenant_id": "tnt_empty", "members": 0, "rooms": 0, "storage_bytes": 0,
        "ai_tokens_mtd": 0, "status": "active", "created_at": None,
    }  # fmt: skip
    assert rows["globex"]["status"] == "suspended"

    table = cli.invoke("admin", "list-tenants")
    assert table.exit_code == 0, table.output
    header, *lines = table.stdout.splitlines()
    assert header.split() == [
        "slug", "name", "partner", "members", "rooms", "storage", "ai_tokens_mtd", "status"
    ]  # fmt: skip
    assert "2.0 MiB" in lines[0] and lines[0].startswith("acme")

    csv = cli.invoke("--output", "csv", "admin", "list-tenants")
    assert csv.exit_code == 0
    assert "storage_bytes" in csv.stdout.splitlines()[0]
    assert f",{1000 + 2 * 1024 * 1024}," in csv.stdout

    jsonl = cli.invoke("--output", "jsonl", "admin", "list-tenants")
    assert [json.loads(line)["slug"] for line in jsonl.stdout.splitlines()] == list(rows)


def test_list_tenants_filters_and_sort(cli, seed):
    seed.partner("north")
    seed.partner("south", scaikey_partner_id="prt_south")
    seed.tenant("acme", partner="north")
    seed.tenant("beta", partner="south", status="suspended")
    seed.tenant("gamma", partner="south")
    seed.usage("acme", media=[("a" * 64, 10)])
    seed.usage("beta", media=[("b" * 64, 5000)])
    seed.usage("gamma", media=[("c" * 64, 300)])

    def slugs(*args):
        return [r["slug"] for r in cli.json("admin", "list-tenants", *args)]

    assert slugs("--partner", "south") == ["beta", "gamma"]
    assert slugs("--partner", "prt_south") == ["beta", "gamma"]  # by ScaiKey id
    assert slugs("--partner", "ptn-north") == ["acme"]  # by id
    assert slugs("--status", "suspended") == ["beta"]
    assert slugs("--partner", "south", "--status", "active") == ["gamma"]
    assert slugs("--sort", "storage", "--desc") == ["beta", "gamma", "acme"]
    assert slugs("--sort", "storage") == ["acme", "gamma", "beta"]
    assert slugs("--sort", "partner") == ["acme", "beta", "gamma"]

    missing = cli.invoke("admin", "list-tenants", "--partner", "nobody")
    assert missing.exit_code == 1 and "SW_PARTNER_NOT_FOUND" in missing.stderr
    bad = cli.invoke("admin", "list-tenants", "--status", "deleted")
    assert bad.exit_code == 2  # click's usage error


def _count_statements(cli, *args):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        result = cli.invoke("--output", "json", *args)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert result.exit_code == 0, result.output
    return len(statements), json.loads(result.stdout)


def _bulk_tenants(store, start, stop):
    """Tenants ``t0000…`` with a partner each third, and usage rows for each: fast batches."""
    today = _today()
    ids = [f"tnt-bulk-{i:05d}" for i in range(start, stop)]
    with store.transaction() as s:
        insert = api.store.insert_batches
        insert(s, m.Tenant, (
            {"id": t, "slug": f"t{i:05d}", "name": f"T{i}", "scaikey_tenant_id": f"tnt_{i}",
             "partner_id": "ptn-north" if i % 3 == 0 else None, "status": "active",
             "features": {}, "ai_defaults": {}}
            for i, t in zip(range(start, stop), ids, strict=True)))  # fmt: skip
        insert(s, m.Workspace, ({"id": f"ws-{t}", "tenant_id": t, "slug": "general",
                                 "name": "General"} for t in ids))  # fmt: skip
        insert(s, m.Participant, ({"id": f"prt-{t}-{j}", "tenant_id": t, "display_name": "p",
                                   "kind": "human", "active": True}
                                  for t in ids for j in range(2)))  # fmt: skip
        insert(s, m.Room, ({"id": f"room-{t}", "tenant_id": t, "workspace_id": f"ws-{t}",
                            "type": "group", "state": "open"} for t in ids))  # fmt: skip
        insert(s, m.Media, ({"id": f"med-{t}", "tenant_id": t, "sha256": "d" * 64, "name": "f",
                             "size": 100, "storage_key": "k"} for t in ids))  # fmt: skip
        insert(s, m.AiTokenUsage, ({"tenant_id": t, "day": today, "model": "m", "tokens": 7}
                                   for t in ids))  # fmt: skip


def test_list_tenants_statement_count_does_not_grow_with_tenants(cli, seed, store):
    seed.partner("north")
    _bulk_tenants(store, 0, 10)
    few, rows = _count_statements(cli, "admin", "list-tenants")
    assert len(rows) == 10
    _bulk_tenants(store, 10, 1000)
    many, rows = _count_statements(cli, "admin", "list-tenants", "--sort", "members")
    assert len(rows) == 1000
    assert many == few, f"{few} statements for 10 tenants, {many} for 1,000"
    assert {(r["members"], r["rooms"], r["storage_bytes"], r["ai_tokens_mtd"]) for r in rows} == {
        (2, 1, 100, 7)
    }
    # the same with filters and a partner-scoped view
    filtered, rows = _count_statements(cli, "admin", "list-tenants", "--partner", "north")
    assert len(rows) == 334 and filtered <= few + 1  # + the partner look-up


# -- create-tenant ----------------------------------------------------------------------------


def test_create_tenant_then_unchanged_then_conflict(cli, seed, store):
    seed.partner("north")
    args = ["admin", "create-tenant", "--slug", "acme", "--name", "Acme Corp",
            "--scaikey-tenant-id", "tnt_acme", "--partner-id", "north"]  # fmt: skip
    created = cli.json(*args)
    assert created["result"] == "created" and created["slug"] == "acme"
    assert created["partner"] == "north" and created["status"] == "active"
    [row] = _rows(store, m.Tenant)
    assert (row.slug, row.name, row.scaikey_tenant_id, row.partner_id) == (
        "acme", "Acme Corp", "tnt_acme", "ptn-north",
    )  # fmt: skip
    assert row.id.startswith("tnt-") and created["id"] == row.id
    [entry] = _audit(store)
    assert (entry.action, entry.target, entry.tenant_id) == ("tenant.create", "tenant:acme", row.id)
    assert entry.details["after"]["scaikey_tenant_id"] == "tnt_acme"
    assert entry.actor.startswith("local:") and entry.actor_kind == "local"

    again = cli.invoke("--output", "json", *args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["result"] == "unchanged"
    assert "unchanged" in again.stderr
    assert len(_rows(store, m.Tenant)) == 1 and len(_audit(store)) == 1

    differs = cli.invoke(
        "--output", "json", "admin", "create-tenant", "--slug", "acme", "--name", "Acme",
        "--scaikey-tenant-id", "tnt_other",
    )  # fmt: skip
    assert differs.exit_code == 1
    error = json.loads(differs.stderr)["error"]
    assert error["code"] == "SW_TENANT_CONFLICT"
    assert set(error["details"]["conflicts"]) == {"name", "scaikey_tenant_id", "partner"}
    assert "name" in error["message"] and "scaikey_tenant_id" in error["message"]
    assert _rows(store, m.Tenant)[0].name == "Acme Corp" and len(_audit(store)) == 1

    taken = cli.invoke(
        "admin", "create-tenant", "--slug", "acme-2", "--name", "A", "--scaikey-tenant-id",
        "tnt_acme",
    )  # fmt: skip
    assert taken.exit_code == 1 and "SW_TENANT_CONFLICT" in taken.stderr
    assert "scaikey_tenant_id" in taken.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--slug", "Bad_Slug", "--name", "x", "--scaikey-tenant-id", "t"], "SW_SLUG_INVALID"),
        (["--slug", "ab", "--name", "x", "--scaikey-tenant-id", "t"], "SW_SLUG_INVALID"),
        (["--slug", "okay", "--name", " ", "--scaikey-tenant-id", "t"], "SW_TENANT_INVALID"),
        (["--slug", "okay", "--name", "x", "--scaikey-tenant-id", "t", "--partner-id", "nope"],
         "SW_PARTNER_NOT_FOUND"),
    ],
)  # fmt: skip
def test_create_tenant_rejects_bad_input(cli, db_url, store, args, code):
    result = cli.invoke("admin", "create-tenant", *args)
    assert result.exit_code == 1 and code in result.stderr, result.output
    assert _rows(store, m.Tenant) == [] and _audit(store) == []


def test_create_tenant_missing_option_is_usage_error(cli, db_url):
    result = cli.invoke("admin", "create-tenant", "--slug", "acme", "--name", "A")
    assert result.exit_code == 2 and "--scaikey-tenant-id" in result.stderr


# -- show-tenant ---------------------------------------------------------------------------------


def test_show_tenant_limits_features_and_counts(cli, seed):
    seed.partner("north")
    seed.tenant("acme", partner="north", max_rooms=10, max_storage_bytes=1024**3)
    seed.usage("acme", members=2, rooms=3, media=[("a" * 64, 2048)], ai=[(_today(), "m", 9)])
    cli.json("admin", "update-tenant", "acme", "--feature", "prompt_studio.enabled=true")
    shown = cli.json("admin", "show-tenant", "acme")
    assert shown["limits"] == {
        "max_participants": None, "max_rooms": 10, "max_storage_bytes": 1024**3,
        "monthly_ai_tokens": None,
    }  # fmt: skip
    assert shown["usage"] == {"members": 2, "rooms": 3, "storage_bytes": 2048, "ai_tokens_mtd": 9}
    assert shown["features"] == {"prompt_studio": {"enabled": True}}
    assert shown["partner"] == "north" and shown["id"] == "tnt-acme"
    assert cli.json("admin", "show-tenant", "tnt-acme")["slug"] == "acme"  # by id too

    table = cli.invoke("admin", "show-tenant", "acme")
    assert table.exit_code == 0
    assert "3 / 10" in table.stdout and "2.0 KiB / 1.0 GiB" in table.stdout
    assert "2 / unlimited" in table.stdout


def test_show_tenant_unknown_slug(cli, db_url):
    result = cli.invoke("--output", "json", "admin", "show-tenant", "nope")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_TENANT_NOT_FOUND"
    assert result.stdout == ""


# -- update-tenant -------------------------------------------------------------------------------


def test_update_tenant_limits_features_status_audited(cli, seed, store):
    seed.tenant("acme")
    with store.transaction() as s:
        s.get(m.Tenant, "tnt-acme").features = {"sidekick_limits": {"max_concurrent": 1}}
    out = cli.json(
        "admin", "update-tenant", "acme", "--name", "Acme Inc",
        "--limit", "max_rooms=500", "--limit", "max-storage-bytes=50GiB",
        "--limit", "monthly_ai_tokens=1000000",
        "--feature", "prompt_studio.enabled=true",
        "--feature", "sidekick_limits.max_concurrent=3",
        "--feature", "ai.default_model=gpt-large",
        "--feature", 'labels=["a", "b"]',
        "--feature", 'quoted="5"',
        "--status", "suspended", "--yes",
    )  # fmt: skip
    assert out["result"] == "updated"
    assert out["changed"] == [
        "features", "max_rooms", "max_storage_bytes", "monthly_ai_tokens", "name", "status"
    ]  # fmt: skip
    [row] = _rows(store, m.Tenant)
    assert (row.name, row.status, row.max_rooms, row.max_storage_bytes, row.monthly_ai_tokens) == (
        "Acme Inc", "suspended", 500, 50 * 1024**3, 1_000_000,
    )  # fmt: skip
    assert row.features == {
        "sidekick_limits": {"max_concurrent": 3},
        "prompt_studio": {"enabled": True},
        "ai": {"default_model": "gpt-large"},
        "labels": ["a", "b"],
        "quoted": "5",
    }
    assert row.updated_at is not None
    [entry] = _audit(store, "tenant.update")
    assert entry.tenant_id == "tnt-acme" and entry.target == "tenant:acme"
    assert entry.details["before"]["status"] == "active"
    assert entry.details["after"]["status"] == "suspended"
    assert entry.details["before"]["features"] == {"sidekick_limits": {"max_concurrent": 1}}
    assert entry.details["before"]["max_rooms"] is None

    # the same again: unchanged, no audit row
    again = cli.json("admin", "update-tenant", "acme", "--limit", "max_rooms=500", "--feature",
                     "prompt_studio.enabled=true", "--status", "suspended")  # fmt: skip
    assert again["result"] == "unchanged" and again["changed"] == []
    assert len(_audit(store, "tenant.update")) == 1

    cleared = cli.json("admin", "update-tenant", "acme", "--limit", "max_rooms=none",
                       "--unset-feature", "labels", "--status", "active", "--yes")  # fmt: skip
    assert cleared["limits"]["max_rooms"] is None and "labels" not in cleared["features"]
    assert cleared["status"] == "active"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--limit", "max_widgets=3"], "SW_TENANT_LIMIT_INVALID"),
        (["--limit", "max_rooms"], "SW_TENANT_LIMIT_INVALID"),
        (["--limit", "max_rooms=-1"], "SW_TENANT_LIMIT_INVALID"),
        (["--limit", "max_rooms=10GiB"], "SW_TENANT_LIMIT_INVALID"),
        (["--feature", "noequals"], "SW_TENANT_FEATURE_INVALID"),
        (["--feature", "a..b=1"], "SW_TENANT_FEATURE_INVALID"),
        (["--feature", "flag.sub=1"], "SW_TENANT_FEATURE_INVALID"),  # flag is not an object
        ([], "SW_NOTHING_TO_CHANGE"),
    ],
)
def test_update_tenant_rejects_bad_values(cli, seed, store, args, code):
    seed.tenant("acme")
    with store.transaction() as s:
        s.get(m.Tenant, "tnt-acme").features = {"flag": True}
    result = cli.invoke("admin", "update-tenant", "acme", *args)
    assert result.exit_code == 1 and code in result.stderr, result.output
    assert _audit(store) == [] and _rows(store, m.Tenant)[0].features == {"flag": True}


def test_update_tenant_unknown_slug(cli, db_url):
    result = cli.invoke("admin", "update-tenant", "nope", "--name", "x")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr


# -- who is acting -------------------------------------------------------------------------------


@pytest.fixture
def two_partners(seed):
    seed.partner("north", scaikey_partner_id="prt_north")
    seed.partner("south")  # no ScaiKey id: tokens name it by slug
    seed.tenant("acme", partner="north")
    seed.tenant("bolt", partner="north")
    seed.tenant("zeta", partner="south")
    seed.tenant("solo")
    return seed


def test_partner_admin_sees_and_changes_only_its_tenants(cli, two_partners, store, admin_token):
    env = admin_token.env("partner_admin", partner_id="prt_north")
    rows = cli.json("admin", "list-tenants", env=env)
    assert [r["slug"] for r in rows] == ["acme", "bolt"]
    # partner south has no ScaiKey id: a token whose partner_id equals its slug reaches nothing
    south = admin_token.env("partner_admin", partner_id="south")
    assert cli.json("admin", "list-tenants", env=south) == []
    refused = cli.invoke("--output", "json", "admin", "show-tenant", "zeta", env=south)
    assert refused.exit_code == 3, refused.output

    assert cli.json("admin", "show-tenant", "acme", env=env)["slug"] == "acme"
    for args in (
        ["show-tenant", "zeta"],
        ["update-tenant", "solo", "--name", "x"],
        ["list-tenants", "--partner", "south"],
        ["create-tenant", "--slug", "new", "--name", "N", "--scaikey-tenant-id", "tnt_new",
         "--partner-id", "south"],
    ):  # fmt: skip
        result = cli.invoke("--output", "json", "admin", *args, env=env)
        assert result.exit_code == 3, (args, result.output)
        assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"

    updated = cli.json("admin", "update-tenant", "bolt", "--limit", "max_rooms=3", env=env)
    assert updated["limits"]["max_rooms"] == 3
    created = cli.json("admin", "create-tenant", "--slug", "new", "--name", "N",
                       "--scaikey-tenant-id", "tnt_new", env=env)  # fmt: skip
    assert created["partner"] == "north"  # its own partner by default
    entry = _audit(store, "tenant.create")[0]
    assert entry.actor == "scaikey:usr_admin" and entry.actor_kind == "token"
    # a slug taken outside its scope: a conflict that reveals nothing about the other tenant
    taken = cli.invoke("--output", "json", "admin", "create-tenant", "--slug", "zeta", "--name",
                       "Z", "--scaikey-tenant-id", "tnt_zeta", env=env)  # fmt: skip
    assert taken.exit_code == 1
    assert json.loads(taken.stderr)["error"]["details"] == {"conflicts": ["slug"]}


def test_tenant_admin_sees_only_its_tenant(cli, two_partners, store, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_bolt")
    assert [r["slug"] for r in cli.json("admin", "list-tenants", env=env)] == ["bolt"]
    assert cli.json("admin", "list-tenants", "--partner", "south", env=env) == []
    shown = cli.json("admin", "update-tenant", "bolt", "--feature", "x.y=1", "--name", "B",
                     env=env)  # fmt: skip
    assert shown["features"] == {"x": {"y": 1}}
    for args in (
        ["show-tenant", "acme"],
        ["update-tenant", "bolt", "--limit", "max_rooms=1000"],
        ["update-tenant", "bolt", "--status", "suspended"],
        ["create-tenant", "--slug", "new", "--name", "N", "--scaikey-tenant-id", "tnt_new"],
    ):
        result = cli.invoke("admin", *args, env=env)
        assert result.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr, args
    assert _rows(store, m.Tenant, slug="bolt")[0].max_rooms is None


COMMANDS = [
    ["list-tenants"],
    ["create-tenant", "--slug", "acme", "--name", "A", "--scaikey-tenant-id", "tnt_a"],
    ["show-tenant", "acme"],
    ["update-tenant", "acme", "--name", "B"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_expired_or_forged_token_exits_3(cli, seed, admin_token, args):
    seed.tenant("acme")
    expired = admin_token.env(exp=1_000_000)
    result = cli.invoke("--output", "json", "admin", *args, env=expired)
    assert result.exit_code == 3
    assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_EXPIRED_TOKEN"
    forged = dict(expired, SCAIWAVE_ADMIN_TOKEN="not-a-jwt")
    result = cli.invoke("admin", *args, env=forged)
    assert result.exit_code == 3 and "SW_AUTH_INVALID_TOKEN" in result.stderr
    assert _rows(seed.store, m.Tenant, slug="acme")[0].name == "Acme"


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_unusable_database_exits_2(cli, unusable_db_url, args):
    url, code = unusable_db_url()
    result = cli.invoke("--output", "json", "admin", *args, env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == code and "secret-pw" not in result.stderr


# -- help and laziness ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list-tenants", "create-tenant", "show-tenant", "update-tenant"])
def test_help_has_summary_and_example(cli, name):
    result = cli.invoke("admin", name, "--help")
    assert result.exit_code == 0 and "Example: scaiwave" in result.stdout


def test_admin_help_imports_nothing_heavy():
    # sqlalchemy, httpx, cryptography, rich, jwt (and attrs, …): assert_help_is_light's default
    modules = assert_help_is_light("admin")
    heavy = [m for m in ("scaiwave_admin.adapters.db", "scaiwave_admin.usecases") if m in modules]
    assert heavy == [], heavy
