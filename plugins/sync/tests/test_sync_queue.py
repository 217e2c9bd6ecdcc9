"""`scaiwave sync --queue REDIS_URL` (issue 17 §2): one `sync.tenant` job per linked tenant on
ARQ workers, compared with a local run of the same fake ScaiKey against another database.

Every test runs the same steps twice: the local reconcile (in-process, the classic path) on a
second database, and the queue run (two `scaiwave worker` processes on a real redis-server, or
`--workers 2` local processes) on the test's database; then the two databases must hold the same
rows (participants, personal workspaces and their owners, groups, memberships, role grants,
audit rows, the run's row), with the generated ids (participants, workspaces, autoincrement
keys) mapped to what they stand for and timestamps reduced to set/unset; and the summaries must
be the same but for what differs by nature (`requests`: each job fetches its own token and the
apply phase lists its tenant again; `seconds`).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from scaiwave_sync.testing import FakeScaiKey
from sqlalchemy import select

from scaiwave_cli import api
from scaiwave_cli.store.testing import _empty_mariadb

LINKED = ("acme", "globex", "initech")  # the fake's fourth tenant (umbrella) stays unlinked


@pytest.fixture
def fake():
    """Four tenants of eight users (every fourth SUSPENDED) and two groups; user 0 is
    TENANT_ADMIN; a nested group and a SUPER_ADMIN in acme."""
    server = FakeScaiKey(tenants=4, users_per_tenant=8, groups_per_tenant=2, suspended_every=4)
    outer = server.add_group("tnt_acme", "acme-all")
    server.members[outer] = [{"id": g["id"], "type": "group"} for g in server.groups["tnt_acme"]]
    server.add_admin_role("usr_acme_000002", "SUPER_ADMIN")
    stranger = {"id": "usr_globex_000001", "type": "user"}  # not of acme: a warning
    server.members[server.groups["tnt_acme"][0]["id"]].append(stranger)
    server.start()
    yield server
    server.stop()


class Twin:
    """The second database (the local run's): same engine as ``db_url``, its own schema."""

    def __init__(self, cli, url: str, *, upgrade: bool = True):
        self.cli, self.url = cli, url
        if upgrade:
            upgraded = cli.invoke("--db-url", url, "db", "upgrade")
            assert upgraded.exit_code == 0, upgraded.output
        self.store = api.store.open_store(api.load_settings({"db_url": url}))

    def sync(self, *args):
        return self.cli.invoke("--db-url", self.url, "--output", "json", "sync", *args)


_TWIN: dict[str, str] = {}  # the MariaDB twin, migrated once per session, emptied per test


@pytest.fixture
def twin(world, db_url, tmp_path, request):
    if db_url.startswith("sqlite"):
        other = Twin(world.cli, f"sqlite:///{tmp_path / 'local-run.db'}")
    elif "mariadb" in _TWIN:
        _empty_mariadb(_TWIN["mariadb"])
        other = Twin(world.cli, _TWIN["mariadb"], upgrade=False)
    else:
        url = request.getfixturevalue("mariadb_server").create_database("scaiwave_sync_twin")
        other = Twin(world.cli, url)
        _TWIN["mariadb"] = url
    link(world.store, *LINKED)
    link(other.store, *LINKED)
    yield other
    other.store.close()


@pytest.fixture
def workers(world, db_url, redis_url, arq_workers):
    """Two ARQ workers with the test database and the fake's settings."""
    arq_workers.start(2, redis_url)  # the test's environment: db_url, the fake's settings
    return redis_url


def link(store, *slugs: str) -> None:
    m = api.store.models
    with store.transaction() as s:
        for slug in slugs:
            s.add(m.Tenant(id=f"tnt-{slug}", slug=slug, name=slug.title(),
                           scaikey_tenant_id=f"tnt_{slug}"))  # fmt: skip


def hold(store, name: str, holder: str, seconds: float = 600) -> None:
    """Lock ``name`` held by another host's live process (stale in ``seconds``)."""
    now = api.store.utcnow()
    until = now + dt.timedelta(seconds=seconds)
    with store.transaction() as s:
        s.add(
            api.store.models.SyncLock(name=name, holder=holder, acquired_at=now, expires_at=until)
        )


# -- what the two databases hold, ids mapped -------------------------------------------------

TABLES = ("tenants", "participants", "workspaces", "workspace_members", "scaikey_groups",
          "scaikey_group_members", "role_assignments", "roles", "audit_log", "sync_runs",
          "sync_locks")  # fmt: skip
AUTOINCREMENT = {"role_assignments", "audit_log", "sync_runs", "roles"}  # their `id` column


def dump(store) -> dict[str, list]:
    """Every row of the tables the sync writes, generated ids mapped to what they stand for
    (a participant to its ScaiKey user, its personal workspace likewise, a group to its ScaiKey
    group), timestamps reduced to set/unset, run-dependent counts (`requests`) left out."""
    meta = api.store.models.Base.metadata
    names: dict = {}
    people = meta.tables["participants"]
    with store.session() as s:
        tenants = meta.tables["tenants"]
        for tid, slug in s.execute(select(tenants.c.id, tenants.c.slug)):
            names[tid] = f"<tenant {slug}>"  # `--create-tenants` generates their ids
        for pid, sk_id in s.execute(select(people.c.id, people.c.scaikey_user_id)):
            tail = pid.split("-", 1)[-1]
            names[pid] = f"<participant {sk_id}>"
            names["ws-" + tail] = f"<workspace {sk_id}>"
            names["personal-" + tail.lower()] = f"<personal {sk_id}>"
        runs = meta.tables["sync_runs"]
        for n, run_id in enumerate(s.scalars(select(runs.c.id).order_by(runs.c.id))):
            names[f"sync-run:{run_id}"] = f"sync-run:<{n}>"  # the run's audit target
        groups = meta.tables["scaikey_groups"]
        for gid, sk_id in s.execute(select(groups.c.id, groups.c.scaikey_group_id)):
            names[gid] = f"<group {sk_id}>"
            names[str(gid)] = f"<group {sk_id}>"
        out = {}
        for table in TABLES:
            t = meta.tables[table]
            rows = []
            for row in s.execute(select(t)).mappings():
                row = dict(row)
                if table in AUTOINCREMENT:
                    row.pop("id")
                if table == "scaikey_groups":
                    row["id"] = names[row["id"]]
                if table == "scaikey_group_members":
                    row["group_id"] = names[row["group_id"]]
                if table == "role_assignments":
                    row["role_id"] = _role_name(s, meta, row["role_id"])
                rows.append(_normal(row, names))
            out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def _role_name(session, meta, role_id):
    roles = meta.tables["roles"]
    return session.scalar(select(roles.c.name).where(roles.c.id == role_id))


def _normal(value, names):
    if isinstance(value, dict):
        return {_normal(k, names): _normal(v, names) for k, v in value.items() if k != "requests"}
    if isinstance(value, list | tuple):
        return [_normal(v, names) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return "<time>"
    if isinstance(value, str):
        if value in names:
            return names[value]
        for raw, name in names.items():  # "participant:prt-…" audit targets
            if isinstance(raw, str) and raw in value and len(raw) > 8:
                value = value.replace(raw, name)
        return value
    return value


def same_summary(local: dict, queued: dict) -> None:
    def strip(summary):
        skip = ("run_id", "requests", "seconds", "details")  # run_id: the sync_runs row's id
        return {k: v for k, v in summary.items() if k not in skip}

    assert strip(queued) == strip(local)


def same_rows(store, other, tables=TABLES, *, runs=True) -> None:
    mine, theirs = dump(store), dump(other)
    if not runs:
        for rows in (mine, theirs):
            rows["audit_log"] = [r for r in rows["audit_log"] if r["action"] != "sync.run"]
    for table in tables:  # one table at a time, naming the rows only one side has
        extra = [r for r in mine[table] if r not in theirs[table]]
        missing = [r for r in theirs[table] if r not in mine[table]]
        assert mine[table] == theirs[table], (table, extra, missing)


def run_both(world, twin, *args, queue=None, workers=None):
    """The local run on the twin, the fanned-out run on the test database: both results."""
    local = twin.sync(*args)
    fan = ("--queue", queue) if queue else ("--workers", str(workers))
    queued = world.sync(*fan, *args)
    return local, queued


def assert_same(local, queued, world, twin) -> dict:
    assert queued.exit_code == local.exit_code, (local.output, queued.output)
    same_rows(world.store, twin.store)
    if local.exit_code:
        return {}
    a, b = json.loads(local.stdout), json.loads(queued.stdout)
    same_summary(a, b)
    # fanned out indeed: every job fetched its own token and listed its tenant
    assert b["requests"] > a["requests"]
    return b


def change_scaikey(fake) -> None:
    """Every kind of change: renamed, suspended, removed, added, reactivated users; a group
    gone, members moved; an admin role moved to another user."""
    fake.user("usr_acme_000001").update(display_name="Ann Renamed", email="ann@acme.example")
    fake.user("usr_acme_000005")["status"] = "SUSPENDED"
    fake.remove_user("usr_globex_000002")
    fake.add_user("tnt_globex", 99)
    fake.user("usr_initech_000003")["status"] = "ACTIVE"  # was suspended: created now
    fake.user("usr_acme_000007")["status"] = "ACTIVE"
    gone = fake.groups["tnt_globex"].pop()
    fake.members.pop(gone["id"])
    first = fake.groups["tnt_initech"][0]["id"]
    fake.members[first] = fake.members[first][1:] + [{"id": "usr_initech_000005", "type": "user"}]
    fake.admin_roles = [r for r in fake.admin_roles if r["user_id"] != "usr_initech_000000"]
    fake.add_admin_role("usr_initech_000001", "TENANT_ADMIN", "tnt_initech")


# -- the tests ---------------------------------------------------------------------------------


def test_queue_run_writes_what_a_local_run_writes(world, twin, workers, arq_workers, db_url):
    local, queued = run_both(world, twin, queue=workers)
    out = assert_same(local, queued, world, twin)
    assert out["totals"]["create"] == 18 and out["writes"] > 0
    assert [t["tenant"] for t in out["tenants"]] == list(LINKED)
    assert [t["slug"] for t in out["unlinked_tenants"]] == ["umbrella"]
    assert "1 ScaiKey tenant(s) not linked" in queued.stderr
    assert out["warnings"] == [
        "tenant 'acme': 2 group member(s) are not users of this tenant in ScaiKey: ignored"
    ]
    assert "sync.tenant:apply" in arq_workers.logs()

    change_scaikey(world.fake)
    local, queued = run_both(world, twin, queue=workers)
    out = assert_same(local, queued, world, twin)
    t = out["totals"]
    assert (t["update"], t["deactivate"], t["reactivate"]) == (1, 2, 0)
    assert t["create"] == 3 and t["groups_deactivate"] == 1 and t["roles_revoke"] == 1
    assert out["changes"] > 0

    # nothing changed in ScaiKey: nothing planned, nothing written, on both
    local, queued = run_both(world, twin, queue=workers)
    out = assert_same(local, queued, world, twin)
    assert out["changes"] == 0 and out["writes"] == 0


def test_local_worker_processes_write_what_a_local_run_writes(world, twin, db_url):
    local, queued = run_both(world, twin, workers=2)
    assert_same(local, queued, world, twin)
    change_scaikey(world.fake)
    local, queued = run_both(world, twin, workers=2)
    out = assert_same(local, queued, world, twin)
    assert out["totals"]["deactivate"] == 2


def test_table_and_details_are_a_local_runs(world, twin, workers, db_url):
    local = twin.cli.invoke("--db-url", twin.url, "sync", "--dry-run")
    queued = world.cli.invoke("sync", "--queue", workers, "--dry-run")
    assert queued.exit_code == local.exit_code == 0, queued.output
    assert queued.stdout == local.stdout  # the table: per tenant and TOTAL
    assert "planned (dry run, nothing written)" in queued.stderr
    first = twin.sync("--details")
    queued = world.sync("--queue", workers, "--details")
    assert queued.exit_code == 0, queued.output
    rows, local_rows = json.loads(queued.stdout)["details"], json.loads(first.stdout)["details"]
    # the created participants' ids are generated: --details names the ones written
    by_sk = {r["scaikey_id"]: r["local_id"] for r in rows if r["action"] == "create"}
    for sk_id, pid in by_sk.items():
        assert world.participant(sk_id).id == pid
    # in order, but for the rows sorted by generated ids (role grants by participant)
    blank = sorted(json.dumps(dict(r, local_id=None), sort_keys=True) for r in rows)
    assert blank == sorted(json.dumps(dict(r, local_id=None), sort_keys=True) for r in local_rows)
    assert [r["action"] for r in rows] == [r["action"] for r in local_rows]


def test_dry_run_on_the_queue_writes_nothing(world, twin, workers, db_url):
    local, queued = run_both(world, twin, "--dry-run", queue=workers)
    out = assert_same(local, queued, world, twin)
    assert out["dry_run"] is True and out["totals"]["create"] == 18 and out["writes"] == 0
    m = world.m
    assert world.count(m.Participant) == 0 and world.count(m.AuditEntry) == 0
    assert world.count(m.SyncRun, m.SyncRun.dry_run.is_(True)) == 1


def test_mass_deactivation_in_one_tenant_stops_every_tenant(world, twin, workers, db_url):
    local, queued = run_both(world, twin, queue=workers)
    assert_same(local, queued, world, twin)
    for n in (1, 2, 4, 5):
        world.fake.remove_user(f"usr_globex_{n:06d}")
    world.fake.add_user("tnt_acme", 42)  # a change in another tenant: not applied either
    local, queued = run_both(world, twin, queue=workers)
    assert local.exit_code == 1 and "SW_SYNC_MASS_DEACTIVATION" in local.stderr
    assert queued.exit_code == 1 and "SW_SYNC_MASS_DEACTIVATION" in queued.stderr
    assert "globex: 4 of 6 (limit 3)" in queued.stderr
    assert_same(local, queued, world, twin)
    assert world.participant("usr_acme_000042") is None

    # allowed: applied in every tenant, as locally
    local, queued = run_both(world, twin, "--allow-mass-deactivation", queue=workers)
    assert_same(local, queued, world, twin)
    assert world.participant("usr_acme_000042").active


def test_an_empty_listing_in_one_tenant_stops_the_run(world, twin, workers, db_url):
    local, queued = run_both(world, twin, queue=workers)
    assert_same(local, queued, world, twin)
    world.fake.add_fault("empty", tenant="tnt_initech", times=None)
    world.fake.add_user("tnt_acme", 42)
    local, queued = run_both(world, twin, queue=workers)
    assert queued.exit_code == 2 and "SW_SYNC_EMPTY_LISTING" in queued.stderr
    assert "initech" in queued.stderr
    assert_same(local, queued, world, twin)
    assert world.participant("usr_acme_000042") is None


def test_a_failed_listing_in_one_tenant_writes_nothing(world, twin, workers, db_url):
    world.fake.add_fault("status", path="/users", tenant="tnt_globex", status=503, times=None)
    local, queued = run_both(world, twin, queue=workers)
    assert queued.exit_code == 2 and "SW_SCAIKEY_UNREACHABLE" in queued.stderr
    assert "globex" in queued.stderr
    assert_same(local, queued, world, twin)
    assert world.count(world.m.Participant) == 0


def test_create_tenants_on_the_queue(world, twin, workers, db_url):
    local, queued = run_both(world, twin, "--create-tenants", queue=workers)
    out = assert_same(local, queued, world, twin)
    assert [t["tenant"] for t in out["tenants"]] == [*LINKED, "umbrella"]
    assert out["tenants"][-1]["new_tenant"] is True and out["unlinked_tenants"] == []
    with world.store.session() as s:
        umbrella = s.scalar(select(world.m.Tenant).where(world.m.Tenant.slug == "umbrella"))
    assert umbrella.scaikey_tenant_id == "tnt_umbrella" and world.active("umbrella") == 0


def test_a_held_run_lock_stops_the_queue_run_at_once(world, db_url):
    link(world.store, "acme")
    hold(world.store, "scaikey-sync", "other-host:1:cron")
    result = world.sync("--queue", "redis://127.0.0.1:1/0")  # never reached
    assert result.exit_code == 1 and "SW_SYNC_LOCKED" in result.stderr
    assert "other-host:1:cron" in result.stderr


def test_a_tenants_lock_is_waited_for_until_stale(world, twin, workers, db_url):
    """Another host's job (a dead coordinator's) holds globex: its apply waits, then takes the
    lock over once stale; the database ends as the local run's."""
    hold(world.store, "scaikey-sync:tnt-globex", "other-host:7:job:1", seconds=2)
    local, queued = run_both(world, twin, queue=workers)
    assert_same(local, queued, world, twin)
    assert world.active("globex") == 6 and world.count(world.m.SyncLock) == 0


def test_a_tenant_locked_by_another_job_is_named_the_others_applied(world, twin, workers, db_url):
    hold(world.store, "scaikey-sync:tnt-globex", "other-host:7:job:1")  # applying globex
    result = world.sync("--queue", workers, "--wait-timeout", "1")
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr.splitlines()[-1])["error"]
    assert error["code"] == "SW_SYNC_LOCKED"
    assert error["message"].startswith("tenant 'globex' was not applied: [SW_SYNC_LOCKED]")
    assert "other-host:7:job:1" in error["message"]
    assert "2 other tenant(s) with changes applied" in error["message"]
    assert world.active("acme") == world.active("initech") == 6 and world.active("globex") == 0
    m = world.m
    run = world.count(m.SyncRun, m.SyncRun.status == "failed")
    assert run == 1 and world.count(m.SyncLock) == 1  # the other job's lock, left alone


def test_a_worker_killed_mid_apply_is_retried_to_the_same_rows(
    world, twin, db_url, redis_url, arq_workers, tmp_path
):
    """kill -9 of the worker that committed a tenant's first batch: ARQ runs its job again on
    the other worker, which takes the dead worker's tenant lock over, plans from what was
    committed and applies the rest: the database ends as the local run's."""
    small = {"SCAIWAVE_SYNC_BATCH_SIZE": "2"}
    marker = tmp_path / "batch-committed"
    arq_workers.start(
        2, redis_url, env=dict(small, SCAIWAVE_SYNC_TEST_HOOK=f"sync-batch-committed:{marker}")
    )
    assert twin.cli.invoke("--db-url", twin.url, "sync", env=small).exit_code == 0
    coordinator = world.cli.popen("sync", "--queue", redis_url)
    arq_workers.kill_at_marker(marker)
    out, err = coordinator.communicate(timeout=180)
    assert coordinator.returncode == 0, err
    assert "(try 2)" in arq_workers.logs()
    # every row the same; the run's own counts (its row, its audit row) are the last tries'
    same_rows(world.store, twin.store, [t for t in TABLES if t != "sync_runs"], runs=False)
    assert world.count(world.m.SyncLock) == 0


def test_queue_unreachable_is_exit_2(world, db_url):
    link(world.store, "acme")
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    result = world.sync("--queue", f"redis://127.0.0.1:{port}/0")
    assert result.exit_code == 2, result.output
    assert "SW_QUEUE_UNREACHABLE" in result.stderr
    m = world.m
    assert world.count(m.Participant) == 0 and world.count(m.SyncLock) == 0


def test_a_worker_on_another_database_is_refused(world, db_url, redis_url, arq_workers, tmp_path):
    link(world.store, "acme")
    other = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert world.cli.invoke("--db-url", other, "db", "upgrade").exit_code == 0
    arq_workers.start(1, redis_url, env={"SCAIWAVE_DB_URL": other})
    result = world.sync("--queue", redis_url)
    assert result.exit_code == 2, result.output
    assert "SW_SYNC_WORKER_MISMATCH" in result.stderr and "acme" in result.stderr
    assert world.count(world.m.Participant) == 0


def test_queue_and_workers_help(cli):
    result = cli.invoke("sync", "--help")
    assert "--queue" in result.output and "--workers" in result.output
    both = cli.invoke("sync", "--queue", "redis://127.0.0.1:1/0", "--workers", "2")
    assert both.exit_code == 2 and "--queue and --workers are exclusive" in both.output
