# plugins/room/demo.sh: room export / verify / import on data it seeds itself.
#
# Sourced by scripts/demo.sh (bash, set -euo pipefail, SCAIWAVE_HOME a fresh directory, the
# embedded SQLite store, DEMO_OUT a scratch directory, S the scaiwave command), or on its own:
#   SCAIWAVE_HOME=/tmp/dh/home DEMO_OUT=/tmp/dh S=.venv/bin/scaiwave \
#     bash -c 'set -euo pipefail; source plugins/room/demo.sh'
# No CLI command creates rooms or events, so `python -m scaiwave_room.demo_seed` (the Python
# that runs scaiwave) seeds two tenants, a room with an edit, a reaction, a redaction, an
# attachment, a threaded reply and a foreign author, a sidekick room and a federation key.

ROOM_S="${S:-scaiwave}"
ROOM_OUT="${DEMO_OUT:-$SCAIWAVE_HOME}/room"
mkdir -p "$ROOM_OUT"

# The Python interpreter of the scaiwave installation (its entry script's shebang).
ROOM_PY="${ROOM_DEMO_PYTHON:-}"
if [ -z "$ROOM_PY" ]; then
  ROOM_BIN="$(command -v "${ROOM_S%% *}" || true)"
  if [ -n "$ROOM_BIN" ] && [ -f "$ROOM_BIN" ]; then
    ROOM_PY="$(head -n 1 "$ROOM_BIN" | sed -n 's/^#![[:space:]]*\([^[:space:]]*\).*/\1/p')"
  fi
  case "$ROOM_PY" in */env|"") ROOM_PY=python3 ;; esac
fi

echo "== python -m scaiwave_room.demo_seed   (tenants roomdemo-src/-dst, a room, a sidekick room, a federation key)"
ROOM_SEED="$("$ROOM_PY" -m scaiwave_room.demo_seed)"
echo "$ROOM_SEED"
ROOM_ID="$("$ROOM_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["room"])' "$ROOM_SEED")"
ROOM_HELPER="$("$ROOM_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["helper_room"])' "$ROOM_SEED")"
ROOM_PUB="$("$ROOM_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["public_key"])' "$ROOM_SEED")"

echo "== scaiwave room list --tenant roomdemo-src"
$ROOM_S room list --tenant roomdemo-src

echo "== scaiwave room show $ROOM_ID --tenant roomdemo-src"
$ROOM_S room show "$ROOM_ID" --tenant roomdemo-src

echo "== scaiwave room export $ROOM_ID --tenant roomdemo-src > room.zip"
$ROOM_S room export "$ROOM_ID" --tenant roomdemo-src > "$ROOM_OUT/room.zip"

echo "== scaiwave room export $ROOM_ID --tenant roomdemo-src --to again.zip   (same bytes: deterministic)"
$ROOM_S room export "$ROOM_ID" --tenant roomdemo-src --to "$ROOM_OUT/again.zip"
cmp "$ROOM_OUT/room.zip" "$ROOM_OUT/again.zip"
echo "identical bundles"

echo "== python -m zipfile -l room.zip   (manifest first, media by sha256, integrity last)"
"$ROOM_PY" -m zipfile -l "$ROOM_OUT/room.zip"

echo "== scaiwave room verify < room.zip"
$ROOM_S room verify < "$ROOM_OUT/room.zip"

echo "== scaiwave room export $ROOM_ID --tenant roomdemo-src --sign --to signed.zip; room verify --public-key <the server's key>"
$ROOM_S room export "$ROOM_ID" --tenant roomdemo-src --sign --to "$ROOM_OUT/signed.zip"
$ROOM_S --output json room verify --from "$ROOM_OUT/signed.zip" --public-key "$ROOM_PUB"

echo "== scaiwave room export $ROOM_HELPER --tenant roomdemo-src   (a sidekick room: refused, exit 1)"
if $ROOM_S room export "$ROOM_HELPER" --tenant roomdemo-src > /dev/null; then
  echo "unexpected: a sidekick room was exported"; false
else
  echo "exit $? (refused, as expected)"
fi

echo "== scaiwave room export $ROOM_ID --tenant roomdemo-dst   (another tenant's room: answered like a missing one)"
if $ROOM_S room export "$ROOM_ID" --tenant roomdemo-dst > /dev/null; then
  echo "unexpected: exported across tenants"; false
else
  echo "exit $? (not found, as expected)"
fi

echo "== scaiwave room import general --tenant roomdemo-dst --as prt-roomdemo-dst --dry-run < room.zip"
$ROOM_S room import general --tenant roomdemo-dst --as prt-roomdemo-dst --dry-run < "$ROOM_OUT/room.zip"

