"""`admin list-participants --output jsonl` over many participants, beside a baseline measured in
the same run (issue 9: "streams (jsonl) for 100k participants with flat memory").

    python bench/participants_bench.py                        # 10k and 100k, SQLite
    python bench/participants_bench.py --sizes 100000 --engines sqlite,mariadb

For each size and engine a fresh store gets one tenant with N participants (plus 10% as many in
a second tenant, which must not show), then each step runs in its own subprocess so its peak RSS
can be read (``os.wait4``), stdout written to a file; each step runs ``--repeat`` times (default
3) and the best time is kept:

- ours:     ``scaiwave --output jsonl admin list-participants --tenant bench``
- baseline: the same SELECT (same columns, filter and ORDER BY) through the raw driver
  (``sqlite3``, or PyMySQL's unbuffered ``SSCursor`` on MariaDB), each row ``json.dumps``-ed
  to the file: the least a streaming dump can do.

Printed: seconds, rows/s, peak RSS (MB), the ratio ours/baseline (also without our fixed cost:
the same command on an empty tenant, i.e. interpreter start-up, imports, connecting, the tenant
look-up), and the RSS growth from the smallest to the largest size (flat memory: a few MB, not
proportional to N). MariaDB runs on a throwaway server started the way the tests start one
(needs ``mariadbd``). Not pass/fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TENANT = "bench"

QUERY = (
    "SELECT id, display_name, email, kind, scaikey_user_id, active, last_synced_at "
    "FROM participants WHERE tenant_id = {ph} ORDER BY display_name, id"
)

BASELINE_SQLITE = r"""
import json, sqlite3, sys
db, out, query = sys.argv[1:4]
con = sqlite3.connect(db)
with open(out, "w") as fh:
    cur = con.execute(query.format(ph="?"), ("tnt-bench",))
    while rows := cur.fetchmany(2000):
        for r in rows:
            fh.write(json.dumps({"id": r[0], "display_name": r[1], "email": r[2], "kind": r[3],
                                 "scaikey_user_id": r[4], "active": bool(r[5]),
                                 "last_synced_at": r[6]}, ensure_ascii=False) + "\n")
"""

BASELINE_MARIADB = r"""
import json, sys
from urllib.parse import unquote, urlsplit
import pymysql, pymysql.cursors
url, out, query = sys.argv[1:4]
u = urlsplit(url)
con = pymysql.connect(host=u.hostname, port=u.port or 3306, user=unquote(u.username),
                      password=unquote(u.password), database=u.path.lstrip("/"),
                      charset="utf8mb4", cursorclass=pymysql.cursors.SSCursor)
with open(out, "w") as fh, con.cursor() as cur:
    cur.execute(query.format(ph="%s"), ("tnt-bench",))
    while rows := cur.fetchmany(2000):
        for r in rows:
            fh.write(json.dumps({"id": r[0], "display_name": r[1], "email": r[2], "kind": r[3],
                                 "scaikey_user_id": r[4], "active": bool(r[5]),
                                 "last_synced_at": r[6].isoformat() if r[6] else None},
                                ensure_ascii=False) + "\n")
"""


def scaiwave_command() -> list[str]:
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    found = shutil.which("scaiwave", path=path)
    return [found] if found else [sys.executable, "-m", "scaiwave_cli.app"]


# Peak RSS is read by a tiny launcher: Linux carries a process's high-water mark across exec,
# so a child forked straight from this (SQLAlchemy-loaded) process would report at least our own
# size. The launcher is a bare interpreter (~10 MB), far below anything measured.
LAUNCHER = r"""
import os, sys
report, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def best_of(repeat: int, cmd, env, out_path) -> tuple[float, float]:
    """The fastest of ``repeat`` runs (this is a shared machine) and the highest peak RSS."""
    runs = [run_measured(cmd, env, out_path) for _ in range(repeat)]
    return min(t for t, _ in runs), max(r for _, r in runs)


