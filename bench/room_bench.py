"""Room export/import benchmark (issue 7), beside baselines measured in the same run.

    python bench/room_bench.py                                  # 1M events, embedded SQLite
    python bench/room_bench.py --events 100000 --events 1000000 # RSS flat from 100k to 1M?
    python bench/room_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench   # and MariaDB

For each size and engine: one room of N events is generated with ``bench/gen_data.py`` (the store
issue's generator: messages of 200 B to 4 KB, 1% edits, 0.5% redactions, 2% reactions, one
media file per 500 events, so 2,000 media files for 1M events) through ``api.store``'s batched
inserts, plus a target tenant with an editor. Then each step runs in its own subprocess, so its
peak RSS can be read (``os.wait4``):

- export:   ``scaiwave room export ROOM --tenant SRC --to out.zip``
- baseline: the raw driver (``sqlite3`` / PyMySQL unbuffered cursor) reads the same rows in
  stream_position order, ``json`` turns each into the same manifest record (sorted keys),
  ``zipfile`` deflates it (level 6) and stores the same media files
- import:   ``scaiwave room import general --tenant DST --as EDITOR --from out.zip``
- baseline: the raw driver reads the source rows and ``executemany``-inserts them into the same
  events table (a new room, a new id and stream position per row, as any import must), one
  transaction

Printed: wall seconds, events/s, CPU seconds, peak RSS (MB) and speed ratios baseline/ours
(wall time, and CPU time, which a busy shared machine disturbs less; issue 17's targets:
export >= 0.9x and import >= 0.7x on SQLite, import >= 1.5x on MariaDB; RSS < 150 MB and flat
from 100k to 1M). Not pass/fail.
With ``--db-url`` the MariaDB database is migrated if empty, and the bench's rows (a per-run
prefix) are deleted afterwards unless ``--keep``.
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

# -- baselines (run as `python -c`, argv: url room_id out media_root tenant_id) ---------------

_CONNECT = "\nimport sys" + rawdb.CONNECT

BASELINE_EXPORT = (
    _CONNECT
    + r"""
import json, os, zipfile, datetime

url, room, out, media_root, tenant = sys.argv[1:6]
con, ph = connect(url, unbuffered=True)
def t(v):
    return v.isoformat() if isinstance(v, datetime.datetime) else v
dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
    with zf.open("manifest.json", "w", force_zip64=True) as w:
        w.write(b'{"events":[')
        cur = con.cursor()
        cur.execute(
            "SELECT id, event_type, sender_id, origin_ts, created_at, content, original_content,"
            " edited_at, redacted_at, relation_type, relates_to_id FROM events"
            f" WHERE tenant_id = {ph} AND room_id = {ph} ORDER BY stream_position",
            (tenant, room),
        )
        first = True
        while True:
            rows = cur.fetchmany(2000)
            if not rows:
                break
            chunk = ",".join(
                dumps({"id": r[0], "type": r[1], "sender": r[2], "origin_ts": r[3],
                       "created_at": t(r[4]), "content": json.loads(r[5]),
                       "original_content": json.loads(r[6]) if r[6] else None,
                       "edited_at": t(r[7]), "redacted_at": t(r[8]),
                       "relates_to": {"rel_type": r[9], "event_id": r[10]} if r[10] else None,
                       "media": []})
                for r in rows)
            w.write((chunk if first else "," + chunk).encode())
            first = False
        w.write(b"]}")
    for dirpath, _, files in sorted(os.walk(media_root)):
        for name in sorted(files):
            zf.write(os.path.join(dirpath, name), "media/" + name, zipfile.ZIP_STORED)
"""
)

BASELINE_IMPORT = (
    _CONNECT
    + r"""
import uuid, datetime
url, room, tenant, workspace, creator = sys.argv[1:6]
src, ph = connect(url, unbuffered=True)
dst, _ = connect(url)
cols = ["id", "tenant_id", "room_id", "sender_id", "event_type", "content", "original_content",
        "stream_position", "origin_ts", "created_at", "edited_at", "redacted_at",
        "relation_type", "relates_to_id", "do_not_index"]
cur = src.cursor()
cur.execute(f"SELECT {', '.join(cols)} FROM events WHERE tenant_id = {ph} AND room_id = {ph}"
            " ORDER BY stream_position", (tenant, room))
out = dst.cursor()
if ph == "?":
    out.execute("BEGIN")
out.execute("SELECT COALESCE(MAX(stream_position), 0) FROM events")
position = out.fetchone()[0] + 1_000_000_000
new_room = "room-baseline-" + uuid.uuid4().hex[:12]
now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat(" ")
out.execute(f"INSERT INTO rooms (id, tenant_id, workspace_id, type, state, name, creator_id,"
            f" federated, do_not_index, created_at) VALUES ({', '.join([ph] * 10)})",
            (new_room, tenant, workspace, "group", "open", "baseline", creator, 0, 1, now))
