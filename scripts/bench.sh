#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, each printing figures and ratios against a baseline
# measured in the same run (defaults: the sizes the issues name, e.g. 1M events). Not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
python bench/startup.py
python bench/latency.py
for bench in bench/*_bench.py; do
  echo
  echo "######## $bench"
  python "$bench"
done