echo "== scaiwave --output json room import general --tenant roomdemo-dst --as prt-roomdemo-dst < room.zip"
$ROOM_S --output json room import general --tenant roomdemo-dst --as prt-roomdemo-dst \
  < "$ROOM_OUT/room.zip" | tee "$ROOM_OUT/imported.json"
ROOM_NEW="$("$ROOM_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["room_id"])' "$ROOM_OUT/imported.json")"

echo "== scaiwave --output csv room list --tenant roomdemo-dst"
$ROOM_S --output csv room list --tenant roomdemo-dst

echo "== scaiwave room show $ROOM_NEW --tenant roomdemo-dst"
$ROOM_S room show "$ROOM_NEW" --tenant roomdemo-dst

echo "== scaiwave room export $ROOM_NEW --tenant roomdemo-dst | scaiwave room verify   (a pipe both ways)"
$ROOM_S room export "$ROOM_NEW" --tenant roomdemo-dst | $ROOM_S room verify

echo "== a tampered bundle (one attachment byte flipped): verify and import both refuse it, exit 1"
"$ROOM_PY" - "$ROOM_OUT/room.zip" "$ROOM_OUT/tampered.zip" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[data.index(b"%PDF-1.4 demo")] ^= 0x20
open(sys.argv[2], "wb").write(bytes(data))
PY
if $ROOM_S room verify --from "$ROOM_OUT/tampered.zip"; then
  echo "unexpected: a tampered bundle verified"; false
else
  echo "exit $? (rejected, as expected)"
fi
if $ROOM_S room import general --tenant roomdemo-dst --as prt-roomdemo-dst --from "$ROOM_OUT/tampered.zip"; then
  echo "unexpected: a tampered bundle was imported"; false
else
  echo "exit $? (rejected, nothing written)"
fi
$ROOM_S room list --tenant roomdemo-dst

# -- a whole tenant (issue 17) -------------------------------------------------------------------
echo "== scaiwave room export-all --tenant roomdemo-src --to tenant-export --workers 2   (a bundle per room, the manifest last; the sidekick room is listed as refused)"
$ROOM_S room export-all --tenant roomdemo-src --to "$ROOM_OUT/tenant-export" --workers 2
( cd "$ROOM_OUT/tenant-export" && find . -type f | sort )
"$ROOM_PY" -m json.tool "$ROOM_OUT/tenant-export/tenant-manifest.json"

echo "== scaiwave room export-all ... again   (resumed: the bundles verify and are kept, the same manifest)"
cp "$ROOM_OUT/tenant-export/tenant-manifest.json" "$ROOM_OUT/tenant-manifest.first.json"
$ROOM_S room export-all --tenant roomdemo-src --to "$ROOM_OUT/tenant-export" --workers 2
cmp "$ROOM_OUT/tenant-export/tenant-manifest.json" "$ROOM_OUT/tenant-manifest.first.json"
echo "identical manifests"

echo "== scaiwave room verify-all tenant-export --workers 2"
$ROOM_S room verify-all "$ROOM_OUT/tenant-export" --workers 2

echo "== scaiwave room import-all tenant-export --tenant roomdemo-dst --workspace general --as prt-roomdemo-dst --workers 2"
$ROOM_S room import-all "$ROOM_OUT/tenant-export" --tenant roomdemo-dst --workspace general \
  --as prt-roomdemo-dst --workers 2

echo "== the same import-all again   (every bundle is recognised and skipped)"
$ROOM_S --output json room import-all "$ROOM_OUT/tenant-export" --tenant roomdemo-dst \
  --workspace general --as prt-roomdemo-dst --workers 2

echo "== one bundle changed: verify-all names it, exit 1"
ROOM_ONE="$(ls "$ROOM_OUT/tenant-export/rooms" | head -n 1)"
cp "$ROOM_OUT/tenant-export/rooms/$ROOM_ONE" "$ROOM_OUT/$ROOM_ONE.bak"
printf 'x' >> "$ROOM_OUT/tenant-export/rooms/$ROOM_ONE"
if $ROOM_S room verify-all "$ROOM_OUT/tenant-export"; then
  echo "unexpected: a changed export verified"; false
else
  echo "exit $? (rejected, as expected)"
fi
mv "$ROOM_OUT/$ROOM_ONE.bak" "$ROOM_OUT/tenant-export/rooms/$ROOM_ONE"

# -- room states and move (issue 15) ------------------------------------------------------------
echo "== scaiwave room archive $ROOM_ID --tenant roomdemo-src   (open -> archived)"
$ROOM_S room archive "$ROOM_ID" --tenant roomdemo-src

