"""ScaiKey sync benchmark (issues 8 and 17), beside baselines measured in the same run.

    python bench/sync_bench.py                                   # 100k users, 10 tenants, SQLite
    python bench/sync_bench.py --users 20000 --tenants 4         # smaller
    python bench/sync_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench   # MariaDB

A fake ScaiKey (``python -m scaiwave_sync.testing``) serves N users in T tenants (5 groups per
tenant, every user in one group, one TENANT_ADMIN per tenant) on 127.0.0.1, in its own process.
Each step runs in its own subprocess so its peak RSS and CPU time can be read (``os.wait4``):

- paging baseline: plain httpx pages through exactly the listings the sync reads (token,
  tenants, admin roles, then per tenant its users, groups and every group's members), nothing
  else (the whole process: start, imports, paging);
- raw-insert baseline: the raw driver (``sqlite3`` / PyMySQL), one process, inserts the rows a
  first run writes (tenants, participants, their personal workspaces and memberships, groups,
  group memberships, role assignments, the audit rows) into a second, empty, migrated database
  with ``executemany`` in batches of ``--batch`` rows, one transaction per batch as the sync
  makes them, on a connection set up as the store's (SQLite: WAL, foreign keys, synchronous
  NORMAL, BEGIN IMMEDIATE). The rows are built, and the built-in roles a first run also
  creates (86 rows) are set up, before the clock starts: only the inserts and commits count;
- first run: ``scaiwave --output json sync --create-tenants`` on an empty store (creates the
  tenants, N participants with their personal workspaces, groups, memberships, roles);
- second run: the same again, nothing changed in ScaiKey (target: 0 rows written).

Printed: seconds, CPU seconds, ScaiKey requests, rows written, peak RSS (MB); the combined
baseline (paging + raw insert) and each run's time as a ratio of it. Targets from the issues:
first run < 60 s and <= 1.5x (paging + raw insert), second run 0 writes. Not pass/fail. The
embedded store is created and migrated before the first run (``scaiwave db upgrade``, not
timed). With ``--db-url`` the database must be empty and migrated (``scaiwave db upgrade``); its
rows are left for inspection. The raw insert then goes to ``--raw-db-url`` (default: the same
server, the database name + ``_raw``, created, migrated and dropped by the bench: the user needs
CREATE/DROP there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CLIENT_ID = "app_scaiwave_test"
CLIENT_SECRET = "sk-test-secret-0123456789"


def baseline(url: str, page_size: int) -> None:
    """Page through the sync's listings with httpx only; print the request count."""
    import httpx
    from scaiwave_sync.adapters import scaikey as sk

    requests = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post(
            sk.TOKEN_PATH,
            auth=(CLIENT_ID, CLIENT_SECRET),
            data={"grant_type": "client_credentials", "scope": "admin:read"},
        ).json()["access_token"]
        requests += 1
        headers = {"Authorization": f"Bearer {token}"}

        def listing(path, **params):
            nonlocal requests
            items, page = [], 1
            while True:
                body = client.get(
                    path, params=dict(params, page=page, per_page=page_size), headers=headers
                ).json()
                requests += 1
                items.extend(body["items"])
                if len(items) >= body["total"] or not body["items"]:
                    return items
                page += 1

        tenants = listing(sk.TENANTS_PATH)
        listing(sk.ADMIN_ROLES_PATH)
        for tenant in tenants:
            listing(sk.USERS_PATH, tenant_id=tenant["id"])
            for group in listing(sk.GROUPS_PATH, tenant_id=tenant["id"]):
                listing(sk.GROUP_MEMBERS_PATH.format(group_id=group["id"]))
    print(json.dumps({"requests": requests}))


