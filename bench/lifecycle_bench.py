"""Room delete and purge benchmark (issue 15), beside raw-DELETE baselines measured in the same run.

    python bench/lifecycle_bench.py                                   # 100k and 1M, SQLite
    python bench/lifecycle_bench.py --events 100000                   # one size
    python bench/lifecycle_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench   # MariaDB

For each size N: four rooms of N events each are generated with ``bench/gen_data.py`` (messages of
200 B to 4 KB, 1% edits, 0.5% redactions, 2% reactions, one media file per 500 events) in a fresh
database. Then each step runs in its own subprocess, so its peak RSS can be read (``os.wait4``):

- delete:   ``scaiwave room delete ROOM0 --tenant T --no-backup --yes`` (batches of 5,000, one
  transaction each; media files removed)
- baseline: the raw driver runs ``DELETE FROM media/room_members/events/rooms WHERE room_id = ?``
  for ROOM1 in one transaction (no batches, no files, no audit: the floor)
- purge:    ``scaiwave room purge --tenant T --room ROOM2 --before 2100-01-01 --yes`` (every
  event is older: the whole room, with the relation closure of every batch)
- baseline: ``DELETE FROM media ...; DELETE FROM events WHERE room_id = ? AND created_at < ?``
  for ROOM3 in one transaction

Printed: wall seconds, events/s, peak RSS (MB) and the ratio ours/baseline (wall). Not
pass/fail. The backup of `room delete --backup` is `room export` + `room verify`, measured by
``bench/room_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import rawdb  # bench/ is on sys.path when run as a script

HERE = os.path.dirname(os.path.abspath(__file__))

BASELINE = (
    "\nimport sys"
    + rawdb.CONNECT
    + r"""
url, room, mode = sys.argv[1:4]
con, ph = connect(url)
cur = con.cursor()
if url.startswith("sqlite"):
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("BEGIN IMMEDIATE")
if mode == "delete":
    for table, column in (("media", "room_id"), ("room_members", "room_id"),
                          ("events", "room_id"), ("rooms", "id")):
        sql = "DELETE FROM " + table + " WHERE " + column + " = {ph}"
        cur.execute(sql.format(ph=ph), (room,))
else:
    cur.execute(("DELETE FROM media WHERE room_id = {ph} AND event_id IN (SELECT id FROM events "
                 "WHERE room_id = {ph} AND created_at < {ph})").format(ph=ph),
                (room, room, "2100-01-01 00:00:00"))
    cur.execute("DELETE FROM events WHERE room_id = {ph} AND created_at < {ph}".format(ph=ph),
                (room, "2100-01-01 00:00:00"))
con.commit()
"""
)


def run(cmd, env) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one subprocess."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:6]} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024


def bench_size(n: int, db_url: str | None, keep: bool) -> list[dict]:
    home = tempfile.mkdtemp(prefix="lifecycle-bench-")
    os.chmod(home, 0o700)
    url = db_url or f"sqlite:///{home}/bench.db"
    env = dict(os.environ, SCAIWAVE_HOME=home, SCAIWAVE_DB_URL=url, SCAIWAVE_PROGRESS="off")
    env.pop("SCAIWAVE_ADMIN_TOKEN", None)
    # generated in a subprocess: this process stays small, so a child's peak RSS (which on
    # Linux includes what it had before exec) is its own
    started = time.perf_counter()
    gen = [sys.executable, os.path.join(HERE, "gen_data.py"), "--tenants", "1", "--rooms", "4",
           "--events", str(4 * n), "--db-url", url]  # fmt: skip
    subprocess.run(gen, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"  generated 4 rooms x {n:,} events in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    made = {"tenants": ["gen-tenant-00000"], "rooms": [f"room-gen{r:06d}" for r in range(4)]}
    tenant = made["tenants"][0]
    rooms = made["rooms"]
    scaiwave = [sys.executable, "-m", "scaiwave_cli"]
    results = []
    steps = [
        (
            "delete",
            scaiwave + ["room", "delete", rooms[0], "--tenant", tenant, "--no-backup", "--yes"],
        ),  # fmt: skip
        ("delete baseline", [sys.executable, "-c", BASELINE, url, rooms[1], "delete"]),
        (
            "purge",
            scaiwave
            + [
                "room",
                "purge",
                "--tenant",
                tenant,
                "--room",
                rooms[2],
                "--before",
                "2100-01-01",
                "--yes",
            ],
        ),  # fmt: skip
        ("purge baseline", [sys.executable, "-c", BASELINE, url, rooms[3], "purge"]),
    ]
    for name, cmd in steps:
        wall, rss = run(cmd, env)
        results.append({"n": n, "step": name, "wall": wall, "rss": rss})
        print(f"  {name:16} {wall:8.1f} s  {n / wall:10,.0f} events/s  {rss:7.0f} MB",
              file=sys.stderr)  # fmt: skip
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="N (repeatable)")
    parser.add_argument("--db-url", default=None,
                        help="an empty MariaDB database, one size per run")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()
    sizes = args.events or [100_000, 1_000_000]
    rows = []
    for n in sizes:
        print(f"N = {n:,}", file=sys.stderr)
        rows += bench_size(n, args.db_url, args.keep)
    print(f"{'N':>10} {'step':16} {'wall s':>8} {'events/s':>10} {'peak RSS MB':>11} "
          f"{'ours/baseline':>13}")  # fmt: skip
    by = {(r["n"], r["step"]): r for r in rows}
    for r in rows:
        base = by.get((r["n"], r["step"] + " baseline"))
        ratio = f"{r['wall'] / base['wall']:.2f}x" if base else ""
        print(f"{r['n']:>10,} {r['step']:16} {r['wall']:8.1f} {r['n'] / r['wall']:10,.0f} "
              f"{r['rss']:11.0f} {ratio:>13}")  # fmt: skip


if __name__ == "__main__":
    main()