echo "== scaiwave room list --tenant roomdemo-src --state archived"
$ROOM_S room list --tenant roomdemo-src --state archived

echo "== scaiwave room move $ROOM_ID --tenant roomdemo-src --to-workspace design   (archived: frozen, SW_ROOM_FROZEN, exit 1)"
$ROOM_S admin create-workspace --tenant roomdemo-src --slug design --name Design \
  --owner prt-roomdemo-src > /dev/null
if $ROOM_S room move "$ROOM_ID" --tenant roomdemo-src --to-workspace design; then
  echo "unexpected: an archived room was moved"; false
else
  echo "exit $? (refused: restore it first)"
fi

echo "== scaiwave room restore $ROOM_ID --tenant roomdemo-src   (archived -> open)"
$ROOM_S room restore "$ROOM_ID" --tenant roomdemo-src

echo "== scaiwave --output json room move $ROOM_ID --tenant roomdemo-src --to-workspace design --as prt-roomdemo-src"
echo "   (refused: an editor of general lacks room.move there; exit 3)"
if $ROOM_S --output json room move "$ROOM_ID" --tenant roomdemo-src --to-workspace design \
    --as prt-roomdemo-src; then
  echo "unexpected: moved without room.move"; false
else
  echo "exit $? (refused, nothing moved)"
fi

echo "== scaiwave --output json room move $ROOM_ID --tenant roomdemo-src --to-workspace design   (the admin; every event moves)"
$ROOM_S --output json room move "$ROOM_ID" --tenant roomdemo-src --to-workspace design
$ROOM_S room list --tenant roomdemo-src --workspace design

echo "== scaiwave room close $ROOM_HELPER --tenant roomdemo-src --dry-run   (the plan, nothing written)"
$ROOM_S room close "$ROOM_HELPER" --tenant roomdemo-src --dry-run

echo "== scaiwave room close $ROOM_HELPER --tenant roomdemo-src --yes   (terminal)"
$ROOM_S room close "$ROOM_HELPER" --tenant roomdemo-src --yes

echo "== scaiwave room restore $ROOM_HELPER --tenant roomdemo-src   (closed is terminal: SW_ROOM_CLOSED, exit 1)"
if $ROOM_S room restore "$ROOM_HELPER" --tenant roomdemo-src; then
  echo "unexpected: a closed room was restored"; false
else
  echo "exit $? (refused, as expected)"
fi

echo "== scaiwave room delete $ROOM_ID --tenant roomdemo-src --backup room-backup.zip --dry-run   (counts; nothing written)"
$ROOM_S room delete "$ROOM_ID" --tenant roomdemo-src --backup "$ROOM_OUT/room-backup.zip" --dry-run

echo "== scaiwave --output json room delete $ROOM_ID --tenant roomdemo-src --backup room-backup.zip --yes   (backup verified, then deleted)"
$ROOM_S --output json room delete "$ROOM_ID" --tenant roomdemo-src \
  --backup "$ROOM_OUT/room-backup.zip" --yes
if $ROOM_S room show "$ROOM_ID" --tenant roomdemo-src > /dev/null 2>&1; then
  echo "unexpected: the deleted room is still there"; false
else
  echo "room $ROOM_ID is gone (SW_ROOM_NOT_FOUND)"
fi

echo "== scaiwave --output json room import general --tenant roomdemo-src --as prt-roomdemo-src --from room-backup.zip   (the backup brings it back)"
$ROOM_S --output json room import general --tenant roomdemo-src --as prt-roomdemo-src \
  --from "$ROOM_OUT/room-backup.zip" | tee "$ROOM_OUT/restored.json"
ROOM_BACK="$("$ROOM_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["room_id"])' "$ROOM_OUT/restored.json")"

echo "== scaiwave room purge --tenant roomdemo-src --room $ROOM_BACK --before 2030-01-01 --dry-run   (retention: the plan)"
$ROOM_S room purge --tenant roomdemo-src --room "$ROOM_BACK" --before 2030-01-01 --dry-run

echo "== scaiwave --output json room purge --tenant roomdemo-src --room $ROOM_BACK --before 2030-01-01 --yes   (every event; the room stays)"
$ROOM_S --output json room purge --tenant roomdemo-src --room "$ROOM_BACK" --before 2030-01-01 --yes

echo "== scaiwave admin media purge-orphans --tenant roomdemo-src --dry-run   (files no row references)"
$ROOM_S admin media purge-orphans --tenant roomdemo-src --dry-run