def raw_insert(db_url: str, tenants: int, per_tenant: int, groups: int, batch: int) -> None:
    """Insert the rows a first sync writes with the raw driver; print rows and seconds."""
    import datetime as dt

    from scaiwave_sync.testing import FakeScaiKey
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from scaiwave_cli.permissions import ensure_builtin_roles
    from scaiwave_cli.store.models import new_id

    # the built-in roles exist in every used ScaiWave database: set up, not timed
    engine = create_engine(db_url)
    with Session(engine) as s, s.begin():
        ensure_builtin_roles(s)
    engine.dispose()
    sqlite = db_url.startswith("sqlite")
    if sqlite:
        import sqlite3

        conn = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        mark, begin = "?", "BEGIN IMMEDIATE"
    else:
        import pymysql
        from sqlalchemy.engine import make_url

        u = make_url(db_url)
        conn = pymysql.connect(
            host=u.host,
            port=u.port or 3306,
            user=u.username,
            password=u.password,
            database=u.database,
            charset="utf8mb4",
            ssl_disabled=True,
        )
        mark, begin = "%s", "BEGIN"
    cur = conn.cursor()
    cur.execute("SELECT id FROM roles WHERE name = 'tenant_admin' AND tenant_id IS NULL")
    admin_role = cur.fetchone()[0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    at = now.isoformat(" ") if sqlite else now  # what SQLAlchemy's DateTime binds on SQLite

    def sql(table: str, columns: str) -> str:
        n = columns.count(",") + 1
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * n)})"

    ins_tenant = sql(
        "tenants", "id, slug, name, scaikey_tenant_id, partner_id, features, ai_defaults, "
        "status, created_at",
    )  # fmt: skip
    ins_participant = sql(
        "participants", "id, tenant_id, kind, scaikey_user_id, display_name, email, fqid, "
        "avatar_url, active, deactivated_at, last_synced_at, created_at, operator_hold",
    )  # fmt: skip
    ins_workspace = sql(
        "workspaces", "id, tenant_id, slug, name, description, personal, created_at"
    )
    ins_ws_member = sql(
        "workspace_members", "workspace_id, participant_id, tenant_id, role, created_at"
    )
    ins_group = sql("scaikey_groups", "tenant_id, scaikey_group_id, name, active, last_synced_at")
    ins_member = sql("scaikey_group_members", "group_id, participant_id, tenant_id")
    ins_role = sql(
        "role_assignments",
        "tenant_id, participant_id, role_id, workspace_id, scope_key, created_at, created_by",
    )
    ins_audit = sql("audit_log", "at, actor, actor_kind, action, target, tenant_id, details")

    # the same data the fake ScaiKey serves, and the rows a first run makes of it
    fake = FakeScaiKey(tenants=tenants, users_per_tenant=per_tenant, groups_per_tenant=groups)
    work = []  # per tenant: list of (statement, rows) transactions
    for t in fake.tenants:
        tid = new_id("tnt")
        slug = t["slug"]

        def audit(action, target, details, tid=tid):
            return ("local", "human", action, target, tid, json.dumps(details, sort_keys=True))

        txs = [
            [
                (ins_tenant, [(tid, slug, t["name"], t["id"], None, "{}", "{}", "active", at)]),
                (ins_audit, [(at, *audit("tenant.create", f"tenant:{slug}", {"x": t["id"]}))]),
            ]
        ]
        pid_of = {}
        users = fake.users[t["id"]]
        for i in range(0, len(users), batch):
            chunk = users[i : i + batch]
            ps, ws, wm = [], [], []
            for u in chunk:
                pid = pid_of[u["id"]] = new_id("prt")
                wid = "ws-" + pid.split("-", 1)[1]
                name = u["display_name"]
                ps.append((pid, tid, "human", u["id"], name, u["email"], None, None, True, None,
                           at, at, False))  # fmt: skip
                ws.append((wid, tid, "personal-" + wid[3:].lower(), name + " (personal)", None,
                           True, at))  # fmt: skip
                wm.append((wid, pid, tid, "owner", at))
            details = {"count": len(ps), "ids": [p[0] for p in ps]}
            row = audit("sync.participants.create", f"tenant:{slug}", details)
            txs.append(
                [(ins_participant, ps), (ins_workspace, ws), (ins_ws_member, wm),
                 (ins_audit, [(at, *row)])]
            )  # fmt: skip
        gs = [(tid, g["id"], g["name"], True, at) for g in fake.groups[t["id"]]]
        row = audit("sync.groups", f"tenant:{slug}", {"created": [g[1] for g in gs]})
        txs.append([(ins_group, gs), (ins_audit, [(at, *row)])])
        members = [
            (g["id"], pid_of[m["id"]]) for g in fake.groups[t["id"]] for m in fake.members[g["id"]]
        ]
        admin = fake.admin_roles[len(work)]["user_id"]
        work.append((tid, slug, txs, members, pid_of[admin]))
    del fake

    rows = 0
    start = time.perf_counter()
    for tid, slug, txs, members, admin in work:
        for tx in txs:
            cur.execute(begin)
            for stmt, values in tx:
                cur.executemany(stmt, values)
                rows += len(values)
            conn.commit()
        # the groups' ids, then their members in batches
        cur.execute("SELECT scaikey_group_id, id FROM scaikey_groups WHERE tenant_id = " + mark,
                    (tid,))  # fmt: skip
        gid = dict(cur.fetchall())
        for i in range(0, len(members), batch):
            chunk = [(gid[g], pid, tid) for g, pid in members[i : i + batch]]
            cur.execute(begin)
            cur.executemany(ins_member, chunk)
            row = ("local", "human", "sync.group_members.add", f"tenant:{slug}", tid, "{}")
            cur.executemany(ins_audit, [(at, *row)])
            conn.commit()
            rows += len(chunk) + 1
        cur.execute(begin)
        cur.executemany(ins_role, [(tid, admin, admin_role, None, "", at, "scaikey-sync")])
        row = ("local", "human", "role.assign", f"participant:{admin}", tid, "{}")
        cur.executemany(ins_audit, [(at, *row)])
        conn.commit()
        rows += 2
    seconds = time.perf_counter() - start
    conn.close()
    print(json.dumps({"rows": rows, "seconds": seconds}))


