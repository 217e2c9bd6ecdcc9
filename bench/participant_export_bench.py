"""Participant export benchmark (issue 16), beside a raw-driver baseline measured in the same run.

    python bench/participant_export_bench.py                        # 100k events, SQLite
    python bench/participant_export_bench.py --events 100000 --events 300000   # RSS flat?
    python bench/participant_export_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench

For each size N and engine: one tenant, 10 rooms, two participants who take turns, 2N events
(``bench/gen_data.py``: messages of 200 B to 4 KB, 1% edits, 0.5% redactions, 2% reactions, one
media message per 500 events, all of them by the second participant), so the person exported
sent N events and uploaded 2N/500 files while the other half of the table is someone else's.
Then each step runs in its own subprocess, so its peak RSS can be read (``os.wait4``):

- export:   ``scaiwave admin export-participant P --tenant T --to out.zip`` (which also verifies
  the file it wrote: a second pass that inflates, hashes and parses every entry)
- verify:   ``scaiwave admin verify-export out.zip`` (that second pass alone)
- baseline: the raw driver (``sqlite3`` / PyMySQL unbuffered cursor) reads the same events in
  stream_position order, ``json`` turns each into a sorted-keys line, ``zipfile`` deflates them
  (level 6) and stores the person's media files; no profile, memberships or verification

Printed: wall seconds, events/s, CPU seconds, peak RSS (MB), and the speed ratio baseline/ours
(wall and CPU). Not pass/fail. With ``--db-url`` the MariaDB database is migrated if empty, and
the bench's rows (a per-run prefix) are deleted afterwards unless ``--keep``.
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
from room_bench import measured

HERE = os.path.dirname(os.path.abspath(__file__))

# -- the baseline (run as `python -c`, argv: url tenant participant out media_root) ------------

BASELINE = (
    "\nimport sys"
    + rawdb.CONNECT
    + r"""
import json, os, zipfile, datetime

url, tenant, person, out, media_root = sys.argv[1:6]
con, ph = connect(url, unbuffered=True)
def t(v):
    return v.isoformat() if isinstance(v, datetime.datetime) else v
dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
    with zf.open("events.jsonl", "w", force_zip64=True) as w:
        cur = con.cursor()
        cur.execute(
            "SELECT stream_position, id, room_id, event_type, content, original_content,"
            " origin_ts, created_at, edited_at, redacted_at, relation_type, relates_to_id"
            f" FROM events WHERE sender_id = {ph} AND tenant_id = {ph} ORDER BY stream_position",
            (person, tenant),
        )
        while True:
            rows = cur.fetchmany(2000)
            if not rows:
                break
            w.write("".join(
                dumps({"stream_position": r[0], "id": r[1], "room_id": r[2], "type": r[3],
                       "content": json.loads(r[4]),
                       "original_content": json.loads(r[5]) if r[5] else None,
                       "origin_ts": r[6], "created_at": t(r[7]), "edited_at": t(r[8]),
                       "redacted_at": t(r[9]),
                       "relates_to": {"rel_type": r[10], "event_id": r[11]} if r[11] else None})
                + "\n" for r in rows).encode())
    cur = con.cursor()
    cur.execute(f"SELECT DISTINCT sha256 FROM media WHERE tenant_id = {ph} AND uploader_id = {ph}"
                " ORDER BY sha256", (tenant, person))
    for (sha,) in cur.fetchall():
        zf.write(os.path.join(media_root, sha[:2], sha), "media/" + sha, zipfile.ZIP_STORED)
"""
)


def _generate(events: int, prefix: str) -> None:
    """In a subprocess (this process stays small): 2 participants, ``2 * events`` events."""
    sys.path.insert(0, HERE)
    from gen_data import generate

    from scaiwave_cli import api
    from scaiwave_cli.store import migrate

    store = api.store.open_store(api.load_settings({}), check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    try:
        made = generate(store, tenants=1, rooms=10, events=2 * events, participants=2,
                        prefix=prefix)  # fmt: skip
    finally:
        store.close()
    tenant_id = f"tnt-{prefix}00000"
    person = made["participants"][tenant_id][1]  # every 500th event (a media one) is theirs
    print(json.dumps({"tenant_id": tenant_id, "slug": made["tenants"][0], "person": person,
                      "media": made["media"]}))  # fmt: skip


def _cleanup(prefix: str) -> None:
    """Delete this run's rows (MariaDB with --db-url): events in chunks, then the rest."""
    from sqlalchemy import text

    from scaiwave_cli import api

    store = api.store.open_store(api.load_settings({}))
    tid = f"tnt-{prefix}00000"
    try:
        while True:
            with store.transaction() as s:
                sql = "DELETE FROM events WHERE tenant_id = :t LIMIT 50000"
                if not s.execute(text(sql), {"t": tid}).rowcount:
                    break
        with store.transaction() as s:
            for table in ("media", "room_members", "rooms", "workspace_members", "participants",
                          "workspaces", "audit_log", "tenants"):  # fmt: skip
                column = "id" if table == "tenants" else "tenant_id"
                s.execute(text(f"DELETE FROM {table} WHERE {column} = :t"), {"t": tid})
    finally:
        store.close()