def run_measured(cmd, env, out_path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of ``cmd`` run to completion, stdout into ``out_path``."""
    report = out_path + ".rss"
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, report, *cmd],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
    with open(report) as fh:
        return elapsed, int(fh.read()) / 1024  # KiB on Linux


def seed(url: str, n: int) -> None:
    """One migrated store (the URL's) with tenant ``bench`` holding ``n`` participants."""
    import datetime as dt

    from scaiwave_cli import api
    from scaiwave_cli.store import make_engine, migrate

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    store = api.store.Store(make_engine(url), url=url)
    m = api.store.models
    kinds = ("human",) * 7 + ("ai", "shadow", "federated")
    synced = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def rows(tenant_id, prefix, count):
        for i in range(count):
            yield {
                "id": f"{prefix}-{i:08d}",
                "tenant_id": tenant_id,
                "kind": kinds[i % len(kinds)],
                "scaikey_user_id": f"usr_{prefix}_{i}",
                "display_name": f"Participant {(i * 7919) % count:08d} Ünïcode",
                "email": f"user{i}@{prefix}.test",
                "active": i % 13 != 0,
                "last_synced_at": synced,
                "created_at": synced,
            }

    with store.transaction() as s:
        s.add_all(
            [
                m.Tenant(id="tnt-bench", slug=TENANT, name="Bench"),
                m.Tenant(id="tnt-other", slug="other", name="Other"),
                m.Tenant(id="tnt-empty", slug="empty", name="Empty"),
            ]
        )
        s.flush()
        api.store.insert_batches(s, m.Participant, rows("tnt-bench", "ptn-b", n), batch_size=5000)
        api.store.insert_batches(
            s, m.Participant, rows("tnt-other", "ptn-o", n // 10), batch_size=5000
        )
    store.close()


def bench_one(engine: str, n: int, url: str, work: str, repeat: int) -> dict:
    seed(url, n)
    env = dict(os.environ, SCAIWAVE_HOME=os.path.join(work, "home"), SCAIWAVE_DB_URL=url)
    env.pop("SCAIWAVE_ADMIN_TOKEN", None)
    env.pop("SCAIWAVE_OUTPUT", None)
    os.makedirs(env["SCAIWAVE_HOME"], exist_ok=True)
    ours_out = os.path.join(work, "ours.jsonl")
    base_out = os.path.join(work, "base.jsonl")
    cmd = [*scaiwave_command(), "--output", "jsonl", "admin", "list-participants"]
    cmd += ["--tenant", TENANT]
    ours_s, ours_rss = best_of(repeat, cmd, env, ours_out)
    # the fixed cost: start-up, imports, connecting, the tenant look-up (an empty tenant)
    empty = [*scaiwave_command(), "--output", "jsonl", "admin", "list-participants"]
    fixed_s, _ = best_of(repeat, [*empty, "--tenant", "empty"], env, ours_out + ".empty")
    if engine == "sqlite":
        base_cmd = [sys.executable, "-c", BASELINE_SQLITE, url.split("///", 1)[1], base_out, QUERY]
    else:
        base_cmd = [sys.executable, "-c", BASELINE_MARIADB, url, base_out, QUERY]
    base_s, base_rss = best_of(repeat, base_cmd, env, base_out)
    with open(ours_out, "rb") as fh:
        lines = sum(1 for _ in fh)
    if lines != n:
        raise SystemExit(f"{engine} {n}: list-participants wrote {lines} lines, expected {n}")
    return {
        "engine": engine,
        "n": n,
        "ours_s": ours_s,
        "ours_rss": ours_rss,
        "fixed_s": fixed_s,
        "base_s": base_s,
        "base_rss": base_rss,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="participant counts")
    parser.add_argument("--engines", default="sqlite", help="sqlite and/or mariadb")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (best time)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    sys.path.insert(0, ROOT)
    work = tempfile.mkdtemp(prefix="participants-bench-")
    server = None
    results = []
    try:
        for engine in engines:
            if engine == "mariadb":
                from pathlib import Path

                from scaiwave_cli.store.testing import MariaDBServer

                server = MariaDBServer(Path(work) / "mariadb")
                server.base.mkdir()
                server.start()
            for n in sizes:
                case = os.path.join(work, f"{engine}-{n}")
                os.makedirs(case)
                if engine == "sqlite":
                    url = f"sqlite:///{case}/scaiwave.db"
                else:
                    url = server.create_database(f"bench_{n}")
                print(f"… {engine}: {n:,} participants", file=sys.stderr, flush=True)
                results.append(bench_one(engine, n, url, case, args.repeat))
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"admin list-participants --output jsonl (python {sys.version.split()[0]})")
    print(
        f"{'engine':8} {'rows':>8}  {'ours s':>7} {'rows/s':>9} {'RSS MB':>7}   "
        f"{'base s':>7} {'rows/s':>9} {'RSS MB':>7}   {'time ratio':>10}   "
        f"{'ours - fixed':>12} {'ratio':>6}"
    )
    for r in results:
        net = r["ours_s"] - r["fixed_s"]
        print(
            f"{r['engine']:8} {r['n']:>8,}  {r['ours_s']:7.2f} {r['n'] / r['ours_s']:9,.0f} "
            f"{r['ours_rss']:7.1f}   {r['base_s']:7.2f} {r['n'] / r['base_s']:9,.0f} "
            f"{r['base_rss']:7.1f}   {r['ours_s'] / r['base_s']:9.2f}x   "
            f"{net:11.2f}s {net / r['base_s']:5.2f}x"
        )
    print(
        "fixed = the same command on an empty tenant (start-up, imports, connect, look-up): "
        + ", ".join(f"{r['engine']} {r['fixed_s']:.2f}s" for r in results)
    )
    for engine in engines:
        rows = [r for r in results if r["engine"] == engine]
        if len(rows) > 1:
            lo, hi = rows[0], rows[-1]
            print(
                f"{engine}: peak RSS {lo['ours_rss']:.1f} MB at {lo['n']:,} -> "
                f"{hi['ours_rss']:.1f} MB at {hi['n']:,} rows "
                f"({hi['ours_rss'] - lo['ours_rss']:+.1f} MB for {hi['n'] / lo['n']:.0f}x the rows)"
            )


if __name__ == "__main__":
    main()
