"""`admin delete-tenant --backup-dir DIR`: the tenant's backup, written and verified while the
tenant is still ``suspended`` (nothing is deleted before it is complete).

DIR (made 0700 with ``api.private_dir``) holds only these, each written atomically (0600):

- ``rooms/<room id>.zip``: one bundle per room `room export` accepts, written by the room
  plugin's own `room export` and checked by its `room verify`, both run as child processes
  (``adapters.room_cli``): the bundle must name the room and hold every event it has now;
- ``people.zip``: every participant of the tenant with their workspace and room memberships and
  role assignments (``participant_export.tenant_people_to_file``, verified by ``verify_file``);
- ``backup.json``, last and only when everything above verified: the tenant, each file with its
  sha256, size and counts, and the rooms that could not be exported (with the reason).

A DIR holding anything else (or another tenant's backup.json) is refused before anything is
written. Run again (after a crash, a full disk, …), bundles already in DIR that verify and hold
the room's current events are kept, the rest is written again. Once the tenant is marked
``deleting`` no backup can be made any more (rows are going): a resumed deletion given
``--backup-dir`` checks that DIR holds the first run's backup.json (the sha256 its
``tenant.delete-started`` audit row recorded) and the files it lists.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from scaiwave_admin import errors
from scaiwave_admin.usecases.hooks import test_hook
from scaiwave_cli import api

FORMAT = "scaiwave.tenant-backup"
MANIFEST = "backup.json"
PEOPLE = "people.zip"
ROOMS = "rooms"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# api.atomic_writer's partial files: .<name>.<pid>@<host>.<hex>.tmp
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.\d+@[A-Za-z0-9-]+\.[0-9a-f]+\.tmp$")


def room_file(room_id: str) -> str:
    """The bundle's path inside DIR: ``rooms/<room id>.zip`` (a digest for an unusual id)."""
    if _SAFE.match(room_id) and not room_id.endswith("."):
        return f"{ROOMS}/{room_id}.zip"
    return f"{ROOMS}/room-{hashlib.sha256(room_id.encode()).hexdigest()[:32]}.zip"


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _in_use(path, what: str) -> api.DomainError:
    return api.DomainError(
        f"--backup-dir {path} {what}; nothing was written or deleted",
        code=errors.SW_TENANT_BACKUP_DIR_IN_USE,
        hint="give a new or empty directory (or the one an earlier run of this same command wrote)",
    )


def check_dir(path, tenant_id: str, room_files) -> None:
    """Refuse a DIR that holds anything but this tenant's backup files (read only)."""
    base = Path(path)
    if not base.exists():
        return
    if not base.is_dir():
        raise _in_use(path, "is not a directory")
    top = {MANIFEST, PEOPLE}
    inner = {Path(f).name for f in room_files}
    strangers = []
    for entry in sorted(os.listdir(base)):
        full = base / entry
        if entry == ROOMS and full.is_dir() and not full.is_symlink():
            for name in sorted(os.listdir(full)):
                if not _ours(full / name, name, inner):
                    strangers.append(f"{ROOMS}/{name}")
        elif not _ours(full, entry, top):
            strangers.append(entry)
    if strangers:
        shown = ", ".join(strangers[:5]) + (
            f" and {len(strangers) - 5} more" if len(strangers) > 5 else ""
        )
        raise _in_use(path, f"holds other files than this tenant's backup: {shown}")
    manifest = base / MANIFEST
    if manifest.exists():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8"))
            owner = found["tenant"]["id"] if found.get("format") == FORMAT else None
        except (ValueError, KeyError, TypeError, OSError):
            owner = None
        if owner != tenant_id:
            raise _in_use(path, f"holds a {MANIFEST} that is not tenant {tenant_id}'s backup")


def _ours(full: Path, name: str, allowed: set) -> bool:
    if full.is_symlink() or not full.is_file():
        return False
    if name in allowed:
        return True
    partial = _PARTIAL.match(name)
    return bool(partial) and partial["name"] in allowed


