# plugins/admin/demo.sh: the admin demo: tenants, partners, federation keys, audit, then
# participants and workspaces. Sourced by scripts/demo.sh: bash with
# set -euo pipefail, scaiwave on PATH (or $S), SCAIWAVE_HOME a fresh temp dir, embedded SQLite,
# DEMO_OUT a scratch dir. Every expected failure is caught, so `set -e` never trips.

SW="${S:-scaiwave}"
ADMIN_DEMO_OUT="${DEMO_OUT:-$SCAIWAVE_HOME}/admin"
mkdir -p "$ADMIN_DEMO_OUT"

echo "== $SW admin create-partner --slug northwind --name Northwind --scaikey-partner-id prt_north"
$SW admin create-partner --slug northwind --name Northwind --scaikey-partner-id prt_north

for t in acme:Acme globex:Globex initech:Initech; do
  slug="${t%%:*}"
  echo "== $SW admin create-tenant --slug $slug --name ${t#*:} --scaikey-tenant-id tnt_$slug --partner-id northwind"
  $SW admin create-tenant --slug "$slug" --name "${t#*:}" --scaikey-tenant-id "tnt_$slug" \
    --partner-id northwind > /dev/null
done
echo "== $SW admin create-tenant --slug umbrella --name Umbrella --scaikey-tenant-id tnt_umbrella   (no partner)"
$SW --output json admin create-tenant --slug umbrella --name Umbrella --scaikey-tenant-id tnt_umbrella

echo "== the same create again: unchanged, exit 0 (safe in provisioning scripts)"
$SW --output json admin create-tenant --slug umbrella --name Umbrella --scaikey-tenant-id tnt_umbrella \
  | python -c 'import json,sys; print("result:", json.load(sys.stdin)["result"])'

echo "== the same slug with other values: exit 1 naming the fields"
if $SW admin create-tenant --slug umbrella --name "Umbrella Corp" --scaikey-tenant-id tnt_other; then
  echo "unexpected: accepted"; false
else
  echo "exit $? (conflict, as expected)"
fi

echo "== (seeding some usage for acme and globex straight into the store: members, rooms, files, AI tokens)"
python - <<'PY'
import datetime as dt

from scaiwave_cli import api

m = api.store.models
store = api.store.open_store(api.load_settings({}))
today = dt.datetime.now(dt.UTC).date()
with store.transaction() as s:
    for slug, n in (("acme", 12), ("globex", 3)):
        tenant = s.query(m.Tenant).filter_by(slug=slug).one()
        ws = m.Workspace(id=f"ws-demo-{slug}", tenant_id=tenant.id, slug="general", name="General")
        s.add(ws)
        s.flush()
        for i in range(n):
            s.add(m.Participant(id=f"prt-demo-{slug}-{i}", tenant_id=tenant.id,
                                display_name=f"Person {i}", active=i != 0))
            s.add(m.Room(id=f"room-demo-{slug}-{i}", tenant_id=tenant.id, workspace_id=ws.id))
            s.add(m.Media(id=f"med-demo-{slug}-{i}", tenant_id=tenant.id, sha256=f"{i:064x}",
                          name=f"file{i}.pdf", size=(i + 1) * 700_000, storage_key="demo"))
        s.add(m.AiTokenUsage(tenant_id=tenant.id, day=today, model="scaigrid/default",
                             tokens=n * 12_345))
store.close()
PY

echo "== $SW admin list-tenants"
$SW admin list-tenants
echo "== $SW --output csv admin list-tenants --partner northwind --sort storage --desc   (bytes in csv)"
$SW --output csv admin list-tenants --partner northwind --sort storage --desc

echo "== $SW admin update-tenant acme --limit max_rooms=500 --limit max_storage_bytes=50GiB --feature prompt_studio.enabled=true --feature sidekick_limits.max_concurrent=3"
$SW admin update-tenant acme --limit max_rooms=500 --limit max_storage_bytes=50GiB \
  --feature prompt_studio.enabled=true --feature sidekick_limits.max_concurrent=3 > /dev/null
