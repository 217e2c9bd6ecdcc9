"""`scaiwave admin list-tenants` benchmark (issue 5), beside a baseline measured in the same run.

    python bench/admin_bench.py                              # 10,000 tenants, 100k participants,
                                                             # 1M events, embedded SQLite
    python bench/admin_bench.py --tenants 1000 --events 100000 --participants 10000   # quick
    python bench/admin_bench.py --db-url mysql+pymysql://u:pw@127.0.0.1:3306/scratch  # MariaDB

The store is seeded with ``api.store.insert_batches`` (a fresh SQLite file in a temporary
directory, or the scratch database ``--db-url`` names, which is migrated and must be empty or
hold this bench's data from an earlier run): tenants (two thirds under one of 50 partners), one
workspace and 5 rooms each, the participants (10 % inactive), the events spread over the rooms,
10 media rows per tenant (a quarter of them duplicate files) and 10 days of AI token usage per
tenant.

Measured (median of ``--runs``):

- ``cli json``: ``scaiwave --output json admin list-tenants > /dev/null`` in a subprocess, wall
  time (interpreter start-up, plugin load, settings, schema check, query, JSON output).
- ``cli table``: the same with the table output (every row aligned in memory).
- ``cli json, --status suspended``: the same for ~1 % of the tenants: the fixed costs
  (start-up, importing SQLAlchemy and the schema, settings, schema check).
- ``query``: the plugin's adapter alone (``tenant_overview``: one SQLAlchemy SELECT turned into
  dicts), in-process.
- ``statements``: SQL statements one whole ``list-tenants`` run sends (counted in-process with a
  ``before_cursor_execute`` listener), at full size and with ``--status suspended`` (few rows):
  the count must not depend on the number of tenants.
- baseline: the same aggregate SQL written by hand, run through the raw driver (``sqlite3`` /
  ``pymysql``) and fetched into tuples: what a single hand-written query costs.

Printed: seconds, rows, statements, and the ratios ours/baseline. Target: cli < 1 s. Not
pass/fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BASELINE_SQL = """
SELECT t.id, t.slug, t.name, p.slug, t.scaikey_tenant_id,
       (SELECT COUNT(*) FROM participants x WHERE x.tenant_id = t.id AND x.active = 1),
       (SELECT COUNT(*) FROM rooms r WHERE r.tenant_id = t.id),
       COALESCE(st.n, 0),
       (SELECT COALESCE(SUM(a.tokens), 0) FROM ai_token_usage a
        WHERE a.tenant_id = t.id AND a.day >= {p} AND a.day <= {p}),
       t.status, t.created_at
FROM tenants t
LEFT JOIN partners p ON p.id = t.partner_id
LEFT JOIN (SELECT f.tenant_id, SUM(f.size) AS n
           FROM (SELECT tenant_id, sha256, MAX(size) AS size FROM media
                 GROUP BY tenant_id, sha256) f
           GROUP BY f.tenant_id) st ON st.tenant_id = t.id
ORDER BY t.slug
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- seeding ------------------------------------------------------------------------------------


