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
echo "######## the operator's path: sync from ScaiKey, find a participant, make a workspace,"
echo "######## import a bundle as that participant, export the new room again, verify it"
(
  PATH_OUT="$DEMO_OUT/operator-path"
  mkdir -p "$PATH_OUT"
  PY="$(dirname "$(command -v scaiwave)")/python"
  "$PY" -m scaiwave_sync.testing --port 0 --tenants 3 --users 12 --suspended-every 6 --url-file "$PATH_OUT/scaikey.url" \
    > "$PATH_OUT/scaikey.log" 2>&1 &
  FAKE_PID=$!
  trap 'kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$PATH_OUT/scaikey.url" ] && break; sleep 0.1; done
  export SCAIKEY_BASE_URL="$(cat "$PATH_OUT/scaikey.url")"
  export SCAIKEY_CLIENT_ID=app_scaiwave_test SCAIKEY_CLIENT_SECRET=sk-test-secret-0123456789
  echo "== scaiwave sync --tenant acme   (a loopback ScaiKey at $SCAIKEY_BASE_URL)"
  scaiwave sync --tenant acme
  echo "== scaiwave admin list-participants --tenant acme --kind human --active --search example"
  scaiwave admin list-participants --tenant acme --kind human --active --search example
  WHO="$(scaiwave --output json admin list-participants --tenant acme --kind human --active \
    | "$PY" -c 'import json,sys; print([p for p in json.load(sys.stdin) if p["scaikey_user_id"]][0]["id"])')"
  echo "== scaiwave admin create-workspace --tenant acme --slug imports --name Imports --owner $WHO"
  scaiwave admin create-workspace --tenant acme --slug imports --name Imports --owner "$WHO"
  echo "== scaiwave room import imports --tenant acme --as $WHO --from room.zip   (the room demo's bundle)"
  NEW_ROOM="$(scaiwave --output json room import imports --tenant acme --as "$WHO" \
    --from "$DEMO_OUT/room/room.zip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["room_id"])')"
  echo "imported as $NEW_ROOM"
  echo "== scaiwave room export $NEW_ROOM --tenant acme --to again.zip; scaiwave room verify --from again.zip"
  scaiwave room export "$NEW_ROOM" --tenant acme --to "$PATH_OUT/again.zip"
  scaiwave room verify --from "$PATH_OUT/again.zip"
)

echo
echo "== demo finished; everything it made is under $SCAIWAVE_HOME"