def measured(cmd: list[str], env: dict) -> tuple[float, float, float, str, int]:
    """(seconds, CPU seconds, peak RSS in MB, stdout, exit code) of ``cmd`` in a child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode:
            sys.stderr.write(err.read().decode())
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, text, proc.returncode


def _raw_database(args, work: str, scaiwave: str, env: dict):
    """(URL of an empty migrated database for the raw insert, a function that drops it)."""
    if not args.db_url:
        home = os.path.join(work, "raw-home")
        raw_env = dict(env, SCAIWAVE_HOME=home)
        subprocess.run([scaiwave, "db", "upgrade"], env=raw_env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        return f"sqlite:///{os.path.join(home, 'scaiwave.db')}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    main_url = make_url(args.db_url)
    url = make_url(args.raw_db_url) if args.raw_db_url else main_url.set(
        database=f"{main_url.database}_raw"
    )  # fmt: skip
    name = url.database
    server = create_engine(url.set(database=""), connect_args={"ssl_disabled": True})
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    raw_env = dict(env, SCAIWAVE_DB_URL=url.render_as_string(hide_password=False))
    subprocess.run([scaiwave, "db", "upgrade"], env=raw_env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def drop() -> None:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users in all tenants")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--groups", type=int, default=5, help="groups per tenant")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1000, help="rows per raw insert batch")
    parser.add_argument("--db-url", help="a migrated, empty database (default: embedded SQLite)")
    parser.add_argument(
        "--raw-db-url", help="the raw insert's database with --db-url (default: NAME_raw)"
    )
    parser.add_argument("--baseline", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--raw-insert", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    per_tenant = args.users // args.tenants
    if args.baseline:
        baseline(args.baseline, args.page_size)
        return 0
    if args.raw_insert:
        raw_insert(args.raw_insert, args.tenants, per_tenant, args.groups, args.batch)
        return 0

    python = sys.executable
    scaiwave = os.path.join(os.path.dirname(python), "scaiwave")
    work = tempfile.mkdtemp(prefix="sync-bench-")
    url_file = os.path.join(work, "url")
    fake = subprocess.Popen(
        [python, "-m", "scaiwave_sync.testing", "--port", "0", "--tenants", str(args.tenants),
         "--users", str(per_tenant), "--groups", str(args.groups), "--url-file", url_file],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    drop_raw = None
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(url_file):
            if fake.poll() is not None or time.monotonic() > deadline:
                print("the fake ScaiKey did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)
        with open(url_file) as fh:
            url = fh.read().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
        env.update(
            SCAIWAVE_HOME=os.path.join(work, "home"),
            SCAIKEY_BASE_URL=url,
            SCAIKEY_CLIENT_ID=CLIENT_ID,
            SCAIKEY_CLIENT_SECRET=CLIENT_SECRET,
            SCAIWAVE_SYNC_PAGE_SIZE=str(args.page_size),
            SCAIWAVE_PLUGIN_CACHE="off",
        )
        if args.db_url:
            env["SCAIWAVE_DB_URL"] = args.db_url
        else:  # the embedded store, created and migrated before the clock starts
            subprocess.run([scaiwave, "db", "upgrade"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        raw_url, drop_raw = _raw_database(args, work, scaiwave, env)
        engine = "MariaDB" if args.db_url else "embedded SQLite"
        print(
            f"sync bench: {per_tenant * args.tenants} users in {args.tenants} tenants "
            f"({args.groups} groups each), page size {args.page_size}, {engine}"
        )

        me = [python, os.path.abspath(__file__)]
        size = ["--page-size", str(args.page_size)]
        b_s, b_cpu, b_rss, b_out, rc = measured([*me, "--baseline", url, *size], env)
        if rc:
            return rc
        b_req = json.loads(b_out)["requests"]
        shape = ["--users", str(args.users), "--tenants", str(args.tenants), "--groups",
                 str(args.groups), "--batch", str(args.batch)]  # fmt: skip
        _, r_cpu, r_rss, r_out, rc = measured([*me, "--raw-insert", raw_url, *shape], env)
        if rc:
            return rc
        raw = json.loads(r_out)
        r_s = raw["seconds"]
        rows = [
            ("baseline: httpx paging only", b_s, b_cpu, b_req, "-", b_rss),
            ("baseline: raw driver insert", r_s, r_cpu, "-", raw["rows"], r_rss),
        ]
        runs = []
        for label in ("first run (creates everything)", "second run (nothing changed)"):
            s, cpu, rss, out, rc = measured(
                [scaiwave, "--output", "json", "sync", "--create-tenants"], env
            )
            if rc:
                print(f"{label} failed with exit {rc}", file=sys.stderr)
                return rc
            summary = json.loads(out)
            runs.append((s, summary))
            rows.append((label, s, cpu, summary["requests"], summary["writes"], rss))
    finally:
        fake.terminate()
        fake.wait(timeout=30)
        if drop_raw is not None:
            drop_raw()

    print(
        f"{'step':34} {'seconds':>8} {'CPU s':>7} {'requests':>9} {'rows written':>13} "
        f"{'peak RSS MB':>12}"
    )
    for label, s, cpu, req, writes, rss in rows:
        print(f"{label:34} {s:8.2f} {cpu:7.2f} {req!s:>9} {writes!s:>13} {rss:12.1f}")
    (first_s, first), (second_s, second) = runs
    combined = b_s + r_s
    print(
        f"combined baseline (paging + raw insert): {combined:.2f} s; the raw insert's seconds "
        "are its inserts and commits only (CPU s: its whole process)"
    )
    print(
        f"first run:  {first['totals']['create']} participants created in {first_s:.2f} s, "
        f"{first_s / combined:.2f}x the combined baseline (target <= 1.5x: "
        f"{'met' if first_s <= 1.5 * combined else 'NOT met'}), {first_s / b_s:.1f}x paging "
        f"alone (target < 60 s: {'met' if first_s < 60 else 'NOT met'})"
    )
    print(
        f"second run: {second['changes']} changes, {second['writes']} rows written "
        f"(target 0: {'met' if second['writes'] == 0 else 'NOT met'}), "
        f"{second_s / b_s:.1f}x paging alone"
    )
    print(f"scratch directory: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
