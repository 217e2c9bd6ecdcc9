"""Erasure and tenant deletion benchmark (issue 16), beside raw-driver baselines measured in the
same run.

    python bench/people_lifecycle_bench.py                      # erase 100k, delete-tenant 1M
    python bench/people_lifecycle_bench.py --events 10000       # every step at 10k (quick)
    python bench/people_lifecycle_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench  # MariaDB

Data (``bench/gen_data.py``: messages of 200 B to 4 KB, 1% edits, 0.5% redactions, 2% reactions,
one media file per 500 events, uploaded by its sender), generated in a subprocess into one
database, each set under its own prefix:

- erase: one tenant, 5 rooms, 5 participants sending in turn, so each of them has E events
  (``--erase-events``, 100k) and the tenant holds 5 E: other people's events too.
- delete: two suspended tenants of D events each (``--tenant-events``, 1M) in ``--rooms`` (50)
  rooms each.
- backup (optional, ``--backup-events``, 100k; 0 skips): two suspended tenants of B events in
  10 rooms each.

Then each step runs in its own subprocess, so its CPU time and peak RSS (the command's and any
child it ran: ``os.wait4``) can be read:

- ``scaiwave admin erase-participant P1 --tenant T --no-backup --yes``; baseline: the raw driver
  ``UPDATE events SET content='{}', original_content=NULL, redacted_at=… WHERE sender_id=P2``
  plus the tombstone ``UPDATE participants …`` in one transaction (no batches, no media, no
  scrubbing of other tables, no audit: the floor).
- ``scaiwave admin delete-tenant T1 --no-backup --yes``; baseline: ``DELETE FROM <table> WHERE
  tenant_id = T2`` for every table that has a tenant (the schema's own list, children first;
  the audit log kept, as delete-tenant keeps it), then the tenant row, in one transaction (no
  batches, no media files, no audit).
- ``scaiwave admin delete-tenant B1 --backup-dir DIR --yes`` (one `room export` + `room verify`
  child per room, the people export, then the deletion) against ``delete-tenant B2
  --no-backup --yes`` of the same size: what the backup costs.

After each step a raw query checks the result (no event of the deleted tenant left; no
unredacted event of the erased person). Printed: wall seconds, events/s, CPU seconds, peak RSS
(MB) and ours/baseline (wall). Not pass/fail. With ``--db-url`` the database is migrated if
empty and this run's remaining rows are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import rawdb  # bench/ is on sys.path when run as a script

HERE = os.path.dirname(os.path.abspath(__file__))
PEOPLE = 5  # participants per generated tenant: each sends every fifth event

# -- baselines and checks (run as `python -c`; argv after the program) --------------------------

_CONNECT = (
    "\nimport sys, datetime"
    + rawdb.CONNECT
    + r"""
url = sys.argv[1]
con, ph = connect(url)
cur = con.cursor()
if url.startswith("sqlite"):
    cur.execute("PRAGMA foreign_keys=ON")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
"""
)

BASELINE_ERASE = (
    _CONNECT
    + r"""
pid = sys.argv[2]
if url.startswith("sqlite"):
    cur.execute("BEGIN IMMEDIATE")
cur.execute(("UPDATE events SET content = '{{}}', original_content = NULL, redacted_at = {ph} "
             "WHERE sender_id = {ph}").format(ph=ph), (now, pid))
cur.execute(("UPDATE participants SET display_name = 'Erased participant', email = NULL, "
             "fqid = NULL, avatar_url = NULL, scaikey_user_id = NULL, active = 0, "
             "deactivated_at = {ph}, erased_at = {ph}, operator_hold = 0 WHERE id = {ph}"
             ).format(ph=ph), (now, now, pid))
con.commit()
"""
)

BASELINE_DELETE = (
    _CONNECT
    + r"""
tenant, tables = sys.argv[2], sys.argv[3].split(",")
if url.startswith("sqlite"):
    cur.execute("BEGIN IMMEDIATE")
for table in tables:
    cur.execute("DELETE FROM " + table + " WHERE tenant_id = " + ph, (tenant,))
cur.execute("DELETE FROM tenants WHERE id = " + ph, (tenant,))
con.commit()
"""
)

CHECK = (
    _CONNECT
    + r"""
