# plugins/sync/demo.sh: sourced by scripts/demo.sh (bash, set -euo pipefail, S or `scaiwave` the
# command, SCAIWAVE_HOME a fresh temp dir, embedded SQLite, DEMO_OUT for files).
# Registration with a fake ScaiKey on 127.0.0.1, approval, status, a dry run and a real
# reconcile, then status again. Runs in a subshell: its trap, cwd and .env stay its own.
(
  SW="${S:-scaiwave}"
  SW_BIN="$(command -v "$SW")"
  PY="$(dirname "$SW_BIN")/python"
  [ -x "$PY" ] || PY=python3
  SYNC_OUT="${DEMO_OUT:-$SCAIWAVE_HOME}/sync"
  rm -rf "$SYNC_OUT"
  mkdir -p "$SYNC_OUT"
  cd "$SYNC_OUT"   # the .env that `status` writes on approval lands here

  echo "== python -m scaiwave_sync.testing --port 0 &   (a fake ScaiKey on 127.0.0.1: 6 tenants, 12 users each)"
  "$PY" -m scaiwave_sync.testing --port 0 --tenants 6 --users 12 --suspended-every 6 \
    --approve-after 1 --url-file "$SYNC_OUT/scaikey.url" > "$SYNC_OUT/scaikey.log" 2>&1 &
  FAKE_PID=$!
  trap 'kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$SYNC_OUT/scaikey.url" ] && break; sleep 0.1; done
  SCAIKEY_URL="$(cat "$SYNC_OUT/scaikey.url")"
  echo "$SCAIKEY_URL"

  echo "== scaiwave sync status   (nothing registered yet)"
  "$SW" sync status

  echo "== scaiwave register --scaikey-url \$SCAIKEY_URL --url https://wave.example.com --email ops@example.com --scope GLOBAL"
  "$SW" register --scaikey-url "$SCAIKEY_URL" --url https://wave.example.com \
    --email ops@example.com --scope GLOBAL --name "ScaiWave demo"

  echo "== scaiwave register   (again: the pending request is shown, no second one is filed)"
  "$SW" register

  echo "== scaiwave status --no-drift   (ScaiKey says: pending)"
  "$SW" status --no-drift

  echo "== scaiwave --output json status   (approved now: credentials written into ./.env)"
  "$SW" --output json status
  echo "-- .env (mode $(stat -c %a .env)); the secret itself is never printed by scaiwave:"
  sed 's/^\(SCAIKEY_CLIENT_SECRET=\).*/\1<hidden>/' .env

  echo "== scaiwave show-config   (sources; secrets masked; the store in use and the .env read)"
  "$SW" show-config | grep -E 'setting|SCAIWAVE_DB_URL|env-file|SCAIKEY_|SCAIWAVE_SYNC_MAX'

  echo "== scaiwave export-env --shell   (secret left out without --include-secrets)"
  "$SW" export-env --shell

  echo "== scaiwave sync   (the admin demo linked acme, globex, initech, umbrella; hooli and stark are named with the command that links each)"
  "$SW" sync

  echo "== scaiwave admin create-tenant --slug hooli --name Hooli --scaikey-tenant-id tnt_hooli   (the command named above)"
  "$SW" admin create-tenant --slug hooli --name Hooli --scaikey-tenant-id tnt_hooli

  echo "== scaiwave sync --dry-run --create-tenants   (the plan, stark created; nothing written)"
  "$SW" sync --dry-run --create-tenants

  echo "== scaiwave sync --create-tenants"
  "$SW" sync --create-tenants

  echo "== scaiwave --output json sync   (second run: nothing changed in ScaiKey, zero writes)"
  "$SW" --output json sync | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print({k: r[k] for k in ("changes", "writes", "requests")})'

  echo "== scaiwave admin deactivate-participant user2@acme.example --tenant acme --force-local --dry-run   (ScaiKey-linked: the plan says the sync will keep her deactivated)"
  "$SW" admin deactivate-participant user2@acme.example --tenant acme --force-local --dry-run
  echo "== scaiwave admin deactivate-participant user2@acme.example --tenant acme --force-local --yes"
  "$SW" admin deactivate-participant user2@acme.example --tenant acme --force-local --yes > /dev/null
  echo "== scaiwave sync   (ScaiKey still says ACTIVE: the operator hold wins, counted as held)"
  "$SW" sync
  echo "== scaiwave admin reactivate-participant user2@acme.example --tenant acme --yes   (hold released: the sync mirrors ScaiKey again)"
  "$SW" admin reactivate-participant user2@acme.example --tenant acme --yes > /dev/null

  echo "== scaiwave status --fail-on-drift   (in sync: exit 0)"
  "$SW" status --fail-on-drift | grep -E '^(registration.status|credentials|last_run.(status|trigger|counts.writes)|linked_tenants|drift.(drift|changes|local|scaikey))'

  echo "== scaiwave status   (ScaiKey down: the local state, then the error; exit 2)"
  kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true
  trap - EXIT   # stopped already
  rc=0
  SCAIWAVE_SYNC_RETRIES=1 "$SW" status >"$SYNC_OUT/down.out" 2>"$SYNC_OUT/down.err" || rc=$?
  grep -E '^(registration.status|credentials|last_run.(status|finished_at)|last_success|linked_tenants|drift)' "$SYNC_OUT/down.out"
  echo "exit $rc; stderr: $(cat "$SYNC_OUT/down.err")"
)