sql = f"INSERT INTO events ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))})"
while True:
    rows = cur.fetchmany(2000)
    if not rows:
        break
    batch = []
    for r in rows:  # what any import must do: a new id, room, sender and stream position
        r = list(r)
        r[0] = "evt-" + uuid.uuid4().hex
        r[2] = new_room
        r[3] = creator
        position += 1
        r[7] = position
        r[14] = 1
        batch.append(r)
    out.executemany(sql, batch)
dst.commit()
"""
)


def measured(cmd, env) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of a subprocess; CPU time and RSS are
    the child's own (``os.wait4``). CPU seconds say more than wall time on a shared machine."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            raise SystemExit(f"{' '.join(cmd[:8])} failed ({code}):\n{err.read().decode()}")
        cpu = usage.ru_utime + usage.ru_stime
        return seconds, cpu, usage.ru_maxrss / 1024, out.read().decode()


# -- generation (in a subprocess: this process stays small) ------------------------------------


def _generate(events: int, prefix: str) -> None:
    sys.path.insert(0, HERE)
    from gen_data import generate

    from scaiwave_cli import api
    from scaiwave_cli.store import migrate

    settings = api.load_settings({})
    store = api.store.open_store(settings, check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    try:
        src = generate(store, tenants=1, rooms=1, events=events, prefix=f"{prefix}s")
        dst = generate(store, tenants=1, rooms=0, events=0, prefix=f"{prefix}d")
    finally:
        store.close()
    tenant_src, tenant_dst = src["tenants"][0], dst["tenants"][0]
    print(
        json.dumps(
            {
                "room": src["rooms"][0],
                "media": src["media"],
                "src_slug": tenant_src,
                "src_id": f"tnt-{prefix}s00000",
                "dst_slug": tenant_dst,
                "dst_id": f"tnt-{prefix}d00000",
                "dst_workspace": f"ws-{prefix}d00000",
                "dst_editor": dst["participants"][f"tnt-{prefix}d00000"][1],
            }
        )
    )


def _cleanup(prefix: str) -> None:
    """Delete this run's rows (MariaDB with --db-url): events in chunks, then the rest."""
    from sqlalchemy import text

    from scaiwave_cli import api

    store = api.store.open_store(api.load_settings({}))
    tenants = [f"tnt-{prefix}s00000", f"tnt-{prefix}d00000"]
    try:
        for tid in tenants:
            while True:
                with store.transaction() as s:
                    n = s.execute(
                        text("DELETE FROM events WHERE tenant_id = :t LIMIT 50000"), {"t": tid}
                    ).rowcount
                if not n:
                    break
        with store.transaction() as s:
            for table in ("media", "room_members", "rooms", "workspace_members", "participants",
                          "workspaces", "audit_log", "tenants"):  # fmt: skip
                column = "id" if table == "tenants" else "tenant_id"
                s.execute(
                    text(f"DELETE FROM {table} WHERE {column} IN (:a, :b)"),
                    {"a": tenants[0], "b": tenants[1]},
                )
    finally:
        store.close()


# -- one size on one engine --------------------------------------------------------------------


def bench_one(events: int, db_url: str | None, keep: bool) -> dict:
    work = tempfile.mkdtemp(prefix=f"room-bench-{events}-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.update(
        SCAIWAVE_HOME=os.path.join(work, "home"),
        SCAIWAVE_SERVER_NAME="bench.example",
        SOURCE_DATE_EPOCH="1767225600",
    )
    url = db_url or f"sqlite:///{os.path.join(work, 'home', 'scaiwave.db')}"
    env["SCAIWAVE_DB_URL"] = url
    os.makedirs(env["SCAIWAVE_HOME"])
    prefix = "rb" + uuid.uuid4().hex[:6]
    engine = "mariadb" if url.startswith("mysql") else "sqlite"
    try:
        t0 = time.perf_counter()
        gen = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--generate", str(events), prefix],
            env=env,
            check=True,
            stdout=subprocess.PIPE,
        )
        made = json.loads(gen.stdout.decode().strip().splitlines()[-1])
        gen_s = time.perf_counter() - t0
        cli = [sys.executable, "-m", "scaiwave_cli"]
        out = os.path.join(work, "room.zip")
        exp_s, exp_cpu, exp_rss, _ = measured(
            cli + ["room", "export", made["room"], "--tenant", made["src_slug"], "--to", out], env
        )
        media_root = os.path.join(env["SCAIWAVE_HOME"], "media", made["src_id"])
        base_out = os.path.join(work, "baseline.zip")
        bexp_s, bexp_cpu, bexp_rss, _ = measured(
            [sys.executable, "-c", BASELINE_EXPORT, url, made["room"], base_out, media_root,
             made["src_id"]],
            env,
        )  # fmt: skip
        imp_s, imp_cpu, imp_rss, imp_out = measured(
            cli
            + ["--output", "json", "room", "import", "general", "--tenant", made["dst_slug"],
               "--as", made["dst_editor"], "--from", out],
            env,
        )  # fmt: skip
        imported = json.loads(imp_out)
        bimp_s, bimp_cpu, bimp_rss, _ = measured(
            [sys.executable, "-c", BASELINE_IMPORT, url, made["room"], made["src_id"],
             made["dst_workspace"], made["dst_editor"]],
            env,
        )  # fmt: skip
        result = {
            "engine": engine,
            "events": events,
            "imported_events": imported["events"],
            "media": made["media"],
            "generate_s": round(gen_s, 1),
            "bundle_mb": round(os.path.getsize(out) / 1e6, 1),
            "baseline_zip_mb": round(os.path.getsize(base_out) / 1e6, 1),
            "export_s": round(exp_s, 2),
            "export_cpu_s": round(exp_cpu, 2),
            "export_rss_mb": round(exp_rss, 1),
            "baseline_export_s": round(bexp_s, 2),
            "baseline_export_cpu_s": round(bexp_cpu, 2),
            "baseline_export_rss_mb": round(bexp_rss, 1),
            "export_speed_ratio": round(bexp_s / exp_s, 2),
            "export_cpu_ratio": round(bexp_cpu / exp_cpu, 2),
            "import_s": round(imp_s, 2),
            "import_cpu_s": round(imp_cpu, 2),
            "import_rss_mb": round(imp_rss, 1),
            "baseline_import_s": round(bimp_s, 2),
            "baseline_import_cpu_s": round(bimp_cpu, 2),
            "baseline_import_rss_mb": round(bimp_rss, 1),
            "import_speed_ratio": round(bimp_s / imp_s, 2),
            "import_cpu_ratio": round(bimp_cpu / imp_cpu, 2),
        }
        if keep:
            result["work_dir"] = work
        return result
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        if db_url and not keep:
            cleanups.append((prefix, env))