echo "== $SW admin update-tenant initech --status suspended   (no terminal, no --yes: the plan, then exit 2)"
$SW admin update-tenant initech --status suspended || echo "exit $? (confirmation required, as expected)"
echo "== $SW admin update-tenant initech --status suspended --dry-run   (the plan; nothing changes)"
$SW admin update-tenant initech --status suspended --dry-run
echo "== $SW admin update-tenant initech --status suspended --yes"
$SW admin update-tenant initech --status suspended --yes > /dev/null
echo "== $SW admin update-tenant acme --scaikey-tenant-id tnt_acme_eu --dry-run   (relinking a ScaiKey tenant: the plan)"
$SW admin update-tenant acme --scaikey-tenant-id tnt_acme_eu --dry-run
echo "== $SW admin update-tenant glbex --name X   (a typo: exit 1, did you mean 'globex')"
$SW admin update-tenant glbex --name X || echo "exit $? (not found, as expected)"
echo "== $SW admin show-tenant acme"
$SW admin show-tenant acme

echo "== $SW admin show-tenant nope   (exit 1, SW_TENANT_NOT_FOUND)"
$SW admin show-tenant nope || echo "exit $? (not found, as expected)"

echo "== $SW admin list-partners"
$SW admin list-partners

echo "== $SW admin federation key generate   (SCAIWAVE_SERVER_NAME unset: exit 2, SW_SERVER_NAME_UNSET)"
$SW admin federation key generate || echo "exit $? (no server name, as expected)"
# Exported: later demo steps (room export --sign) sign as this server.
export SCAIWAVE_SERVER_NAME=wave.example.com
echo "== export SCAIWAVE_SERVER_NAME=wave.example.com; $SW admin federation key generate   (no SCAIWAVE_KEY_ENCRYPTION_KEY: exit 2)"
$SW admin federation key generate || echo "exit $? (plaintext needs --allow-unencrypted, as expected)"

FERNET_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
# Exported: later demo steps (room export --sign) decrypt the active key with it.
export SCAIWAVE_KEY_ENCRYPTION_KEY="$FERNET_KEY"
echo "== export SCAIWAVE_KEY_ENCRYPTION_KEY=…; $SW admin federation key generate   (encrypted at rest)"
$SW admin federation key generate
echo "== $SW admin federation key generate   (again: exit 1, names rotate)"
$SW admin federation key generate || echo "exit $? (refused, as expected)"
echo "== $SW admin federation key rotate   (previous key published 30 more days)"
$SW admin federation key rotate
echo "== env -u SCAIWAVE_KEY_ENCRYPTION_KEY $SW admin federation key rotate --allow-unencrypted   (keys are encrypted: exit 2 always)"
env -u SCAIWAVE_KEY_ENCRYPTION_KEY $SW admin federation key rotate --allow-unencrypted \
  || echo "exit $? (SW_KEY_ENCRYPTION_KEY_MISSING, as expected)"
OTHER_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
echo "== SCAIWAVE_KEY_ENCRYPTION_KEY=<another key> $SW admin federation key rotate   (does not open the stored keys: exit 2)"
SCAIWAVE_KEY_ENCRYPTION_KEY="$OTHER_KEY" $SW admin federation key rotate \
  || echo "exit $? (SW_KEY_ENCRYPTION_KEY_WRONG, nothing changed, as expected)"
echo "== $SW admin federation key list"
$SW admin federation key list
echo "== $SW admin federation well-known"
$SW admin federation well-known | tee "$ADMIN_DEMO_OUT/server.json"

OLD_KEY="$($SW --output json admin federation key list | python -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["state"] == "previous"][0])')"
echo "== $SW admin federation key revoke $OLD_KEY   (no terminal, no --yes: the plan, then exit 2)"
$SW admin federation key revoke "$OLD_KEY" || echo "exit $? (confirmation required, as expected)"
echo "== $SW admin federation key revoke $OLD_KEY --dry-run"
$SW admin federation key revoke "$OLD_KEY" --dry-run
echo "== $SW admin federation key revoke $OLD_KEY --yes --reason 'demo: pretend it leaked'"
$SW admin federation key revoke "$OLD_KEY" --yes --reason "demo: pretend it leaked"
echo "== $SW admin federation key prune --dry-run"
$SW admin federation key prune --dry-run
echo "== $SW admin federation key prune --yes"
$SW admin federation key prune --yes

echo "== $SW admin audit --tenant acme"
$SW admin audit --tenant acme
echo "== $SW --output jsonl admin audit --action 'federation.*' --since 1h"
$SW --output jsonl admin audit --action 'federation.*' --since 1h

