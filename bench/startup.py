"""Start-up benchmark: whole-process times of the core's hot paths against ``import click``.

Run: ``make bench`` or ``.venv/bin/python bench/startup.py [--runs 30] [--rounds 3]``.
Prints the median and p90 of each command over N runs (interleaved, after a warm-up that fills
the command cache) and its ratio to the floor, ``python -c "import click"``, measured in the same
run. Targets: ``scaiwave --help`` <= 1.2x and ``scaiwave room --help`` <= 1.3x the floor
(medians). Not pass/fail: it prints figures. On a shared machine use ``--rounds``: every round is
printed, then the quietest one (the lowest sum of medians) again.

Where the time goes: ``PYTHONPROFILEIMPORTTIME=1 .venv/bin/scaiwave --help 2>&1 >/dev/null``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report the quietest")
    args = parser.parse_args()

    exe = shutil.which("scaiwave") or os.path.join(os.path.dirname(sys.executable), "scaiwave")
    home = tempfile.mkdtemp(prefix="scaiwave-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = home
    cases = {
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "scaiwave --help": [exe, "--help"],
        "scaiwave room --help": [exe, "room", "--help"],
        "scaiwave --version": [exe, "--version"],
    }
    for argv in cases.values():  # warm-up: page cache and the command cache
        subprocess.run(argv, env=env, capture_output=True, check=False)

    rounds = []
    for number in range(1, args.rounds + 1):
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, capture_output=True, check=False)
                times[name].append(time.perf_counter() - start)
        rounds.append(times)
        if args.rounds > 1:
            _report(times, args.runs, f"round {number} of {args.rounds}")
    quietest = min(rounds, key=lambda t: sum(statistics.median(v) for v in t.values()))
    _report(quietest, args.runs, "quietest round" if args.rounds > 1 else "")
    shutil.rmtree(home, ignore_errors=True)


def _report(times: dict[str, list[float]], runs: int, label: str) -> None:
    floor = statistics.median(times['python -c "import click"'])
    title = f"start-up, {runs} runs each, interleaved (median / p90, ratio to the floor)"
    print(f"{title}{': ' + label if label else ''}")
    for name, samples in times.items():
        med = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(f"  {name:<28} {med * 1000:7.1f} ms  {p90 * 1000:7.1f} ms  {med / floor:5.2f}x")


if __name__ == "__main__":
    main()
