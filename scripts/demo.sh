#!/usr/bin/env bash
# `make demo`: the operator's main job on the embedded SQLite default, on data it creates.
# Each plugin adds its part in plugins/<name>/demo.sh (sourced here in dependency order).
set -euo pipefail
cd "$(dirname "$0")/.."

SCAIWAVE_HOME="$(mktemp -d "${TMPDIR:-/tmp}/scaiwave-demo.XXXXXX")"
export SCAIWAVE_HOME
unset SCAIWAVE_DB_URL SCAIWAVE_ADMIN_TOKEN SCAIWAVE_OUTPUT
DEMO_OUT="$SCAIWAVE_HOME/out"
mkdir -p "$DEMO_OUT"
export DEMO_OUT
S=scaiwave  # the plugins' demo steps call "$S ..."
export S

echo "== demo home: $SCAIWAVE_HOME (embedded SQLite store, media, caches)"
echo "== scaiwave --help"
scaiwave --help
echo "== scaiwave plugins"
scaiwave plugins
echo "== scaiwave --version"
scaiwave --version

echo
echo "######## store"
echo "== scaiwave db current   (the embedded SQLite store is created and migrated on first use)"
scaiwave db current
echo "== scaiwave db check"
scaiwave db check
echo "== scaiwave db upgrade --dry-run"
scaiwave db upgrade --dry-run
echo "== bench/gen_data.py: 3 tenants, 3 rooms, 3,000 events of generated data"
python bench/gen_data.py --tenants 3 --rooms 3 --events 3000 --participants 4

for plugin in admin sync role room; do
  if [ -f "plugins/$plugin/demo.sh" ]; then
    echo
    echo "######## $plugin"
    # shellcheck source=/dev/null
    source "plugins/$plugin/demo.sh"
  fi
done

echo
echo "== demo finished; everything it made is under $SCAIWAVE_HOME"