# plugins/admin/demo-directory.sh: sourced by the admin demo (bash, set -euo pipefail,
# S = the scaiwave command, DEMO_OUT a scratch dir, SCAIWAVE_HOME fresh, embedded SQLite).
# Participants and workspaces: find a participant, create a workspace it owns, see where it may
# create rooms. No command creates participants (they come from ScaiKey with `scaiwave sync`),
# so a few lines of Python seed tenant `dirdemo` straight into the store first.

DIR_SW="${S:-scaiwave}"
DIR_OUT="${DEMO_OUT:-$SCAIWAVE_HOME}/directory"
mkdir -p "$DIR_OUT"

# The Python that runs scaiwave (its script's #! line), so the seed sees the same packages.
DIR_PY="${SCAIWAVE_PYTHON:-}"
if [ -z "$DIR_PY" ]; then
  dir_first_line="$(head -n1 "$(command -v "${DIR_SW%% *}" 2>/dev/null || echo /dev/null)" 2>/dev/null || true)"
  case "$dir_first_line" in
    "#!"*python*) DIR_PY="${dir_first_line#\#!}" ;;
    *) DIR_PY=python ;;
  esac
fi

echo "== seed (as \`scaiwave sync\` would): tenant dirdemo, 4 participants, Ada's personal workspace"
"$DIR_PY" - <<'PY'
from scaiwave_cli import api

store = api.store.open_store(api.load_settings({}))  # the embedded default, migrated on first use
m = api.store.models
with store.transaction() as s:
    s.add(m.Tenant(id="tnt-dirdemo", slug="dirdemo", name="Directory demo",
                   scaikey_tenant_id="tnt_dirdemo"))
    s.flush()
    s.add_all([
        m.Participant(id="prt-dirdemo-ada", tenant_id="tnt-dirdemo", kind="human",
                      display_name="Ada Lovelace", email="ada@dirdemo.test",
                      scaikey_user_id="usr_ada", fqid="@ada:dirdemo.test",
                      last_synced_at=api.store.utcnow()),
        m.Participant(id="prt-dirdemo-grace", tenant_id="tnt-dirdemo", kind="human",
                      display_name="Grace Hopper", email="grace@dirdemo.test",
                      scaikey_user_id="usr_grace", last_synced_at=api.store.utcnow()),
        m.Participant(id="prt-dirdemo-linus", tenant_id="tnt-dirdemo", kind="human",
                      display_name="Linus Left", email="linus@dirdemo.test",
                      scaikey_user_id="usr_linus", active=False,
                      deactivated_at=api.store.utcnow()),
        m.Participant(id="prt-dirdemo-scribe", tenant_id="tnt-dirdemo", kind="ai",
                      display_name="Scribe"),
        m.Workspace(id="ws-dirdemo-ada", tenant_id="tnt-dirdemo", slug="ada",
                    name="Ada's space", personal=True),
    ])
    s.flush()
    s.add(m.WorkspaceMember(workspace_id="ws-dirdemo-ada", participant_id="prt-dirdemo-ada",
                            tenant_id="tnt-dirdemo", role="owner"))
store.close()
PY

echo "== $DIR_SW admin list-participants --tenant dirdemo"
$DIR_SW admin list-participants --tenant dirdemo

echo "== $DIR_SW --output jsonl admin list-participants --tenant dirdemo --kind human --active --search GRACE"
$DIR_SW --output jsonl admin list-participants --tenant dirdemo --kind human --active --search GRACE

echo "== $DIR_SW admin show-participant grace@dirdemo.test --tenant dirdemo   (no workspace yet: may create rooms nowhere)"
$DIR_SW admin show-participant grace@dirdemo.test --tenant dirdemo

echo "== $DIR_SW admin create-workspace --tenant dirdemo --slug research --name Research --owner grace@dirdemo.test --owner prt-dirdemo-ada"
$DIR_SW admin create-workspace --tenant dirdemo --slug research --name Research \
  --owner grace@dirdemo.test --owner prt-dirdemo-ada

echo "== the same again: unchanged, exit 0"
$DIR_SW --output json admin create-workspace --tenant dirdemo --slug research --name Research \
  --owner grace@dirdemo.test --owner prt-dirdemo-ada > "$DIR_OUT/create-again.json"
"$DIR_PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["status"], r["id"])' "$DIR_OUT/create-again.json"

echo "== the slug with another name: SW_WORKSPACE_SLUG_TAKEN, exit 1"
if $DIR_SW admin create-workspace --tenant dirdemo --slug research --name "Research 2" --owner prt-dirdemo-ada; then
  echo "unexpected: created"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== a deactivated owner, and an AI: SW_WORKSPACE_NEEDS_OWNER, exit 1"