cleanups: list = []  # MariaDB rows to delete once the figures are printed


def cleanup() -> None:
    while cleanups:
        prefix, env = cleanups.pop()
        print(f"(deleting the bench's rows {prefix}… from the MariaDB database)", flush=True)
        subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--cleanup", prefix], env=env, check=False
        )


def report(r: dict) -> None:
    n = r["events"]
    # issue 17's targets (same-run baselines)
    if r["engine"] == "sqlite":
        target_export, target_import = " (target >= 0.9)", " (target >= 0.7)"
    else:
        target_export, target_import = "", " (target >= 1.5)"
    print(
        f"\n== {r['engine']}: room of {n:,} events, {r['media']:,} media files "
        f"(bundle {r['bundle_mb']} MB, baseline ZIP {r['baseline_zip_mb']} MB; "
        f"generated in {r['generate_s']} s)"
    )
    print(f"{'':14}{'seconds':>9}{'events/s':>11}{'CPU s':>9}{'peak RSS MB':>13}")
    for label, key in (
        ("export", "export"),
        ("  baseline", "baseline_export"),
        ("import", "import"),
        ("  baseline", "baseline_import"),
    ):
        s, cpu, rss = r[f"{key}_s"], r[f"{key}_cpu_s"], r[f"{key}_rss_mb"]
        print(f"{label:14}{s:>9.2f}{n / s:>11,.0f}{cpu:>9.2f}{rss:>13.1f}")
    print(
        f"speed vs baseline (wall): export {r['export_speed_ratio']}x{target_export}, "
        f"import {r['import_speed_ratio']}x{target_import}; by CPU time: export "
        f"{r['export_cpu_ratio']}x, import {r['import_cpu_ratio']}x; "
        f"imported {r['imported_events']:,} events"
    )


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--generate"]:
        _generate(int(argv[1]), argv[2])
        return
    if argv[:1] == ["--cleanup"]:
        _cleanup(argv[1])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        action="append",
        help="room size, repeatable (default 1,000,000)",
    )
    parser.add_argument(
        "--db-url", help="also run on this MariaDB database (mysql+pymysql://…; migrated if empty)"
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="with --db-url: MariaDB only, no SQLite run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directories and rows")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args(argv)
    sizes = args.events or [1_000_000]
    engines = ([] if args.no_sqlite and args.db_url else [None]) + (
        [args.db_url] if args.db_url else []
    )
    results = []
    try:
        for db_url in engines:
            for n in sizes:
                result = bench_one(n, db_url, args.keep)
                results.append(result)
                if args.json:
                    print(json.dumps(result), flush=True)
                else:
                    report(result)
                    sys.stdout.flush()
                cleanup()
    finally:
        cleanup()
    if not args.json:
        for engine in ("sqlite", "mariadb"):
            rows = [r for r in results if r["engine"] == engine]
            if len(rows) > 1:
                a, b = rows[0], rows[-1]
                print(
                    f"\n{engine} peak RSS {a['events']:,} -> {b['events']:,} events: export "
                    f"{a['export_rss_mb']} -> {b['export_rss_mb']} MB, import "
                    f"{a['import_rss_mb']} -> {b['import_rss_mb']} MB"
                )


if __name__ == "__main__":
    main()
