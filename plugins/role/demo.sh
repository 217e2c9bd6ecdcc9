# plugins/role/demo.sh: sourced by scripts/demo.sh (bash, set -euo pipefail, SCAIWAVE_HOME a
# fresh temp dir, embedded SQLite, DEMO_OUT a scratch dir; S = the scaiwave command, default
# `scaiwave` on PATH). Shows every `scaiwave role` command on a tenant it seeds itself (no
# command creates participants): tenant roledemo, workspaces design and ops, participants
# ada (owner of design), ben, cy and dee; tenant rolebeta with eve, editor of its workspace
# general (to show that a tenant override stays in its tenant).

S="${S:-scaiwave}"
ROLE_OUT="${DEMO_OUT:-$SCAIWAVE_HOME}/role"
mkdir -p "$ROLE_OUT"

# The python next to the scaiwave command (its venv), else python3.
ROLE_PY="$(command -v python3 || command -v python)"
if ROLE_BIN="$(command -v "${S%% *}")" && [ -x "$(dirname "$ROLE_BIN")/python" ]; then
  ROLE_PY="$(dirname "$ROLE_BIN")/python"
fi

echo "== seed (python, through the store): tenant roledemo, workspaces design/ops, 4 participants"
"$ROLE_PY" - <<'PY'
from scaiwave_cli import api

m = api.store.models
store = api.store.open_store(api.load_settings({}))
with store.transaction() as s:
    if s.get(m.Tenant, "tnt-roledemo") is None:
        s.add(m.Tenant(id="tnt-roledemo", slug="roledemo", name="Role demo",
                       scaikey_tenant_id="tnt_roledemo"))
        s.flush()
        for slug in ("design", "ops"):
            s.add(m.Workspace(id=f"ws-roledemo-{slug}", tenant_id="tnt-roledemo", slug=slug,
                              name=slug.title()))
        for name in ("ada", "ben", "cy", "dee"):
            s.add(m.Participant(id=f"prt-{name}", tenant_id="tnt-roledemo",
                                display_name=name.title(), email=f"{name}@roledemo.test"))
        s.flush()
        s.add(m.WorkspaceMember(workspace_id="ws-roledemo-design", participant_id="prt-ada",
                                tenant_id="tnt-roledemo", role="owner"))
    if s.get(m.Tenant, "tnt-rolebeta") is None:
        s.add(m.Tenant(id="tnt-rolebeta", slug="rolebeta", name="Role beta",
                       scaikey_tenant_id="tnt_rolebeta"))
        s.flush()
        s.add(m.Workspace(id="ws-rolebeta-general", tenant_id="tnt-rolebeta", slug="general",
                          name="General"))
        s.add(m.Participant(id="prt-eve", tenant_id="tnt-rolebeta", display_name="Eve",
                            email="eve@rolebeta.test"))
        s.flush()
        s.add(m.WorkspaceMember(workspace_id="ws-rolebeta-general", participant_id="prt-eve",
                                tenant_id="tnt-rolebeta", role="editor"))
store.close()
print("seeded")
PY

echo "== $S role catalog   (the permissions a role can carry)"
$S role catalog

echo "== $S role list   (first use seeds the built-in roles, in the same transaction)"
$S role list

echo "== $S role show editor"
$S role show editor

echo "== $S role create moderator --tenant roledemo --from editor"
$S role create moderator --tenant roledemo --from editor

echo "== the same again: unchanged, exit 0"
$S --output json role create moderator --tenant roledemo --from editor

echo "== $S role permissions add moderator room.kick room.ban --tenant roledemo"
$S role permissions add moderator room.kick room.ban --tenant roledemo

echo "== $S role permissions add moderator room.bann --tenant roledemo   (unknown: exit 1, close matches)"
if $S role permissions add moderator room.bann --tenant roledemo; then
  echo "unexpected: accepted"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role permissions remove moderator room.ban --tenant roledemo --dry-run   (the plan, nothing written)"
$S role permissions remove moderator room.ban --tenant roledemo --dry-run

echo "== the same without --yes and without a terminal: exit 2, SW_CONFIRMATION_REQUIRED names --yes"
if $S role permissions remove moderator room.ban --tenant roledemo </dev/null; then
  echo "unexpected: removed without a confirmation"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role permissions remove moderator room.ban --tenant roledemo --yes   (scripted: no prompt)"
$S role permissions remove moderator room.ban --tenant roledemo --yes

echo "== a built-in needs --tenant or --all-tenants: $S role permissions add viewer room.invite   (exit 2)"
if $S role permissions add viewer room.invite; then
  echo "unexpected: accepted"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role permissions add viewer room.invite --all-tenants --dry-run   (every tenant: the plan says how many)"
$S role permissions add viewer room.invite --all-tenants --dry-run

echo "== $S role assign ben@roledemo.test editor --tenant roledemo --workspace design   (a workspace membership)"
$S role assign ben@roledemo.test editor --tenant roledemo --workspace design

echo "== the same again: unchanged, exit 0"
$S --output json role assign ben@roledemo.test editor --tenant roledemo --workspace design

echo "== $S role assign prt-cy tenant_admin --tenant roledemo"
$S role assign prt-cy tenant_admin --tenant roledemo

