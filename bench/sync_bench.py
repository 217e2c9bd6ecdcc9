"""ScaiKey sync benchmark (issue 8), beside a baseline measured in the same run.

    python bench/sync_bench.py                                   # 100k users, 10 tenants, SQLite
    python bench/sync_bench.py --users 20000 --tenants 4         # smaller
    python bench/sync_bench.py --db-url mysql+pymysql://u:p@127.0.0.1/bench   # MariaDB

A fake ScaiKey (``python -m scaiwave_sync.testing``) serves N users in T tenants (5 groups per
tenant, every user in one group, one TENANT_ADMIN per tenant) on 127.0.0.1, in its own process.
Each step runs in its own subprocess so its peak RSS can be read (``os.wait4``):

- baseline: plain httpx pages through exactly the listings the sync reads (token, tenants,
  admin roles, then per tenant its users, groups and every group's members), nothing else;
- first run: ``scaiwave --output json sync --create-tenants`` on an empty store (creates the
  tenants, N participants with their personal workspaces, groups, memberships, roles);
- second run: the same again, nothing changed in ScaiKey (target: 0 rows written).

Printed: seconds, ScaiKey requests, rows written, peak RSS (MB), and each run's time as a ratio
of the baseline (the part of a run that is not listing ScaiKey). Targets from the issue: first
run < 60 s, second run 0 writes. Not pass/fail. With ``--db-url`` the database must be empty and
migrated (``scaiwave db upgrade``); its rows are left for inspection.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CLIENT_ID = "app_scaiwave_test"
CLIENT_SECRET = "sk-test-secret-0123456789"


def baseline(url: str, page_size: int) -> None:
    """Page through the sync's listings with httpx only; print the request count."""
    import httpx
    from scaiwave_sync.adapters import scaikey as sk

    requests = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post(
            sk.TOKEN_PATH,
            auth=(CLIENT_ID, CLIENT_SECRET),
            data={"grant_type": "client_credentials", "scope": "admin:read"},
        ).json()["access_token"]
        requests += 1
        headers = {"Authorization": f"Bearer {token}"}

        def listing(path, **params):
            nonlocal requests
            items, page = [], 1
            while True:
                body = client.get(
                    path, params=dict(params, page=page, per_page=page_size), headers=headers
                ).json()
                requests += 1
                items.extend(body["items"])
                if len(items) >= body["total"] or not body["items"]:
                    return items
                page += 1

        tenants = listing(sk.TENANTS_PATH)
        listing(sk.ADMIN_ROLES_PATH)
        for tenant in tenants:
            listing(sk.USERS_PATH, tenant_id=tenant["id"])
            for group in listing(sk.GROUPS_PATH, tenant_id=tenant["id"]):
                listing(sk.GROUP_MEMBERS_PATH.format(group_id=group["id"]))
    print(json.dumps({"requests": requests}))


def measured(cmd: list[str], env: dict) -> tuple[float, float, str, int]:
    """(seconds, peak RSS in MB, stdout, exit code) of ``cmd`` in a child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode:
            sys.stderr.write(err.read().decode())
    return seconds, usage.ru_maxrss / 1024, text, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users in all tenants")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--groups", type=int, default=5, help="groups per tenant")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--db-url", help="a migrated, empty database (default: embedded SQLite)")
    parser.add_argument("--baseline", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        baseline(args.baseline, args.page_size)
        return 0

    python = sys.executable
    scaiwave = os.path.join(os.path.dirname(python), "scaiwave")
    work = tempfile.mkdtemp(prefix="sync-bench-")
    url_file = os.path.join(work, "url")
    per_tenant = args.users // args.tenants
    fake = subprocess.Popen(
        [
            python,
            "-m",
            "scaiwave_sync.testing",
            "--port",
            "0",
            "--tenants",
            str(args.tenants),
            "--users",
            str(per_tenant),
            "--groups",
            str(args.groups),
            "--url-file",
            url_file,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(url_file):
            if fake.poll() is not None or time.monotonic() > deadline:
                print("the fake ScaiKey did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)
        with open(url_file) as fh:
            url = fh.read().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
        env.update(
            SCAIWAVE_HOME=os.path.join(work, "home"),
            SCAIKEY_BASE_URL=url,
            SCAIKEY_CLIENT_ID=CLIENT_ID,
            SCAIKEY_CLIENT_SECRET=CLIENT_SECRET,
            SCAIWAVE_SYNC_PAGE_SIZE=str(args.page_size),
            SCAIWAVE_PLUGIN_CACHE="off",
        )
        if args.db_url:
            env["SCAIWAVE_DB_URL"] = args.db_url
        engine = "MariaDB" if args.db_url else "embedded SQLite"
        print(
            f"sync bench: {per_tenant * args.tenants} users in {args.tenants} tenants "
            f"({args.groups} groups each), page size {args.page_size}, {engine}"
        )

        b_s, b_rss, b_out, rc = measured(
            [
                python,
                os.path.abspath(__file__),
                "--baseline",
                url,
                "--page-size",
                str(args.page_size),
            ],
            env,
        )
        if rc:
            return rc
        b_req = json.loads(b_out)["requests"]
        rows = [("baseline: httpx paging only", b_s, b_req, "-", b_rss)]
        runs = []
        for label in ("first run (creates everything)", "second run (nothing changed)"):
            s, rss, out, rc = measured(
                [scaiwave, "--output", "json", "sync", "--create-tenants"], env
            )
            if rc:
                print(f"{label} failed with exit {rc}", file=sys.stderr)
                return rc
            summary = json.loads(out)
            runs.append((s, summary))
            rows.append((label, s, summary["requests"], summary["writes"], rss))
    finally:
        fake.terminate()
        fake.wait(timeout=30)

    print(f"{'step':34} {'seconds':>8} {'requests':>9} {'rows written':>13} {'peak RSS MB':>12}")
    for label, s, req, writes, rss in rows:
        print(f"{label:34} {s:8.2f} {req:9} {writes!s:>13} {rss:12.1f}")
    (first_s, first), (second_s, second) = runs
    print(
        f"first run:  {first['totals']['create']} participants created, "
        f"{first_s / b_s:.1f}x the baseline's time (target < 60 s: "
        f"{'met' if first_s < 60 else 'NOT met'})"
    )
    print(
        f"second run: {second['changes']} changes, {second['writes']} rows written "
        f"(target 0: {'met' if second['writes'] == 0 else 'NOT met'}), "
        f"{second_s / b_s:.1f}x the baseline's time"
    )
    print(f"scratch directory: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
