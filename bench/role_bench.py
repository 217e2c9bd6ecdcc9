"""Role benchmark (issue 6): `role check` and `role assignments --tenant` on a tenant with 100k
participants and 1M assignments, beside baselines measured in the same run.

    python bench/role_bench.py                                 # embedded SQLite in a temp dir
    python bench/role_bench.py --mariadb                       # a throwaway local MariaDB too
    python bench/role_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench
    python bench/role_bench.py --participants 10000            # quicker (10 assignments each)

Data (batched inserts through ``api.store``): a big tenant with P participants and a small one
with P/100, each with P/500 workspaces (at least 10), 10 tenant-level and 10 workspace-level
custom roles, and per participant 10 assignments: one workspace membership (owner / editor /
viewer, the rows the room plugin reads) and 9 ``role_assignments`` rows (member, 2 tenant
roles, 6 workspace roles in 6 workspaces). So P=100,000 gives 1,000,000 assignments.

Measured, each in a fresh subprocess (peak RSS from ``os.wait4``), on the small and the big
tenant:

- ``role check``, the CLI in-process, 200 calls on sampled participants / permissions /
  workspaces: time per call and SQL statements per call (the claim: constant in the rows);
- ``api.permissions.check`` (what `room import` calls) on one open session, 2,000 calls;
  baseline: the same question as two hand-written SQL statements on the raw driver (sqlite3 /
  PyMySQL), same sampled questions;
- ``scaiwave --output jsonl role assignments --tenant T > /dev/null``: seconds, rows/s,
  statements, peak RSS; baseline: the raw driver streams the same joined rows (unbuffered
  cursor on MariaDB) and writes them as JSON lines.

Printed: figures and ratios ours/baseline and big/small. Not pass/fail. With ``--db-url`` the
database is migrated if empty and the bench's tenants are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import rawdb  # bench/ is on sys.path when run as a script

CHECK_CALLS = 200
CORE_CALLS = 2000

# -- subprocess snippets --------------------------------------------------------------------------

_COUNTING = r"""
import json, os, sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine
stats = {"statements": 0}
def _count(*a, **k):
    stats["statements"] += 1
event.listen(Engine, "before_cursor_execute", _count)
spec = json.loads(sys.argv[1])
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
"""

CLI_CALLS = (
    _COUNTING
    + r"""
from scaiwave_cli.app import main
codes = {}
start = time.perf_counter()
for args in spec["calls"]:
    try:
        code = main(args)  # returns the exit code (older cores raised SystemExit)
    except SystemExit as exc:
        code = exc.code
    codes[str(code or 0)] = codes.get(str(code or 0), 0) + 1
stats["seconds"] = time.perf_counter() - start
stats["codes"] = codes
open(spec["out"], "w").write(json.dumps(stats))
"""
)

CORE_CHECKS = (
    _COUNTING
    + r"""
from scaiwave_cli import api
store = api.store.open_store(api.load_settings({}))
allowed = 0
with store.session() as s:
    stats["statements"] = 0
    start = time.perf_counter()
    for pid, perm, ws in spec["questions"]:
        allowed += api.permissions.check(s, tenant_id=spec["tenant_id"], participant_id=pid,
                                         permission=perm, workspace_id=ws).allowed
    stats["seconds"] = time.perf_counter() - start
stats["allowed"] = allowed
open(spec["out"], "w").write(json.dumps(stats))
"""
)

_CONNECT = rawdb.CONNECT

BASELINE_CHECKS = (
    _COUNTING
    + _CONNECT
    + r"""
con, ph = connect(spec["url"])
cur = con.cursor()
P = "SELECT tenant_id, active FROM participants WHERE id = " + ph
Q = (  # LEFT JOINs: the participant's rows drive the plan on both engines, as in ours
    "SELECT a.tenant_id, rp.role_id FROM role_assignments a LEFT JOIN role_permissions rp "
    f"ON rp.role_id = a.role_id AND rp.permission = {ph} "
    f"WHERE a.participant_id = {ph} AND a.scope_key IN ('', {ph}) "
    "UNION ALL SELECT m.tenant_id, rp.role_id FROM workspace_members m LEFT JOIN roles r "
    "ON r.tenant_id IS NULL AND r.name = m.role LEFT JOIN role_permissions rp "
    f"ON rp.role_id = r.id AND rp.permission = {ph} "
    f"WHERE m.workspace_id = {ph} AND m.participant_id = {ph}"
)
tenant = spec["tenant_id"]
allowed = 0
start = time.perf_counter()
for pid, perm, ws in spec["questions"]:
    cur.execute(P, (pid,))
    row = cur.fetchone()
    if row is None or row[0] != tenant or not row[1]:
        continue
    cur.execute(Q, (perm, pid, ws or "", perm, ws, pid))
    allowed += any(r[0] == tenant and r[1] is not None for r in cur.fetchall())
