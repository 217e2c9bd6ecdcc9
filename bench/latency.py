"""Latency benchmark (issue 17, section 3): whole-process times of four database commands against
``python -c "import sqlalchemy.orm"``.

Run: ``.venv/bin/python bench/latency.py [--runs 20] [--rounds 2]`` (embedded SQLite in a temp
``SCAIWAVE_HOME``), ``--db-url mysql+pymysql://u:p@host/db`` for a server you run (migrated if
empty; the bench's tenant is deleted afterwards unless ``--keep``), or ``--mariadb`` for a
throwaway local MariaDB server (Debian's ``mariadb-server``).

The store is seeded first with one tenant, one participant (the owner of one workspace) and one
room, so every command has something to show:

- ``scaiwave admin list-tenants``
- ``scaiwave admin show-tenant SLUG``
- ``scaiwave room list --tenant SLUG``
- ``scaiwave role check EMAIL create_note --tenant SLUG --workspace design`` (exit 0: allowed)

Each command runs N times, interleaved with the floor, after a warm-up (page cache, the command
cache, bytecode: compiled once into a private ``PYTHONPYCACHEPREFIX`` as an installed package
has it, even when the caller sets ``PYTHONDONTWRITEBYTECODE``; ``--as-is`` keeps the caller's
settings); printed: median and p90 of each and the ratio of the medians to the floor's, measured in
the same run. Target: <= 1.25x. Not pass/fail: it prints figures. On a shared machine use
``--rounds``: every round is printed, then the quietest one (the lowest sum of medians) again.
A command that exits with an unexpected code stops the bench (its stderr is shown).

Where the time goes: ``PYTHONPROFILEIMPORTTIME=1 .venv/bin/scaiwave admin list-tenants`` with
``SCAIWAVE_HOME`` of a seeded store (through the console script: ``python -m scaiwave_cli`` puts
the working directory on ``sys.path``, which misses the command cache and scans entry points).
The collector's share: ``app.main`` pauses it for start-up and freezes before exit
(``context.pause_collector``); calling ``cli.main`` directly shows the run without that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

FLOOR = 'python -c "import sqlalchemy.orm"'


def seed(home: str, url: str | None, slug: str) -> None:
    """One tenant ``slug``, its participant alice (owner of workspace design) and one room."""
    from scaiwave_cli import api
    from scaiwave_cli.store import migrate
    from scaiwave_cli.testing_rows import Factory

    environ = {"SCAIWAVE_HOME": home}
    if url:
        environ["SCAIWAVE_DB_URL"] = url
    settings = api.load_settings({}, environ=environ)
    store = api.store.open_store(settings, check_schema=False)
    try:
        if store.revision() is None:
            migrate.upgrade(store.engine)
        factory = Factory(store)
        tenant = factory.tenant(slug)
        alice = factory.participant(tenant, f"alice-{slug}", email=f"alice@{slug}.test")
        ws = factory.workspace(tenant, "design", owner=alice)
        factory.room(tenant, ws, id=f"room-{slug}", name="Lobby", members=[alice])
    finally:
        store.close()


def unseed(home: str, url: str, slug: str) -> None:
    from sqlalchemy import delete, select

    from scaiwave_cli import api

    settings = api.load_settings({}, environ={"SCAIWAVE_HOME": home, "SCAIWAVE_DB_URL": url})
    store = api.store.open_store(settings, check_schema=False)
    try:
        m = api.store.models
        with store.transaction() as s:
            tenant_id = s.scalar(select(m.Tenant.id).where(m.Tenant.slug == slug))
            # a room's creator is a participant without ON DELETE CASCADE: rooms go first
            s.execute(delete(m.Room).where(m.Room.tenant_id == tenant_id))
            s.execute(delete(m.Tenant).where(m.Tenant.id == tenant_id))
    finally:
        store.close()


def cases(slug: str) -> dict[str, tuple[list[str], int]]:
    exe = shutil.which("scaiwave") or os.path.join(os.path.dirname(sys.executable), "scaiwave")
    email = f"alice@{slug}.test"
    return {
        FLOOR: ([sys.executable, "-c", "import sqlalchemy.orm"], 0),
        "admin list-tenants": ([exe, "admin", "list-tenants"], 0),
        f"admin show-tenant {slug}": ([exe, "admin", "show-tenant", slug], 0),
        f"room list --tenant {slug}": ([exe, "room", "list", "--tenant", slug], 0),
        "role check … create_note": (
            [exe, "role", "check", email, "create_note", "--tenant", slug, "--workspace", "design"],
            0,
        ),
    }


def bench(label: str, home: str, url: str | None, args) -> None:
    slug = "acme" if url is None else f"lat-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = home
    if url:
        env["SCAIWAVE_DB_URL"] = url
    if not args.as_is:
        # As installed: bytecode compiled once (pip does it), not every run. The warm-up writes
        # it into a private prefix, so the working tree is untouched.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(os.path.dirname(home), "pycache")
    seed(home, url, slug)
    try:
        table = cases(slug)
        for name, (argv, code) in table.items():  # warm-up, and every command works
            for _ in range(2):
                done = subprocess.run(argv, env=env, capture_output=True, check=False)
                if done.returncode != code:
                    sys.exit(f"{name}: exit {done.returncode}\n{done.stderr.decode()}")
        print(f"\n=== {label}")
        rounds = []
        for number in range(1, args.rounds + 1):
            times: dict[str, list[float]] = {name: [] for name in table}
            for _ in range(args.runs):
                for name, (argv, _code) in table.items():
                    start = time.perf_counter()
                    subprocess.run(argv, env=env, capture_output=True, check=False)
                    times[name].append(time.perf_counter() - start)
            rounds.append(times)
            if args.rounds > 1:
                report(times, args.runs, f"round {number} of {args.rounds}")
        quietest = min(rounds, key=lambda t: sum(statistics.median(v) for v in t.values()))
        report(quietest, args.runs, "quietest round" if args.rounds > 1 else "")
    finally:
        if url and not args.keep:
            unseed(home, url, slug)


def report(times: dict[str, list[float]], runs: int, label: str) -> None:
    floor = statistics.median(times[FLOOR])
    title = f"latency, {runs} runs each, interleaved (median / p90, ratio to the floor)"
    print(f"{title}{': ' + label if label else ''}")
    for name, samples in times.items():
        med = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(f"  {name:<34} {med * 1000:7.1f} ms  {p90 * 1000:7.1f} ms  {med / floor:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report the quietest")
    parser.add_argument("--db-url", action="append", default=[], help="bench this database too")
    parser.add_argument("--mariadb", action="store_true", help="bench a throwaway MariaDB too")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the embedded SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the rows in --db-url databases")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="keep the caller's bytecode settings (PYTHONDONTWRITEBYTECODE: compiled every run)",
    )
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="scaiwave-latency-")
    server = None
    try:
        if not args.no_sqlite:
            bench("embedded SQLite", os.path.join(tmp, "home"), None, args)
        urls = list(args.db_url)
        if args.mariadb:
            from pathlib import Path

            from scaiwave_cli.store.testing import MariaDBServer

            server = MariaDBServer(Path(tmp) / "mariadb")
            server.base.mkdir()
            server.start()
            urls.append(server.create_database("latency_bench"))
        for i, url in enumerate(urls):
            from scaiwave_cli.config import mask_url

            bench(f"MariaDB {mask_url(url)}", os.path.join(tmp, f"home-{i}"), url, args)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