def seed(store, *, tenants: int, participants: int, events: int) -> None:
    from sqlalchemy import func, select

    from scaiwave_cli import api

    m = api.store.models
    insert = api.store.insert_batches
    with store.session() as s:
        have = s.scalar(select(func.count()).select_from(m.Tenant))
    if have == tenants:
        log(f"seed: reusing {have} tenants already in the database")
        return
    if have:
        raise SystemExit(f"the database holds {have} tenants; give an empty scratch database")
    today = dt.datetime.now(dt.UTC).date()
    month_start = today.replace(day=1)
    days = [month_start + dt.timedelta(days=i) for i in range((today - month_start).days + 1)]
    days = (days + [month_start - dt.timedelta(days=i + 1) for i in range(10)])[:10]
    tids = [f"tnt-bench-{i:06d}" for i in range(tenants)]
    per_tenant = max(1, participants // tenants)
    rooms_per = 5
    t0 = time.perf_counter()
    with store.transaction() as s:
        insert(
            s,
            m.Partner,
            (
                {
                    "id": f"ptn-bench-{i:03d}",
                    "slug": f"bench-partner-{i:03d}",
                    "name": f"Partner {i}",
                }
                for i in range(50)
            ),
        )
        insert(
            s,
            m.Tenant,
            (
                {
                    "id": t,
                    "slug": f"bench-{i:06d}",
                    "name": f"Tenant {i}",
                    "scaikey_tenant_id": f"tnt_bench_{i}",
                    "partner_id": f"ptn-bench-{i % 50:03d}" if i % 3 else None,
                    "status": "suspended" if i % 97 == 0 else "active",
                    "features": {},
                    "ai_defaults": {},
                }
                for i, t in enumerate(tids)
            ),
        )
        insert(
            s,
            m.Workspace,
            ({"id": f"ws-{t}", "tenant_id": t, "slug": "general", "name": "General"} for t in tids),
        )
        log(f"seed: tenants, partners, workspaces in {time.perf_counter() - t0:.1f} s")
        insert(
            s,
            m.Participant,
            (
                {
                    "id": f"prt-{t}-{j}",
                    "tenant_id": t,
                    "kind": "human",
                    "display_name": f"P{j}",
                    "active": j % 10 != 9,
                }
                for t in tids
                for j in range(per_tenant)
            ),
            batch_size=5000,
        )
        log(f"seed: {per_tenant * tenants} participants in {time.perf_counter() - t0:.1f} s")
        insert(
            s,
            m.Room,
            (
                {
                    "id": f"room-{t}-{j}",
                    "tenant_id": t,
                    "workspace_id": f"ws-{t}",
                    "type": "group",
                    "state": "open",
                    "name": f"R{j}",
                }
                for t in tids
                for j in range(rooms_per)
            ),
            batch_size=5000,
        )
        insert(
            s,
            m.Media,
            (
                {
                    "id": f"med-{t}-{j}",
                    "tenant_id": t,
                    "sha256": f"{(j % 8):064x}",
                    "name": f"f{j}",
                    "size": 1000 + j * 4096,
                    "storage_key": f"{t}/{j}",
                }
                for t in tids
                for j in range(10)
            ),
            batch_size=5000,
        )
        insert(
            s,
            m.AiTokenUsage,
            (
                {"tenant_id": t, "day": d, "model": "scaigrid/default", "tokens": 1000 + k}
                for t in tids
                for k, d in enumerate(days)
            ),
            batch_size=5000,
        )
        log(f"seed: rooms, media, AI usage in {time.perf_counter() - t0:.1f} s")

        def event_rows():
            now = dt.datetime.now(dt.UTC)
            for n in range(events):
                t = tids[n % tenants]
                yield {
                    "id": f"evt-bench-{n:08d}",
                    "tenant_id": t,
                    "room_id": f"room-{t}-{(n // tenants) % rooms_per}",
                    "sender_id": f"prt-{t}-{(n // tenants) % per_tenant}",
                    "event_type": "swp.room.message",
                    "content": {"msgtype": "swp.text", "body": f"message {n}"},
                    "stream_position": n + 1,
                    "origin_ts": 1767258000000 + n,
                    "created_at": now,
                    "do_not_index": False,
                }

        insert(s, m.Event, event_rows(), batch_size=10000)
        log(f"seed: {events} events in {time.perf_counter() - t0:.1f} s")
    log(f"seed: done in {time.perf_counter() - t0:.1f} s")


# -- measuring ---------------------------------------------------------------------------------


def median_time(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cli_run(env: dict, fmt_option: str, fmt: str, *options: str) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "scaiwave_cli", fmt_option, fmt, "admin", "list-tenants", *options],
        env=env,
        capture_output=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"list-tenants failed: {out.stderr.decode()[-2000:]}")
    return len(out.stdout)