stats["seconds"] = time.perf_counter() - start
stats["allowed"] = allowed
open(spec["out"], "w").write(json.dumps(stats))
"""
)

BASELINE_LISTING = (
    _COUNTING
    + _CONNECT
    + r"""
con, ph = connect(spec["url"], unbuffered=True)
dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode
out = os.fdopen(1, "w", buffering=1 << 16)
rows = 0
start = time.perf_counter()
queries = [
    "SELECT t.slug, p.id, COALESCE(p.email, p.display_name), r.name, w.slug, a.created_at "
    "FROM role_assignments a JOIN roles r ON r.id = a.role_id "
    "JOIN participants p ON p.id = a.participant_id JOIN tenants t ON t.id = a.tenant_id "
    f"LEFT JOIN workspaces w ON w.id = a.workspace_id WHERE a.tenant_id = {ph} "
    "ORDER BY a.tenant_id, a.role_id, a.id",
    "SELECT t.slug, p.id, COALESCE(p.email, p.display_name), m.role, w.slug, m.created_at "
    "FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id "
    "JOIN tenants t ON t.id = m.tenant_id JOIN participants p ON p.id = m.participant_id "
    f"WHERE m.tenant_id = {ph} ORDER BY m.tenant_id, m.workspace_id, m.role, m.participant_id",
]
keys = ("tenant", "participant_id", "participant", "role", "workspace", "since")
for source, sql in zip(("role_assignment", "workspace_member"), queries):
    cur = con.cursor()
    cur.execute(sql, (spec["tenant_id"],))
    while True:
        chunk = cur.fetchmany(2000)
        if not chunk:
            break
        for r in chunk:
            rec = dict(zip(keys, r))
            rec["scope"] = "tenant" if r[4] is None else "workspace"
            rec["source"] = source
            out.write(dumps(rec) + "\n")
            rows += 1
    cur.close()