def write(app, plan, path) -> dict:
    """Write and verify the backup of ``plan``'s tenant into ``path`` (see the module docstring);
    ``{"dir", "sha256" (of backup.json), "rooms", "kept", "people", "bytes"}``."""
    from scaiwave_admin.adapters.room_cli import RoomCli

    base = Path(api.private_dir(path))
    api.private_dir(base / ROOMS)
    cli = RoomCli(app.settings)
    entries, kept = [], 0
    with api.progress(f"backing up tenant {plan.slug}", total=len(plan.rooms), unit="rooms") as bar:
        for room in plan.rooms:
            target = base / room["file"]
            entry = None
            if target.is_file():
                try:
                    entry = _entry(room, target, cli.verify(target))
                except api.ScaiwaveError:
                    entry = None  # damaged or partial: written again below
                kept += entry is not None
            if entry is None:
                cli.export(room["room_id"], plan.tenant_id, target)
                entry = _entry(room, target, cli.verify(target))
            if entry is None:
                raise api.DomainError(
                    f"the bundle of room {room['room_id']} is not complete (it does not hold "
                    f"the room's {room['events']} events); nothing was deleted",
                    code=errors.SW_TENANT_BACKUP_FAILED,
                    hint="events arrived meanwhile? check the tenant is suspended and run the "
                    "same command again",
                )
            entries.append(entry)
            bar.advance(1, nbytes=entry["bytes"])
            test_hook("backup")
    people = _people(app, plan, base / PEOPLE)
    manifest = {
        "format": FORMAT,
        "format_version": 1,
        "written_at": api.isoformat(api.store.utcnow()),
        "tenant": plan.tenant_record,
        "rooms": entries,
        "not_exported": plan.not_exportable,
        "people": people,
        "counts": plan.tables,
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode()
    api.atomic_write(base / MANIFEST, data, mode=0o600)
    return {
        "dir": str(base),
        "sha256": hashlib.sha256(data).hexdigest(),
        "rooms": len(entries),
        "kept": kept,
        "people": people["participants"],
        "bytes": sum(e["bytes"] for e in entries) + people["bytes"] + len(data),
    }


def _entry(room: dict, target: Path, report: dict) -> dict | None:
    """The backup.json entry of a bundle `room verify` accepted, if it is this room's, whole."""
    if not (
        report.get("valid") is True
        and report.get("source_room") == room["room_id"]
        and report.get("events") == room["events"]
    ):
        return None
    return {
        "room_id": room["room_id"],
        "file": room["file"],
        "sha256": sha256_of(target),
        "bytes": target.stat().st_size,
        "events": report.get("events"),
        "media": report.get("media"),
    }


def _people(app, plan, target: Path) -> dict:
    from scaiwave_admin.usecases import participant_export

    try:
        written = participant_export.tenant_people_to_file(app.store, plan.tenant_id, target)
        checked = participant_export.verify_file(target)
    except api.ScaiwaveError as exc:
        raise api.DomainError(
            f"the backup failed: the people export: {exc.code}: {exc}; nothing was deleted",
            code=errors.SW_TENANT_BACKUP_FAILED,
            hint="fix the cause and run the same command again (bundles that verified are "
            "kept), or delete without a backup: --no-backup",
        ) from None
    participants = checked.get("participants")
    if participants != plan.counts["participants"]:
        raise api.DomainError(
            f"the people export holds {participants} participants, the tenant has "
            f"{plan.counts['participants']}; nothing was deleted",
            code=errors.SW_TENANT_BACKUP_FAILED,
            hint="run the same command again",
        )
    return {
        "file": PEOPLE,
        "sha256": sha256_of(target),
        "bytes": target.stat().st_size,
        "participants": participants,
        "integrity_sha256": written.get("integrity_sha256"),
    }


def check_resumed(path, started_backup: dict | None) -> dict:
    """On a resumed deletion: DIR holds the first run's backup (its backup.json's sha256 as the
    ``tenant.delete-started`` row recorded it, every file it lists unchanged)."""
    if not started_backup:
        raise api.DomainError(
            "this tenant's deletion started without a backup and is partly done: no backup "
            "can be made now",
            code=errors.SW_TENANT_BACKUP_MISSING,
            hint="finish it with the same command and --no-backup",
        )
    base = Path(path)
    manifest = base / MANIFEST
    first = started_backup.get("dir")
    if not manifest.is_file() or sha256_of(manifest) != started_backup.get("sha256"):
        raise api.DomainError(
            f"{manifest} is not the backup the first run wrote ({first}); the tenant is "
            "partly deleted, so no new backup can be made",
            code=errors.SW_TENANT_BACKUP_MISSING,
            hint=f"point --backup-dir at the first run's directory ({first}), or finish "
            "with --no-backup",
        )
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    files = [*listed.get("rooms", []), listed.get("people") or {}]
    for item in files:
        if not item:
            continue
        target = base / item["file"]
        if not target.is_file() or sha256_of(target) != item["sha256"]:
            raise api.DomainError(
                f"{target} is missing or changed since the first run wrote it",
                code=errors.SW_TENANT_BACKUP_MISSING,
                hint=f"restore {first} from where you copied it, or finish with --no-backup",
            )
    return {
        "dir": str(base.resolve()),
        "sha256": started_backup["sha256"],
        "rooms": len(listed.get("rooms", [])),
        "kept": len(listed.get("rooms", [])),
        "people": (listed.get("people") or {}).get("participants"),
    }