if $DIR_SW admin create-workspace --tenant dirdemo --slug ops --name Ops --owner linus@dirdemo.test --owner prt-dirdemo-scribe; then
  echo "unexpected: created"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $DIR_SW admin list-workspaces --tenant dirdemo"
$DIR_SW admin list-workspaces --tenant dirdemo

echo "== $DIR_SW admin list-workspaces --tenant dirdemo --member grace@dirdemo.test"
$DIR_SW admin list-workspaces --tenant dirdemo --member grace@dirdemo.test

echo "== $DIR_SW --output json admin show-participant prt-dirdemo-grace --tenant dirdemo   (may create rooms in research now)"
$DIR_SW --output json admin show-participant prt-dirdemo-grace --tenant dirdemo > "$DIR_OUT/grace.json"
"$DIR_PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["may_create_rooms"]; print(json.dumps(r["workspaces"]))' "$DIR_OUT/grace.json"

echo "== $DIR_SW admin list-participants --tenant nowhere   (SW_TENANT_NOT_FOUND, exit 1)"
$DIR_SW admin list-participants --tenant nowhere || echo "exit $? (as expected)"

echo "== $DIR_SW admin deactivate-participant prt-dirdemo-scribe --tenant dirdemo --dry-run   (a local AI: the plan; nothing changes)"
$DIR_SW admin deactivate-participant prt-dirdemo-scribe --tenant dirdemo --dry-run
echo "== $DIR_SW admin deactivate-participant prt-dirdemo-scribe --tenant dirdemo --yes   (audited)"
$DIR_SW admin deactivate-participant prt-dirdemo-scribe --tenant dirdemo --yes
echo "== $DIR_SW admin deactivate-participant grace@dirdemo.test --tenant dirdemo --yes   (ScaiKey owns her status: exit 1, SW_PARTICIPANT_SCAIKEY_OWNED)"
$DIR_SW admin deactivate-participant grace@dirdemo.test --tenant dirdemo --yes \
  || echo "exit $? (refused as expected: deactivate her in ScaiKey, or --force-local)"
echo "== $DIR_SW admin reactivate-participant prt-dirdemo-scribe --tenant dirdemo --yes"
$DIR_SW admin reactivate-participant prt-dirdemo-scribe --tenant dirdemo --yes

# -- offboarding a tenant (issue 16): suspend, the plan, a verified backup, then the deletion ----
OFFBOARD_DIR="$ADMIN_DEMO_OUT/wayne-backup"
echo "== (seeding tenant wayne, a customer who leaves: two people, a workspace, a room with messages)"
python - <<'PY'
from scaiwave_cli import api
from scaiwave_cli.testing_rows import Factory

store = api.store.open_store(api.load_settings({}))
f = Factory(store)
wayne = f.tenant("wayne", name="Wayne Enterprises", scaikey_tenant_id="tnt_wayne")
bruce = f.participant(wayne, "wayne-bruce", scaikey_user_id=None)
lucius = f.participant(wayne, "wayne-lucius", scaikey_user_id=None)
cave = f.workspace(wayne, "cave", owner=bruce)
room = f.room(wayne, cave, name="Gadgets", members=[bruce, lucius], id="room-wayne-gadgets")
for body in ("new suit ready?", "tomorrow", "thanks"):
    f.event(room, bruce, body=body)
store.close()
PY
echo "== $SW admin delete-tenant wayne --no-backup --yes   (still active: exit 1, SW_TENANT_ACTIVE)"
$SW admin delete-tenant wayne --no-backup --yes || echo "exit $? (refused as expected: suspend it first)"
$SW admin update-tenant wayne --status suspended --yes > /dev/null
echo "== $SW admin delete-tenant wayne --backup-dir $OFFBOARD_DIR --dry-run   (the plan; nothing changes)"
$SW admin delete-tenant wayne --backup-dir "$OFFBOARD_DIR" --dry-run > /dev/null
echo "== $SW --output json admin delete-tenant wayne --backup-dir $OFFBOARD_DIR --yes"
$SW --output json admin delete-tenant wayne --backup-dir "$OFFBOARD_DIR" --yes
echo "== ls -R $OFFBOARD_DIR; $SW room verify --from $OFFBOARD_DIR/rooms/room-wayne-gadgets.zip"
ls -R "$OFFBOARD_DIR"
$SW --output json room verify --from "$OFFBOARD_DIR/rooms/room-wayne-gadgets.zip" \
  | python -c 'import json,sys; r=json.load(sys.stdin); print("valid:", r["valid"], "events:", r["events"])'
