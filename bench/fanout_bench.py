"""Tenant-wide export fanned out (issue 17): 1 and 2 local workers, 2 ARQ workers, same run.

    python bench/fanout_bench.py                          # 200 rooms, 1M events, embedded SQLite
    python bench/fanout_bench.py --rooms 50 --events 100000   # smaller
    python bench/fanout_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench   # MariaDB (empty)

One tenant of R rooms and N events is generated with ``bench/gen_data.py`` (messages of 200 B to
4 KB, 1% edits, 0.5% redactions, 2% reactions, one media file per 500 events). Then the same
``scaiwave room export-all --tenant T --to DIR`` runs three times into fresh directories:

- ``--workers 1``: the baseline (one worker process);
- ``--workers 2``: two local worker processes;
- ``--queue redis://…``: two ``scaiwave worker`` processes on a ``redis-server`` this bench starts
  on 127.0.0.1 (its own port and directory), the coordinator waiting for them.

Printed per run: wall seconds, events/s, speed-up against 1 worker in this run, the coordinator's
peak RSS and each worker's peak RSS (``VmHWM`` of every process of the run, sampled from /proc),
and whether the three ``tenant-manifest.json`` files are byte-identical (SOURCE_DATE_EPOCH is
fixed). Not pass/fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakRss:
    """Peak RSS (VmHWM, MB) of every process under the given roots, sampled every 0.1 s."""

    def __init__(self):
        self.roots: set[int] = set()
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._sample()
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self):
        parents: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as fh:
                        parents[int(name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
        for pid in list(parents):
            p, seen = pid, 0
            while p and p not in self.roots and seen < 50:
                p, seen = parents.get(p, 0), seen + 1
            if not p:
                continue
            try:
                with open(f"/proc/{pid}/status") as fh:
                    fields = dict(line.split(":", 1) for line in fh if ":" in line)
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            hwm = int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
            if hwm and hwm >= self.peaks.get(pid, ("", 0))[1]:
                self.peaks[pid] = (cmd, hwm)


def _generate(rooms: int, events: int) -> str:
    sys.path.insert(0, HERE)
    from gen_data import generate

    from scaiwave_cli import api
    from scaiwave_cli.store import migrate

    store = api.store.open_store(api.load_settings({}), check_schema=False)
    if store.revision() is None:
        migrate.upgrade(store.engine)
    try:
        made = generate(store, tenants=1, rooms=rooms, events=events, prefix="fan")
    finally:
        store.close()
    return made["tenants"][0]


def _run(label, cmd, env, extra_roots=()) -> dict:
    with PeakRss() as rss:
        rss.roots.update(extra_roots)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        rss.roots.add(proc.pid)
        out, err = proc.communicate()
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    coordinator = rss.peaks.get(proc.pid, ("", 0.0))[1]
    workers = sorted(
        (
            mb
            for pid, (cmd_, mb) in rss.peaks.items()
            if pid != proc.pid and "python" in cmd_ and "resource_tracker" not in cmd_
        ),
        reverse=True,
    )
    return {
        "label": label,
        "seconds": seconds,
        "coordinator_mb": coordinator,
        "workers_mb": workers,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db-url", default=None, help="an empty MariaDB database (else SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="fanout-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.update(
        SCAIWAVE_HOME=os.path.join(work, "home"),
        SCAIWAVE_SERVER_NAME="bench.example",
        SOURCE_DATE_EPOCH="1767225600",
        SCAIWAVE_DB_URL=args.db_url or f"sqlite:///{os.path.join(work, 'home', 'scaiwave.db')}",
    )
    os.makedirs(env["SCAIWAVE_HOME"])
    scaiwave = [sys.executable, "-m", "scaiwave_cli"]
    redis = workers = None
    try:
        print(f"generating 1 tenant, {args.rooms} rooms, {args.events:,} events ...", flush=True)
        started = time.perf_counter()
        code = (
            f"import sys; sys.path.insert(0, {HERE!r}); from fanout_bench import _generate; "
            f"print(_generate({args.rooms}, {args.events}))"
        )
        tenant = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout.split()[-1]
        print(f"  generated in {time.perf_counter() - started:.1f} s (tenant {tenant})")

        results = []
        for n in (1, 2):
            out = os.path.join(work, f"local{n}")
            cmd = [*scaiwave, "room", "export-all", "--tenant", tenant, "--to", out]
            results.append(_run(f"{n} local worker(s)", [*cmd, "--workers", str(n)], env))

        port = _free_port()
        rdir = os.path.join(work, "redis")
        os.makedirs(rdir)
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                rdir,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)
        workers = [
            subprocess.Popen(
                [*scaiwave, "worker", "--queue", url],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        out = os.path.join(work, "queue")
        cmd = [*scaiwave, "room", "export-all", "--tenant", tenant, "--to", out, "--queue", url]
        results.append(_run("2 ARQ workers", cmd, env, extra_roots=[w.pid for w in workers]))

        base = results[0]["seconds"]
        print(f"\n{args.rooms} rooms, {args.events:,} events, {env['SCAIWAVE_DB_URL'][:30]}…")
        print(
            f"{'run':<20}{'wall s':>9}{'events/s':>12}{'speed-up':>10}{'coord MB':>10}  workers MB"
        )
        for r in results:
            print(
                f"{r['label']:<20}{r['seconds']:>9.1f}{args.events / r['seconds']:>12,.0f}"
                f"{base / r['seconds']:>9.2f}x{r['coordinator_mb']:>10.0f}  "
                + ", ".join(f"{mb:.0f}" for mb in r["workers_mb"])
            )
        manifests = set()
        for d in ("local1", "local2", "queue"):
            with open(os.path.join(work, d, "tenant-manifest.json"), "rb") as fh:
                manifests.add(fh.read())
        print(f"tenant-manifest.json identical in the three runs: {len(manifests) == 1}")
    finally:
        for w in workers or ():
            w.terminate()
        for w in workers or ():
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