what, key = sys.argv[2:4]
if what == "tenant":
    cur.execute("SELECT COUNT(*) FROM events WHERE tenant_id = " + ph, (key,))
else:
    cur.execute("SELECT COUNT(*) FROM events WHERE sender_id = " + ph
                + " AND content <> '{}'", (key,))
print(cur.fetchone()[0])
"""
)


def measured(cmd, env) -> tuple[float, float, float, float]:
    """(wall seconds, user CPU s, system CPU s, peak RSS MB) of one subprocess and its
    children."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd[:8])} failed:\n{err.read().decode()[-3000:]}")
    # wait4 reports the child with the children it waited for (room export/verify of a backup)
    return wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024


# -- generation (a subprocess: this process stays small, so a child's peak RSS is its own) ------


def _generate(prefix: str, erase: int, tenant: int, rooms: int, backup: int) -> None:
    sys.path.insert(0, HERE)
    from gen_data import generate
    from sqlalchemy import update

    from scaiwave_cli import api
    from scaiwave_cli.store import migrate

    m = api.store.models
    store = api.store.open_store(api.load_settings({}), check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    made = {}
    try:
        e = generate(store, tenants=1, rooms=5, events=PEOPLE * erase, participants=PEOPLE,
                     prefix=f"{prefix}e")  # fmt: skip
        pids = e["participants"][f"tnt-{prefix}e00000"]
        # participant 0 owns the workspace (the hand-over guard would refuse it): 1 and 2
        made["erase"] = {"tenant": e["tenants"][0], "ours": pids[1], "baseline": pids[2]}
        suspended = []
        for key, n, per in (("delete", tenant, rooms), ("backup", backup, 10)):
            if n <= 0:
                continue
            d = generate(store, tenants=2, rooms=2 * per, events=2 * n, participants=PEOPLE,
                         prefix=f"{prefix}{key[0]}")  # fmt: skip
            made[key] = {"ours": d["tenants"][0], "baseline": d["tenants"][1],
                         "ids": [f"tnt-{prefix}{key[0]}0000{i}" for i in (0, 1)]}  # fmt: skip
            suspended += d["tenants"]
        with store.transaction() as s:
            s.execute(update(m.Tenant).where(m.Tenant.slug.in_(suspended)).values(
                status="suspended"))  # fmt: skip
        tables = [t.name for t in reversed(m.Base.metadata.sorted_tables)
                  if "tenant_id" in t.c and t.name not in ("tenants", "audit_log")]  # fmt: skip
        made["tables"] = tables
    finally:
        store.close()
    print(json.dumps(made))


def _check(env, url, what, key) -> int:
    out = subprocess.run([sys.executable, "-c", CHECK, url, what, key], env=env, check=True,
                         stdout=subprocess.PIPE)  # fmt: skip
    return int(out.stdout.decode().strip())


# -- the run -----------------------------------------------------------------------------------


def bench(args) -> list[dict]:
    work = tempfile.mkdtemp(prefix="people-lifecycle-bench-")
    os.chmod(work, 0o700)
    home = os.path.join(work, "home")
    os.makedirs(home)
    url = args.db_url or f"sqlite:///{home}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.update(SCAIWAVE_HOME=home, SCAIWAVE_DB_URL=url, SCAIWAVE_PROGRESS="off",
               SCAIWAVE_SERVER_NAME="bench.example")  # fmt: skip
    prefix = "pl" + uuid.uuid4().hex[:4]
    started = time.perf_counter()
    gen = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--generate", prefix, str(args.erase_events),
         str(args.tenant_events), str(args.rooms), str(args.backup_events)],
        env=env, check=True, stdout=subprocess.PIPE,
    )  # fmt: skip
    made = json.loads(gen.stdout.decode().strip().splitlines()[-1])
    total = PEOPLE * args.erase_events + 2 * args.tenant_events + 2 * args.backup_events
    print(f"generated {total:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    cli = [sys.executable, "-m", "scaiwave_cli"]
    tables = ",".join(made["tables"])
    E, D, B = made["erase"], made.get("delete"), made.get("backup")
    steps = [
        ("erase", args.erase_events,
         cli + ["admin", "erase-participant", E["ours"], "--tenant", E["tenant"], "--no-backup",
                "--yes"], ("person", E["ours"])),
        ("erase baseline", args.erase_events,
         [sys.executable, "-c", BASELINE_ERASE, url, E["baseline"]], ("person", E["baseline"])),
    ]  # fmt: skip
    if D:
        steps += [
            ("delete-tenant", args.tenant_events,
             cli + ["admin", "delete-tenant", D["ours"], "--no-backup", "--yes"],
             ("tenant", D["ids"][0])),
            ("delete-tenant baseline", args.tenant_events,
             [sys.executable, "-c", BASELINE_DELETE, url, D["ids"][1], tables],
             ("tenant", D["ids"][1])),
        ]  # fmt: skip
    if B:
        steps += [
            ("backup+delete", args.backup_events,
             cli + ["admin", "delete-tenant", B["ours"], "--backup-dir",
                    os.path.join(work, "backup"), "--yes"], ("tenant", B["ids"][0])),
            ("backup+delete baseline", args.backup_events,
             cli + ["admin", "delete-tenant", B["baseline"], "--no-backup", "--yes"],
             ("tenant", B["ids"][1])),
        ]  # fmt: skip
    rows = []
    for name, n, cmd, (what, key) in steps:
        wall, user, system, rss = measured(cmd, env)
        left = _check(env, url, what, key)
        cpu = user + system
        rows.append({"step": name, "n": n, "wall": wall, "cpu": cpu, "rss": rss, "left": left})
        print(f"  {name:24} {wall:8.1f} s  {n / wall:10,.0f} events/s  {rss:6.0f} MB  "
              f"CPU {user:.1f} user + {system:.1f} sys  left: {left}", file=sys.stderr)  # fmt: skip
        if left:
            print(f"  warning: {name} left {left} event(s) behind", file=sys.stderr)
    if B:
        size = sum(
            os.path.getsize(os.path.join(d, f))
            for d, _, files in os.walk(os.path.join(work, "backup"))
            for f in files
        )
        print(f"  backup directory: {size / 1e6:,.1f} MB", file=sys.stderr)
    if args.db_url and not args.keep:
        ids = [f"tnt-{prefix}e00000"] + (B["ids"] if B else []) + (D["ids"] if D else [])
        for tid in ids:  # what the steps left (a tenant deleted already: nothing)
            subprocess.run([sys.executable, "-c", BASELINE_DELETE, url, tid,
                            tables + ",audit_log"], env=env, check=True)  # fmt: skip
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept: {work}", file=sys.stderr)
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        prefix, *sizes = sys.argv[2:]
        _generate(prefix, *map(int, sizes))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="every step at this size (a quick run)")
    parser.add_argument("--erase-events", type=int, default=100_000,
                        help="events of the erased participant [100,000]")  # fmt: skip
    parser.add_argument("--tenant-events", type=int, default=1_000_000,
                        help="events of the deleted tenant [1,000,000]")  # fmt: skip
    parser.add_argument("--rooms", type=int, default=50, help="rooms of the deleted tenant [50]")
    parser.add_argument(
        "--backup-events",
        type=int,
        default=100_000,
        help="events of the tenant deleted with --backup-dir [100,000]; 0 skips",
    )
    parser.add_argument("--db-url", default=None, help="an empty MariaDB database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home and rows")
    args = parser.parse_args()
    if args.events:
        args.erase_events = args.tenant_events = args.events
        args.backup_events = args.events if args.backup_events else 0
    engine = "MariaDB" if (args.db_url or "").startswith("mysql") else "SQLite"
    print(f"engine: {engine}", file=sys.stderr)
    rows = bench(args)
    print(f"{'step':24} {'events':>10} {'wall s':>8} {'events/s':>10} {'CPU s':>7} "
          f"{'peak RSS MB':>11} {'ours/baseline':>13}")  # fmt: skip
    by = {r["step"]: r for r in rows}
    for r in rows:
        base = by.get(r["step"] + " baseline")
        ratio = f"{r['wall'] / base['wall']:.2f}x" if base else ""
        print(f"{r['step']:24} {r['n']:>10,} {r['wall']:8.1f} {r['n'] / r['wall']:10,.0f} "
              f"{r['cpu']:7.1f} {r['rss']:11.0f} {ratio:>13}")  # fmt: skip


if __name__ == "__main__":
    main()