def bench_one(events: int, db_url: str | None, keep: bool) -> dict:
    work = tempfile.mkdtemp(prefix=f"participant-bench-{events}-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.update(SCAIWAVE_HOME=os.path.join(work, "home"), SOURCE_DATE_EPOCH="1767225600")
    url = db_url or f"sqlite:///{os.path.join(work, 'home', 'scaiwave.db')}"
    env["SCAIWAVE_DB_URL"] = url
    os.makedirs(env["SCAIWAVE_HOME"])
    prefix = "pb" + uuid.uuid4().hex[:6]
    try:
        t0 = time.perf_counter()
        gen = subprocess.run([sys.executable, os.path.abspath(__file__), "--generate",
                              str(events), prefix], env=env, check=True,
                             stdout=subprocess.PIPE)  # fmt: skip
        made = json.loads(gen.stdout.decode().strip().splitlines()[-1])
        gen_s = time.perf_counter() - t0
        cli = [sys.executable, "-m", "scaiwave_cli", "--output", "json", "admin"]
        out = os.path.join(work, "person.zip")
        exp = measured(cli + ["export-participant", made["person"], "--tenant", made["slug"],
                              "--to", out], env)  # fmt: skip
        summary = json.loads(exp[3])
        ver = measured(cli + ["verify-export", out], env)
        media_root = os.path.join(env["SCAIWAVE_HOME"], "media", made["tenant_id"])
        base_out = os.path.join(work, "baseline.zip")
        base = measured([sys.executable, "-c", BASELINE, url, made["tenant_id"], made["person"],
                         base_out, media_root], env)  # fmt: skip
        result = {
            "engine": "mariadb" if url.startswith("mysql") else "sqlite",
            "events": summary["events"],
            "table_events": 2 * events,
            "media": summary["media"],
            "generate_s": round(gen_s, 1),
            "zip_mb": round(os.path.getsize(out) / 1e6, 1),
            "baseline_zip_mb": round(os.path.getsize(base_out) / 1e6, 1),
        }
        for key, (s, cpu, rss, _) in (("export", exp), ("verify", ver), ("baseline", base)):
            result.update({f"{key}_s": round(s, 2), f"{key}_cpu_s": round(cpu, 2),
                           f"{key}_rss_mb": round(rss, 1)})  # fmt: skip
        result["speed_ratio"] = round(base[0] / exp[0], 2)
        result["cpu_ratio"] = round(base[1] / exp[1], 2)
        if keep:
            result["work_dir"] = work
        return result
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        if db_url and not keep:
            subprocess.run([sys.executable, os.path.abspath(__file__), "--cleanup", prefix],
                           env=env, check=False)  # fmt: skip


def report(r: dict) -> None:
    n = r["events"]
    print(f"\n== {r['engine']}: a participant with {n:,} events and {r['media']:,} uploads in a "
          f"table of {r['table_events']:,} events (ZIP {r['zip_mb']} MB, baseline ZIP "
          f"{r['baseline_zip_mb']} MB; generated in {r['generate_s']} s)")  # fmt: skip
    print(f"{'':24}{'seconds':>9}{'events/s':>11}{'CPU s':>9}{'peak RSS MB':>13}")
    for label, key in (("export (+ its verify)", "export"), ("verify-export alone", "verify"),
                       ("baseline (raw driver)", "baseline")):  # fmt: skip
        s, cpu, rss = r[f"{key}_s"], r[f"{key}_cpu_s"], r[f"{key}_rss_mb"]
        print(f"{label:24}{s:>9.2f}{n / s:>11,.0f}{cpu:>9.2f}{rss:>13.1f}")
    print(f"speed vs baseline: wall {r['speed_ratio']}x, CPU {r['cpu_ratio']}x")


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--generate"]:
        _generate(int(argv[1]), argv[2])
        return
    if argv[:1] == ["--cleanup"]:
        _cleanup(argv[1])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append",
                        help="the person's events, repeatable (default 100,000)")  # fmt: skip
    parser.add_argument("--db-url", help="also run on this MariaDB database (migrated if empty)")
    parser.add_argument("--no-sqlite", action="store_true", help="with --db-url: MariaDB only")
    parser.add_argument("--keep", action="store_true", help="keep the work directories and rows")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args(argv)
    engines = ([] if args.no_sqlite and args.db_url else [None]) + (
        [args.db_url] if args.db_url else []
    )
    for db_url in engines:
        for n in args.events or [100_000]:
            result = bench_one(n, db_url, args.keep)
            print(json.dumps(result), flush=True) if args.json else report(result)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
