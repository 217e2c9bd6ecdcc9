"""Store benchmark: insert and stream 1M events through the store, against raw drivers.

    python bench/store_bench.py [--events 1000000] [--engines sqlite,mariadb]

For each engine: rows/s inserting events with ``bench/gen_data.py`` (``store.insert_batches``)
and rows/s streaming them back in stream order with ``store.stream``, plus the peak RSS of the
streaming process (target: flat, < 100 MB). The baseline, measured in the same run on the same
rows: raw ``sqlite3`` / PyMySQL ``executemany`` into a bare copy of the table, and a raw cursor
(PyMySQL ``SSCursor``) reading them back. MariaDB is a throwaway server started here (Debian's
mariadb-server), on 127.0.0.1. Prints figures; not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ("id", "tenant_id", "room_id", "sender_id", "event_type", "content", "stream_position",
           "origin_ts")  # fmt: skip


def _settings(url, home):
    from scaiwave_cli.config import load_settings

    return load_settings({"db_url": url} if url else {}, environ={"SCAIWAVE_HOME": str(home)})


def _open(url, home):
    from scaiwave_cli.store import migrate, open_store

    store = open_store(_settings(url, home), check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    return store


def bench_insert(url, home, events):
    sys.path.insert(0, str(HERE))
    from gen_data import generate

    store = _open(url, home)
    started = time.perf_counter()
    generate(store, tenants=2, rooms=4, events=events, participants=3)
    took = time.perf_counter() - started
    store.close()
    return took


def _raw_rows(events):
    body = "lorem ipsum dolor sit amet " * 40
    for n in range(events):
        yield (f"evt-raw{n:09d}", "tnt-raw", "room-raw", "prt-raw", "swp.room.message",
               json.dumps({"msgtype": "swp.text", "body": body[: 200 + (n * 37) % 3800]}),
               n + 1, n)  # fmt: skip


def raw_insert(url, home, events):
    """The driver alone: executemany into a bare table with the event columns."""
    from itertools import islice

    rows = _raw_rows(events)
    if url is None:
        import sqlite3

        conn = sqlite3.connect(Path(home) / "raw.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE raw_events ({', '.join(COLUMNS)})")
        started = time.perf_counter()
        while chunk := list(islice(rows, 5000)):
            conn.executemany(f"INSERT INTO raw_events VALUES ({','.join('?' * len(COLUMNS))})",
                             chunk)  # fmt: skip
        conn.commit()
        return time.perf_counter() - started
    conn = _pymysql(url)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS raw_events")
        cur.execute("CREATE TABLE raw_events (id VARCHAR(64) PRIMARY KEY, tenant_id VARCHAR(64), "
                    "room_id VARCHAR(64), sender_id VARCHAR(64), event_type VARCHAR(128), "
                    "content LONGTEXT, stream_position BIGINT, origin_ts BIGINT, "
                    "KEY (room_id, stream_position)) ENGINE=InnoDB")  # fmt: skip
        started = time.perf_counter()
        while chunk := list(islice(rows, 5000)):
            cur.executemany(f"INSERT INTO raw_events VALUES ({','.join(['%s'] * len(COLUMNS))})",
                            chunk)  # fmt: skip
    conn.commit()
    took = time.perf_counter() - started
    conn.close()
    return took


def _pymysql(url, **kw):
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return pymysql.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                           database=u.database, charset="utf8mb4", **kw)  # fmt: skip


def stream_child(kind, url, home):
    """Run in a subprocess: read every event in stream order; print count, seconds, peak RSS."""
    started = time.perf_counter()
    count = 0
    size = 0
    if kind == "store":
        from sqlalchemy import select

        from scaiwave_cli.store import models as m
        from scaiwave_cli.store import stream

        store = _open(url, home)
        stmt = select(m.Event.id, m.Event.content, m.Event.stream_position).order_by(
            m.Event.stream_position
        )
        with store.session() as s:
            for row in stream(s, stmt, batch_size=2000):
                count += 1
                size += len(row.content.get("body", ""))
    elif url is None:
        import sqlite3

        conn = sqlite3.connect(Path(home) / "raw.db")
        for _id, content, _pos in conn.execute(
            "SELECT id, content, stream_position FROM raw_events ORDER BY stream_position"
        ):
            count += 1
            size += len(json.loads(content).get("body", ""))
    else:
        import pymysql.cursors

        conn = _pymysql(url, cursorclass=pymysql.cursors.SSCursor)
        with conn.cursor() as cur:
            cur.execute("SELECT id, content, stream_position FROM raw_events "
                        "ORDER BY stream_position")  # fmt: skip
            for _id, content, _pos in cur:
                count += 1
                size += len(json.loads(content).get("body", ""))
    took = time.perf_counter() - started
    rss = _peak_rss_mb()
    print(json.dumps({"count": count, "seconds": took, "rss_mb": rss}))


def _peak_rss_mb() -> float:
    # VmHWM is this process's own high-water mark (ru_maxrss would include the parent's, as
    # Linux carries it across fork+exec).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_stream(kind, url, home):
    out = subprocess.run(
        [sys.executable, __file__, "--stream-child", kind, "--url", url or "", "--home", str(home)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_engine(name, url, home, events):
    print(f"\n== {name}: {events:,} events")
    took = bench_insert(url, home, events)
    base = raw_insert(url, home, events)
    print(f"insert  store.insert_batches {events / took:>10,.0f} rows/s ({took:.1f} s)   "
          f"raw driver {events / base:>10,.0f} rows/s ({base:.1f} s)   "
          f"ratio {took / base:.2f}x raw")  # fmt: skip
    ours = run_stream("store", url, home)
    raw = run_stream("raw", url, home)
    print(f"stream  store.stream         {ours['count'] / ours['seconds']:>10,.0f} rows/s "
          f"({ours['seconds']:.1f} s, peak RSS {ours['rss_mb']:.0f} MB)   "
          f"raw cursor {raw['count'] / raw['seconds']:>10,.0f} rows/s ({raw['seconds']:.1f} s, "
          f"peak RSS {raw['rss_mb']:.0f} MB)   "
          f"ratio {ours['seconds'] / raw['seconds']:.2f}x raw")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,mariadb")
    parser.add_argument("--stream-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--home", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        stream_child(args.stream_child, args.url or None, args.home)
        return
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory(prefix="scaiwave-store-bench-") as tmp:
        if "sqlite" in engines:
            home = Path(tmp) / "sqlite"
            home.mkdir()
            bench_engine("SQLite (embedded default)", None, home, args.events)
        if "mariadb" in engines:
            from scaiwave_cli.store.testing import MariaDBServer

            server = MariaDBServer(Path(tmp) / "mariadb")
            server.start()
            try:
                url = server.create_database("scaiwave_bench")
                home = Path(tmp) / "mariadb-home"
                home.mkdir()
                bench_engine("MariaDB (127.0.0.1)", url, home, args.events)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