def count_statements(*args: str) -> tuple[int, int]:
    """Statements of one in-process ``list-tenants`` run (the whole command), and its rows."""
    from click.testing import CliRunner
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from scaiwave_cli.app import cli

    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        result = CliRunner().invoke(cli, ["--output", "json", "admin", "list-tenants", *args])
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    if result.exit_code:
        raise SystemExit(f"list-tenants failed: {result.output[-2000:]}")
    return len(seen), len(json.loads(result.stdout))


def baseline(url: str):
    today = dt.datetime.now(dt.UTC).date()
    start = today.replace(day=1)
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("///", 1)[1]

        def run():
            con = sqlite3.connect(path)
            try:
                sql = BASELINE_SQL.format(p="?")
                return con.execute(sql, (start.isoformat(), today.isoformat())).fetchall()
            finally:
                con.close()

        return run
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(url)

    def run():
        con = pymysql.connect(
            host=u.host,
            port=u.port or 3306,
            user=u.username,
            password=u.password,
            database=u.database,
        )
        try:
            with con.cursor() as cur:
                cur.execute(BASELINE_SQL.format(p="%s"), (start, today))
                return cur.fetchall()
        finally:
            con.close()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--db-url", help="a scratch MariaDB database (default: SQLite in a tmp dir)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary SQLite store for a rerun"
    )
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="scaiwave-admin-bench.")
    url = args.db_url or f"sqlite:///{home}/bench.db"
    os.environ.update({"SCAIWAVE_HOME": home, "SCAIWAVE_DB_URL": url})
    for name in ("SCAIWAVE_ADMIN_TOKEN", "SCAIWAVE_OUTPUT"):
        os.environ.pop(name, None)

    from scaiwave_cli import api
    from scaiwave_cli.store import make_engine, migrate, normalize_url

    sync_url, _ = normalize_url(url)
    engine = make_engine(sync_url)
    migrate.upgrade(engine)
    engine.dispose()
    store = api.store.open_store(api.load_settings({}))
    seed(store, tenants=args.tenants, participants=args.participants, events=args.events)

    from scaiwave_admin.adapters import db

    today = dt.datetime.now(dt.UTC).date()

    def query():
        with store.session() as s:
            return list(db.tenant_overview(s, today=today))

    env = dict(os.environ)
    query(), baseline(sync_url)()  # warm the caches once
    t_json, size = median_time(lambda: cli_run(env, "--output", "json"), args.runs)
    t_table, _ = median_time(lambda: cli_run(env, "--output", "table"), args.runs)
    t_query, rows = median_time(query, args.runs)
    t_base, base_rows = median_time(baseline(sync_url), args.runs)
    statements, n_rows = count_statements()
    statements_few, n_few = count_statements("--status", "suspended")
    t_small, _ = median_time(
        lambda: cli_run(env, "--output", "json", "--status", "suspended"), args.runs
    )
    store.close()

    engine_name = "SQLite" if sync_url.startswith("sqlite") else "MariaDB"
    print(
        f"admin list-tenants on {engine_name}: {args.tenants} tenants, "
        f"{args.participants} participants, {args.events} events (median of {args.runs})"
    )
    print(f"  cli json  (subprocess, wall)   {t_json:7.3f} s   {size / 1e6:.1f} MB of JSON")
    print(f"  cli table (subprocess, wall)   {t_table:7.3f} s")
    print(f"  cli json, --status suspended   {t_small:7.3f} s   {n_few} rows (fixed costs)")
    print(f"  query (adapter, in-process)    {t_query:7.3f} s   {len(rows)} rows")
    print(f"  baseline (raw driver, 1 SQL)   {t_base:7.3f} s   {len(base_rows)} rows")
    print(
        f"  statements per run             {statements} for {n_rows} rows, "
        f"{statements_few} for {n_few} rows (--status suspended)"
    )
    print(f"  ratio query / baseline         {t_query / t_base:7.2f}x")
    print(f"  ratio cli json / baseline      {t_json / t_base:7.2f}x")
    print(f"  target cli < 1 s               {'met' if t_json < 1 else 'NOT met'}")
    if args.keep and not args.db_url:
        print(f"  store kept in {home} (rerun with --db-url sqlite:///{home}/bench.db)")
    else:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