echo "== $SW admin show-tenant wayne   (gone: exit 1); its audit rows stay, under the platform"
$SW admin show-tenant wayne || echo "exit $? (deleted, as expected)"
$SW admin audit --action 'tenant.delete*'

echo "== (seeding a room in research where Ada and Grace talk, and a file Ada uploaded)"
"$DIR_PY" - <<'PY'
from scaiwave_cli import api
from scaiwave_cli.testing_rows import Factory

store = api.store.open_store(api.load_settings({}))
m = api.store.models
f = Factory(store)
with store.read_session() as s:
    tenant = s.get(m.Tenant, "tnt-dirdemo")
    research = s.query(m.Workspace).filter_by(tenant_id=tenant.id, slug="research").one()
    ada, grace = s.get(m.Participant, "prt-dirdemo-ada"), s.get(m.Participant, "prt-dirdemo-grace")
room = f.room(tenant, research, name="Analytical engine", members=[ada, grace],
              id="room-dirdemo-engine")
first = f.event(room, ada, body="Note G: the engine computes Bernoulli numbers")
f.event(room, grace, body="nice, I will port it")
f.event(room, ada, body="see the table attached")
data = b"n,B(n)\n0,1\n1,-1/2\n"
sha, _ = store.media.put_bytes(tenant.id, data)
with store.transaction() as s:
    s.add(m.Media(id="med-dirdemo-table", tenant_id=tenant.id, sha256=sha, name="bernoulli.csv",
                  size=len(data), content_type="text/csv", room_id=room.id, event_id=first.id,
                  uploader_id=ada.id, storage_key=f"{tenant.id}/{sha[:2]}/{sha}"))
store.close()
PY
echo "== $DIR_SW admin export-participant ada@dirdemo.test --tenant dirdemo --to $DIR_OUT/ada-request.zip   (a data-subject access request)"
$DIR_SW admin export-participant ada@dirdemo.test --tenant dirdemo --to "$DIR_OUT/ada-request.zip"
echo "== $DIR_SW admin verify-export $DIR_OUT/ada-request.zip"
$DIR_SW admin verify-export "$DIR_OUT/ada-request.zip"
echo "== the same export again, to stdout: the same bytes"
$DIR_SW admin export-participant ada@dirdemo.test --tenant dirdemo > "$DIR_OUT/ada-again.zip"
cmp "$DIR_OUT/ada-request.zip" "$DIR_OUT/ada-again.zip" && echo "identical"

echo "== $DIR_SW admin erase-participant ada@dirdemo.test --tenant dirdemo --backup $DIR_OUT/ada.zip --dry-run   (GDPR erasure: the plan; nothing changes)"
$DIR_SW admin erase-participant ada@dirdemo.test --tenant dirdemo --backup "$DIR_OUT/ada.zip" --dry-run
echo "== the same without --yes and no terminal: exit 2 (SW_CONFIRMATION_REQUIRED)"
$DIR_SW admin erase-participant ada@dirdemo.test --tenant dirdemo --backup "$DIR_OUT/ada.zip" \
  2>/dev/null || echo "exit $? (confirmation required, as expected)"
echo "== $DIR_SW admin erase-participant ada@dirdemo.test --tenant dirdemo --backup $DIR_OUT/ada.zip --yes   (export first, then the erasure)"
$DIR_SW admin erase-participant ada@dirdemo.test --tenant dirdemo --backup "$DIR_OUT/ada.zip" --yes
echo "== $DIR_SW admin verify-export $DIR_OUT/ada.zip   (the backup still verifies after the erasure)"
$DIR_SW admin verify-export "$DIR_OUT/ada.zip"
echo "== $DIR_SW admin verify-export $DIR_OUT/ada-request.zip   (and so does the earlier export)"
$DIR_SW admin verify-export "$DIR_OUT/ada-request.zip"
echo "== $DIR_SW admin show-participant prt-dirdemo-ada --tenant dirdemo   (the tombstone)"
$DIR_SW admin show-participant prt-dirdemo-ada --tenant dirdemo
echo "== $DIR_SW admin erase-participant prt-dirdemo-ada --tenant dirdemo --no-backup --yes   (again: already erased, exit 0)"
$DIR_SW admin erase-participant prt-dirdemo-ada --tenant dirdemo --no-backup --yes