out.flush()
stats["seconds"] = time.perf_counter() - start
stats["rows"] = rows
open(spec["out"], "w").write(json.dumps(stats))
"""
)


def run_snippet(code: str, spec: dict, env: dict, tmp: str) -> dict:
    """Run ``code`` in a fresh interpreter; its stats plus wall seconds and peak RSS (MB)."""
    out = os.path.join(tmp, f"stats-{uuid.uuid4().hex}.json")
    spec = dict(spec, out=out)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(spec)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0 or not os.path.exists(out):
        raise SystemExit(f"benchmark step failed:\n{err[-3000:]}")
    stats = json.loads(open(out).read())
    stats["wall"] = wall
    stats["rss_mb"] = usage.ru_maxrss / 1024
    return stats


# -- data ---------------------------------------------------------------------------------------


def generate(store, *, prefix: str, participants: int, seed: int = 1) -> dict:
    """One tenant with ``participants`` participants and 10 assignments each (see the module
    docstring). Returns what the measurements need."""
    from sqlalchemy import select

    from scaiwave_cli import api
    from scaiwave_cli.store import insert_batches, utcnow
    from scaiwave_cli.store import models as m

    P = api.permissions
    rng = random.Random(seed)
    now = utcnow()
    tid = f"tnt-{prefix}"
    slug = f"bench-{prefix}"
    n_ws = max(10, participants // 500)
    with store.transaction() as s:
        P.ensure_builtin_roles(s)
        builtin = dict(
            s.execute(select(m.Role.name, m.Role.id).where(m.Role.tenant_id.is_(None))).all()
        )
        s.add(
            m.Tenant(
                id=tid,
                slug=slug,
                name=f"Bench {prefix}",
                scaikey_tenant_id=f"sk-{tid}",
                features={},
                ai_defaults={},
            )
        )
        s.flush()
        ws_ids = [f"ws-{prefix}-{i:05d}" for i in range(n_ws)]
        insert_batches(
            s,
            m.Workspace,
            (
                {
                    "id": w,
                    "tenant_id": tid,
                    "slug": f"ws-{i:05d}",
                    "name": w,
                    "personal": False,
                    "created_at": now,
                }
                for i, w in enumerate(ws_ids)
            ),
        )
        custom = {}
        for level, letter in (("tenant", "t"), ("workspace", "w")):
            for i in range(10):
                role = m.Role(tenant_id=tid, name=f"{letter}{i}", builtin=False, level=level)
                s.add(role)
                s.flush()
                custom[role.name] = role.id
                perms = rng.sample(P.PERMISSIONS, rng.randint(3, 6))
                s.add_all(m.RolePermission(role_id=role.id, permission=p) for p in perms)
        s.flush()
        pids = [f"prt-{prefix}-{i:07d}" for i in range(participants)]
        insert_batches(
            s,
            m.Participant,
            (
                {
                    "id": p,
                    "tenant_id": tid,
                    "kind": "human",
                    "display_name": p,
                    "email": f"{p}@bench.test",
                    "active": True,
                    "created_at": now,
                }
                for p in pids
            ),
            batch_size=5000,
        )

        def members():
            for i, p in enumerate(pids):
                role = "owner" if i < n_ws else ("editor" if i % 2 else "viewer")
                yield {
                    "workspace_id": ws_ids[i % n_ws],
                    "participant_id": p,
                    "tenant_id": tid,
                    "role": role,
                    "created_at": now,
                }

        def assignments():
            for i, p in enumerate(pids):
                base = {
                    "tenant_id": tid,
                    "participant_id": p,
                    "created_at": now,
                    "created_by": "bench",
                }
                for role_id in (
                    builtin["member"],
                    custom[f"t{i % 10}"],
                    custom[f"t{(i + 3) % 10}"],
                ):
                    yield {**base, "role_id": role_id, "workspace_id": None, "scope_key": ""}
                for k in range(6):
                    ws = ws_ids[(i + 1 + k * 7) % n_ws]
                    yield {
                        **base,
                        "role_id": custom[f"w{(i + k) % 10}"],
                        "workspace_id": ws,
                        "scope_key": ws,
                    }

        n_members = insert_batches(s, m.WorkspaceMember, members(), batch_size=5000)
        n_assign = insert_batches(s, m.RoleAssignment, assignments(), batch_size=5000)
    questions = []
    for q in range(CORE_CALLS):  # the same mix of question shapes at every size
        i = rng.randrange(participants)
        ws = [None, ws_ids[i % n_ws], ws_ids[(i + 1) % n_ws], rng.choice(ws_ids)][q % 4]
        questions.append((pids[i], rng.choice(P.PERMISSIONS), ws))
    ws_slug = {w: f"ws-{i:05d}" for i, w in enumerate(ws_ids)}
    return {
        "tenant_id": tid,
        "slug": slug,
        "rows": n_members + n_assign,
        "questions": questions,
        "ws_slug": ws_slug,
    }


def cli_calls(data) -> list[list[str]]:
    calls = []
    for pid, perm, ws in data["questions"][:CHECK_CALLS]:
        args = ["role", "check", pid, perm, "--tenant", data["slug"]]
        if ws is not None:
            args += ["--workspace", data["ws_slug"][ws]]
        calls.append(args)
    return calls


# -- running ------------------------------------------------------------------------------------


def bench_engine(label: str, url: str | None, home: str, args, tmp: str) -> None:
    from scaiwave_cli import api
    from scaiwave_cli.store import migrate

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = home
    environ = {"SCAIWAVE_HOME": home}
    if url:
        env["SCAIWAVE_DB_URL"] = url
        environ["SCAIWAVE_DB_URL"] = url
    settings = api.load_settings({}, environ=environ)
    store = api.store.open_store(settings, check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    raw_url = store.url
    run_id = uuid.uuid4().hex[:6]
    sizes = {"small": max(100, args.participants // 100), "big": args.participants}
    print(f"\n=== {label}: {store.masked_url}")
    data = {}
    for name, n in sizes.items():
        t0 = time.perf_counter()
        data[name] = generate(store, prefix=f"{run_id}{name[0]}", participants=n)
        took = time.perf_counter() - t0
        print(
            f"  generated {name}: {n:,} participants, {data[name]['rows']:,} assignments "
            f"in {took:.1f} s"
        )
    try:
        results = {}
        for name, d in data.items():
            spec = {"tenant_id": d["tenant_id"], "url": raw_url, "questions": d["questions"]}
            results[name] = {
                "cli": run_snippet(CLI_CALLS, {"calls": cli_calls(d)}, env, tmp),
                "core": run_snippet(CORE_CHECKS, spec, env, tmp),
                "raw": run_snippet(BASELINE_CHECKS, spec, env, tmp),
                "list": run_snippet(
                    CLI_CALLS,
                    {
                        "calls": [
                            ["--output", "jsonl", "role", "assignments", "--tenant", d["slug"]]
                        ]
                    },
                    env,
                    tmp,
                ),
                "list_raw": run_snippet(BASELINE_LISTING, spec, env, tmp),
            }
        report(results, data)
    finally:
        if url and not args.keep:
            from sqlalchemy import delete

            m = api.store.models
            with store.transaction() as s:
                for d in data.values():
                    s.execute(delete(m.Tenant).where(m.Tenant.id == d["tenant_id"]))
        store.close()


def report(results, data) -> None:
    print("\n  role check (CLI in-process, incl. opening the store; 200 calls)")
    print(f"  {'tenant':6} {'assignments':>12} {'ms/call':>9} {'stmts/call':>11} {'exit 0/1':>10}")
    for name, r in results.items():
        c = r["cli"]
        per = c["seconds"] / CHECK_CALLS * 1000
        codes = "/".join(str(c["codes"].get(k, 0)) for k in ("0", "1"))
        other = {k: v for k, v in c["codes"].items() if k not in ("0", "1")}
        codes += f" other: {other}" if other else ""
        print(
            f"  {name:6} {data[name]['rows']:>12,} {per:>9.2f} "
            f"{c['statements'] / CHECK_CALLS:>11.2f} {codes:>10}"
        )
    print("\n  api.permissions.check on one session (2,000 calls) vs raw-driver baseline")
    print(f"  {'tenant':6} {'ours us':>9} {'stmts':>6} {'raw us':>8} {'ours/raw':>9} {'agree':>6}")
    for name, r in results.items():
        ours = r["core"]["seconds"] / CORE_CALLS * 1e6
        raw = r["raw"]["seconds"] / CORE_CALLS * 1e6
        agree = "yes" if r["core"]["allowed"] == r["raw"]["allowed"] else "NO"
        print(
            f"  {name:6} {ours:>9.1f} {r['core']['statements'] / CORE_CALLS:>6.2f} "
            f"{raw:>8.1f} {ours / raw:>8.2f}x {agree:>6}"
        )
    print("\n  role assignments --tenant (jsonl to /dev/null) vs raw-driver baseline")
    print(
        f"  {'tenant':6} {'rows':>10} {'ours s':>8} {'rows/s':>10} {'stmts':>6} {'RSS MB':>7} "
        f"{'raw s':>7} {'raw RSS':>8} {'speed ours/raw':>15}"
    )
    for name, r in results.items():
        ours, raw = r["list"], r["list_raw"]
        rows = raw["rows"]
        print(
            f"  {name:6} {rows:>10,} {ours['wall']:>8.2f} {rows / ours['wall']:>10,.0f} "
            f"{ours['statements']:>6} {ours['rss_mb']:>7.0f} {raw['wall']:>7.2f} "
            f"{raw['rss_mb']:>8.0f} {raw['wall'] / ours['wall']:>14.2f}x"
        )
    small, big = results["small"], results["big"]
    ratio = (
        big["cli"]["seconds"] / small["cli"]["seconds"],
        big["core"]["seconds"] / small["core"]["seconds"],
    )
    print(
        f"\n  big/small time per check: CLI {ratio[0]:.2f}x, core {ratio[1]:.2f}x "
        f"({data['big']['rows'] // data['small']['rows']}x the rows); statements per check "
        f"equal: {small['cli']['statements'] == big['cli']['statements']} (CLI), "
        f"{small['core']['statements'] == big['core']['statements']} (core); "
        f"listing statements equal: {small['list']['statements'] == big['list']['statements']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--db-url", action="append", default=[], help="also bench this database")
    parser.add_argument(
        "--mariadb", action="store_true", help="also bench a throwaway local MariaDB server"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the embedded SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the rows in --db-url databases")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="role-bench-")
    server = None
    try:
        if not args.no_sqlite:
            bench_engine("embedded SQLite", None, os.path.join(tmp, "home"), args, tmp)
        urls = list(args.db_url)
        if args.mariadb:
            from pathlib import Path

            from scaiwave_cli.store.testing import MariaDBServer

            server = MariaDBServer(Path(tmp) / "mariadb")
            server.base.mkdir()
            server.start()
            urls.append(server.create_database("role_bench"))
        for i, url in enumerate(urls):
            bench_engine("MariaDB", url, os.path.join(tmp, f"home-{i}"), args, tmp)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
