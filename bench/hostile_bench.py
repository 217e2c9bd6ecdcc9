"""Hostile bundles at full size (issue 14, point 2): peak RSS and time of `room verify` and
`room import` for each shape, each run in its own subprocess (peak RSS: the CLI's VmHWM at exit,
``scaiwave_room.testing.sizes.run_measured``).

    python bench/hostile_bench.py                       # every shape, full size
    python bench/hostile_bench.py --shape deep-content --levels 20000
    python bench/hostile_bench.py --string-bytes 30000000 --cap-mb 2000 --timeout 120
    PYTHONPATH=/tmp/old-room python bench/hostile_bench.py   # against another copy of the plugin

Shapes (``scaiwave_room.testing.sizes``): 100,000 nested ``[`` in an event's content, in
``room.topic``, in ``relates_to``, in an event's ``media``, in ``original_content`` and in a
sender's display name; one 300 MB JSON string in an event's body and in ``room.topic``; one
300 MB number. Each must be refused with exit 1 and its code (``SW_BUNDLE_INVALID`` for depth,
``SW_CONTENT_TOO_LARGE`` for length) in under 100 MB peak RSS and a few seconds. The bundles are
written once into ``--work`` (default: a temporary directory) and reused. A child gets an
address-space cap (``--cap-mb``, default 3000) and a ``--timeout`` (default 60 s) so the old
code's blow-up is measured without taking the machine down. Prints a table; exit 1 when a shape
misses its target. Not part of the test suite (the tests run the same shapes, see
``plugins/room/tests/test_room_hostile_sizes.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

TARGET_RSS_MB = 100
TARGET_SECONDS = 5.0

_GENERATE = r"""
import sys
sys.path.insert(0, sys.argv[1])
from gen_data import generate
from scaiwave_cli import api
from scaiwave_cli.store import migrate
store = api.store.open_store(api.load_settings({}), check_schema=False)
if store.revision() is None:
    migrate.upgrade(store.engine)
made = generate(store, tenants=1, rooms=0, events=0, prefix="hb")
store.close()
print(made["tenants"][0], made["participants"]["tnt-hb00000"][1])
"""


def shapes(levels: int, string_bytes: int) -> dict:
    """name -> (maker(path), expected code)."""
    from scaiwave_room.testing import sizes

    out = {}
    for place in sizes.DEEP_PLACES:
        out[f"deep-{place}"] = (
            lambda path, p=place: sizes.deep_bundle_file(path, p, levels),
            "SW_BUNDLE_INVALID",
        )
    for place in sizes.LONG_PLACES:
        out[f"string-{place}"] = (
            lambda path, p=place: sizes.long_string_bundle_file(path, p, string_bytes),
            "SW_CONTENT_TOO_LARGE",
        )
    out["number"] = (
        lambda path: sizes.long_number_bundle_file(path, string_bytes),
        "SW_CONTENT_TOO_LARGE",
    )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", help="only these shapes (repeatable)")
    parser.add_argument("--levels", type=int, default=100_000)
    parser.add_argument("--string-bytes", type=int, default=300_000_000)
    parser.add_argument("--work", help="directory for the bundles and the store (kept)")
    parser.add_argument("--cap-mb", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="one JSON line per run")
    args = parser.parse_args(argv)

    work = args.work or tempfile.mkdtemp(prefix="hostile-bench-")
    os.makedirs(work, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    home = tempfile.mkdtemp(prefix="home-", dir=work)  # a fresh store each run
    env.update(SCAIWAVE_HOME=home, SCAIWAVE_SERVER_NAME="bench.example")
    env["SCAIWAVE_DB_URL"] = f"sqlite:///{os.path.join(home, 'scaiwave.db')}"
    made = subprocess.run(
        [sys.executable, "-c", _GENERATE, os.path.dirname(os.path.abspath(__file__))],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
    )
    tenant, editor = made.stdout.decode().split()[-2:]
    from scaiwave_room.testing.sizes import run_measured

    cli = ["--output", "json", "room"]

    failed = 0
    all_shapes = shapes(args.levels, args.string_bytes)
    wanted = args.shape or list(all_shapes)
    if not args.json:
        print(f"{'shape':<22} {'command':<7} {'exit':>7} {'code':<22} {'seconds':>8} {'RSS MB':>8}")
    for name in wanted:
        maker, want = all_shapes[name]
        size = args.levels if name.startswith("deep") else args.string_bytes
        path = os.path.join(work, f"{name}-{size}.zip")
        if not os.path.exists(path):
            maker(path + ".tmp")
            os.replace(path + ".tmp", path)
        for command, extra in (
            ("verify", ["verify", "--from", path]),
            ("import", ["import", "general", "--tenant", tenant, "--as", editor, "--from", path]),
        ):
            r = run_measured(cli + extra, env, cap_mb=args.cap_mb, timeout=args.timeout)
            r = {
                "exit": r["exit"],
                "code": r["error"].get("code"),
                "seconds": round(r["seconds"], 2),
                "rss_mb": None if r["rss_mb"] is None else round(r["rss_mb"], 1),
            }
            ok = (
                r["exit"] == 1
                and r["code"] == want
                and r["rss_mb"] is not None
                and r["rss_mb"] < TARGET_RSS_MB
                and r["seconds"] < TARGET_SECONDS
            )
            failed += not ok
            r.update(shape=name, command=command, size=size, bundle_bytes=os.path.getsize(path))
            if args.json:
                print(json.dumps(r), flush=True)
            else:
                print(
                    f"{name:<22} {command:<7} {r['exit']!s:>7} {r['code']!s:<22} "
                    f"{r['seconds']:>8} {r['rss_mb']:>8}{'' if ok else '  MISSED'}",
                    flush=True,
                )
    if not args.work:
        print(f"(bundles and store in {work})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