echo "== $S role assign prt-dee moderator --tenant roledemo --workspace ops"
$S role assign prt-dee moderator --tenant roledemo --workspace ops

echo "== $S role check ben@roledemo.test create_note --tenant roledemo --workspace design   (exit 0: allowed)"
$S role check ben@roledemo.test create_note --tenant roledemo --workspace design

echo "== $S role check ben@roledemo.test create_note --tenant roledemo --workspace ops   (exit 1: denied)"
if $S role check ben@roledemo.test create_note --tenant roledemo --workspace ops; then
  echo "unexpected: allowed"; false
else
  echo "exit $? (denied as expected)"
fi

echo "== $S --output json role check prt-cy workspace.manage_members --tenant roledemo --workspace ops"
$S --output json role check prt-cy workspace.manage_members --tenant roledemo --workspace ops

echo "== an error is exit 1 with nothing on stdout (denied is exit 1 with the verdict on stdout)"
if out="$($S role check ben@roledemo.test create_nte --tenant roledemo)"; then
  echo "unexpected: allowed"; false
else
  echo "exit $?, stdout: '${out}' (empty: an error, not a verdict)"
fi

echo "== a tenant override: $S role permissions remove editor create_note --tenant roledemo --yes"
$S role permissions remove editor create_note --tenant roledemo --yes

echo "== ben (editor in roledemo) is now denied; the chain names the override"
if $S role check ben@roledemo.test create_note --tenant roledemo --workspace design; then
  echo "unexpected: allowed"; false
else
  echo "exit $? (denied as expected)"
fi

echo "== eve (editor in rolebeta) is not affected: exit 0"
$S role check eve@rolebeta.test create_note --tenant rolebeta --workspace general

echo "== $S role show editor --tenant roledemo   (the built-in as it is in roledemo)"
$S role show editor --tenant roledemo

echo "== $S role permissions reset editor --tenant roledemo --yes   (drops roledemo's override)"
$S role permissions reset editor --tenant roledemo --yes

echo "== $S role unassign prt-ada owner --tenant roledemo --workspace design   (last owner: exit 1)"
if $S role unassign prt-ada owner --tenant roledemo --workspace design; then
  echo "unexpected: removed"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role unassign prt-cy tenant_admin --tenant roledemo   (last tenant_admin: exit 1)"
if $S role unassign prt-cy tenant_admin --tenant roledemo; then
  echo "unexpected: removed"; false
else
  echo "exit $? (refused as expected)"
fi

# as Excel saves "CSV UTF-8": a byte-order mark and CRLF line ends
printf '\xef\xbb\xbfparticipant,role,scope\r\nben@roledemo.test,viewer,workspace:ops\r\nprt-dee,member,tenant\r\nprt-ada,tenant_admin,tenant\r\nprt-ben,editor,workspace:design\r\n' \
  > "$ROLE_OUT/assignments.csv"
echo "== $S role assign --from-file assignments.csv --tenant roledemo --dry-run   (UTF-8 with BOM, CRLF)"
cat "$ROLE_OUT/assignments.csv"
$S role assign --from-file "$ROLE_OUT/assignments.csv" --tenant roledemo --dry-run

echo "== $S role assign --from-file assignments.csv --tenant roledemo   (all or nothing)"
$S role assign --from-file "$ROLE_OUT/assignments.csv" --tenant roledemo

printf 'prt-ben,viewer,ops\nprt-nobody,member\n' > "$ROLE_OUT/bad.csv"
echo "== a file with an unknown participant: exit 1, nothing applied"
if $S role assign --from-file "$ROLE_OUT/bad.csv" --tenant roledemo; then
  echo "unexpected: applied"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role unassign prt-cy tenant_admin --tenant roledemo   (ada is tenant_admin now: allowed)"
$S role unassign prt-cy tenant_admin --tenant roledemo

echo "== $S role assignments --tenant roledemo"
$S role assignments --tenant roledemo

echo "== $S --output csv role assignments --tenant roledemo --role editor"
$S --output csv role assignments --tenant roledemo --role editor

echo "== $S role delete moderator --tenant roledemo   (still assigned: exit 1)"
if $S role delete moderator --tenant roledemo; then
  echo "unexpected: deleted"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role delete modrator --tenant roledemo --yes   (a typo: exit 1, did you mean moderator)"
if $S role delete modrator --tenant roledemo --yes; then
  echo "unexpected: accepted"; false
else
  echo "exit $? (refused as expected)"
fi

echo "== $S role delete moderator --tenant roledemo --reassign-to editor --dry-run"
$S role delete moderator --tenant roledemo --reassign-to editor --dry-run

echo "== $S role delete moderator --tenant roledemo --reassign-to editor --yes"
$S role delete moderator --tenant roledemo --reassign-to editor --yes

echo "== $S role list --tenant roledemo"
$S role list --tenant roledemo

echo "== the audit log (every change above, written in the change's transaction)"
"$ROLE_PY" - <<'PY'
from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models
store = api.store.open_store(api.load_settings({}))
with store.session() as s:
    rows = s.execute(select(m.AuditEntry.action, m.AuditEntry.target)
                     .where(m.AuditEntry.action.like("role.%")).order_by(m.AuditEntry.id))
    for action, target in rows:
        print(f"  {action:24} {target}")
store.close()
PY
