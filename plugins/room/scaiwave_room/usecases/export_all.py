"""`room export-all`: every room of a tenant as its own bundle in DIR, fanned out over worker
processes or an ARQ queue (``api.fanout``), then ``tenant-manifest.json`` (layout:
``usecases/tenant_manifest.py``).

The coordinator (``export_all``):

1. finds the tenant (in the actor's scope) and its rooms in the chosen states; a room that may
   not leave (sidekick, bridge, incognito, federated), one being deleted, or one whose id is no
   safe file name is listed in the manifest's ``refused`` with the reason, not exported;
2. checks DIR: new or empty, or an earlier run's (``export-state.json`` with the same tenant,
   states, server name and, when SOURCE_DATE_EPOCH is set, export time; else
   ``SW_ROOM_EXPORT_PARAMS_CHANGED``); the export time is SOURCE_DATE_EPOCH, else the first
   run's (pinned in the state file); any manifest is removed first;
3. verifies the bundles an earlier run left (``room.verify`` jobs: sha256, the full bundle check,
   the room and the export time); one that fails is removed and exported again;
4. exports the rest (``room.export`` jobs: `room export --to` with the pinned time, written
   atomically, then the same check), weights = event counts (progress and ETA);
5. when every room succeeded: removes partial files left by killed writers and bundles of rooms
   no longer selected, then writes the manifest and its integrity file, last. Otherwise
   ``SW_ROOM_EXPORT_INCOMPLETE`` (exit 1) naming the rooms, no manifest; run it again.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.usecases import tenant_manifest as tm


def export_all(
    app, *, tenant, to_dir, states=("open", "archived"), workers=1, queue=None, batch_size=2000
):
    """Run the export (see the module docstring); returns ``(summary, error)``: ``error`` is the
    ``SW_ROOM_EXPORT_INCOMPLETE`` to raise after printing the summary, or None."""
    tm.check_queue(app, queue)
    base = Path(os.path.abspath(to_dir))
    states = [s for s in tm.STATES if s in set(states)]
    plan = _plan(app, tenant, states)
    params = {
        "tenant": plan["tenant"],
        "tenant_id": plan["tenant_id"],
        "states": states,
        "server_name": plan["server_name"],
    }
    epoch = _prepare_dir(app, base, params)
    params["exported_at"] = epoch
    tag = tm.dir_tag(base)
    rooms = plan["rooms"]
    common = {"dir": str(base), "epoch": epoch}

    results: dict[str, dict] = {}
    present = [r for r in rooms if (base / r["file"]).is_file()]

    def key(room):
        return f"{room['id']}@{tag}"

    verified, broken = tm.run_rooms(
        app,
        "room.verify",
        present,
        key,
        lambda r: {**common, "file": r["file"], "room_id": r["id"]},
        workers=workers,
        queue=queue,
        label=f"verifying the bundles already in {base}",
    )
    results.update(verified)
    kept = len(verified)
    for r in present:
        failed = broken.get(r["id"])
        if failed is not None:
            app.out.info(
                f"{r['file']} did not verify ({failed.get('code')}: {failed.get('message')}); "
                "exporting it again"
            )
            _unlink(base / r["file"])

    exported, failures = tm.run_rooms(
        app,
        "room.export",
        [r for r in rooms if r["id"] not in results],
        key,
        lambda r: {
            **common,
            "file": r["file"],
            "room_id": r["id"],
            "tenant_id": plan["tenant_id"],
            "server_name": plan["server_name"],
            "batch_size": batch_size,
        },
        workers=workers,
        queue=queue,
        label=f"exporting the rooms of {plan['tenant']}",
    )
    results.update(exported)

    summary = {
        "tenant": plan["tenant"],
        "dir": str(base),
        "exported_at": tm.time_text(epoch),
        "states": states,
        "rooms": len(rooms),
        "exported": len(results) - kept,
        "kept": kept,
        "failed": len(failures),
        "refused": len(plan["refused"]),
        "not_selected": plan["not_selected"],
        "events": sum(r["events"] for r in results.values()),
        "bytes": sum(r["bytes"] for r in results.values()),
    }
    if failures:
        listed = [
            {"room_id": rid, "code": f.get("code"), "message": f.get("message")}
            for rid, f in sorted(failures.items())
        ]
        summary["failures"] = listed
        summary["manifest"] = None
        return summary, _incomplete(listed)

    _finish_dir(app, base, {r["file"] for r in rooms})
    entries = []
    for r in rooms:
        got = results[r["id"]]
        entries.append(
            {
                "id": r["id"],
                "name": got["name"],
                "type": got["type"],
                "state": r["state"],
                "file": r["file"],
                "bytes": got["bytes"],
                "sha256": got["sha256"],
                "events": got["events"],
                "media": got["media"],
            }
        )
    manifest = tm.manifest_bytes(params, entries, plan["refused"])
    tm.write_manifest(base, manifest)
    summary["manifest"] = tm.MANIFEST
    summary["manifest_sha256"] = hashlib.sha256(manifest).hexdigest()
    return summary, None


def _incomplete(listed: list[dict]) -> api.DomainError:
    shown = ", ".join(f"{f['room_id']} ({f['code']})" for f in listed[:10])
    more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
    return api.DomainError(
        f"{len(listed)} room(s) failed: {shown}{more}; no {tm.MANIFEST} was written",
        code=errors.SW_ROOM_EXPORT_INCOMPLETE,
        hint="fix the cause and run the same command again: bundles that verify are kept",
        details={"rooms": listed},
    )


def _plan(app, tenant_ref, states) -> dict:
    from scaiwave_room.adapters import db
    from scaiwave_room.usecases.rooms import REFUSED_EXPORT, room_kind

    server = api.fedkeys.require_server_name(app.settings, app.settings.server_name or "localhost")
    with app.store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
        listed = db.list_rooms(session, tenant.id)
        slug, tenant_id = tenant.slug, tenant.id
    rooms, refused, not_selected = [], [], 0
    for room, _ws, events in listed:
        kind = room_kind(room)
        reason = code = None
        if room.state == "deleting":
            reason, code = "being deleted (an interrupted room delete)", errors.SW_ROOM_DELETING
        elif room.state not in states:
            not_selected += 1
            continue
        elif kind in REFUSED_EXPORT:
            reason, code = f"{kind} room", errors.SW_ROOM_EXPORT_REFUSED
        elif tm.room_file(room.id) is None:
            reason, code = "its id is not a safe file name", errors.SW_ROOM_EXPORT_REFUSED
        info = {"id": room.id, "name": room.name, "type": room.type, "state": room.state}
        if reason:
            refused.append({**info, "reason": reason, "code": code})
        else:
            rooms.append({**info, "file": tm.room_file(room.id), "events": events})
    rooms.sort(key=lambda r: r["id"])
    return {
        "tenant": slug,
        "tenant_id": tenant_id,
        "server_name": server,
        "rooms": rooms,
        "refused": refused,
        "not_selected": not_selected,
    }


def _prepare_dir(app, base: Path, params: dict) -> int:
    """Check DIR (new, empty, or this export's) and return the export time (see step 2)."""
    wanted_epoch = api.zipbundle.source_date_epoch()
    found = None
    if base.exists() or base.is_symlink():
        if not base.is_dir():
            raise _in_use(base, "is not a directory")
        found = tm.read_state(base)
        others, partials = tm.strangers(base)
        if found is None and (others or partials):
            raise _in_use(base, "is not empty and holds no export (no " + tm.STATE + ")", others)
        if others:
            raise _in_use(base, "holds files that are not part of an export", others)
    if found is not None:
        tm.check_state(base, found, {**params, "exported_at": wanted_epoch})
        epoch = found.get("exported_at")
        if not isinstance(epoch, int) or epoch < 0:
            raise _in_use(base, f"holds a damaged {tm.STATE}")
        app.out.info(f"resuming the export in {base} (export time {tm.time_text(epoch)})")
    else:
        epoch = wanted_epoch if wanted_epoch is not None else int(time.time())
    api.private_dir(base)
    api.private_dir(base / tm.ROOMS)
    if found is None:
        tm.write_state(base, {**params, "exported_at": epoch})
    tm.remove_manifest(base)
    return epoch


def _finish_dir(app, base: Path, wanted: set[str]) -> None:
    """Every job has ended: partial files of killed writers go, and bundles of rooms this
    export does not hold (deleted, or refused since an earlier run)."""
    _others, partials = tm.strangers(base)
    tm.remove_partials(base, partials, app.out.info)
    for name in sorted(os.listdir(base / tm.ROOMS)):
        path = base / tm.ROOMS / name
        rel = f"{tm.ROOMS}/{name}"
        if rel not in wanted and tm.is_bundle_name(name) and path.is_file():
            _unlink(path)
            app.out.info(f"removed {path}: not a room of this export any more")


def _in_use(base: Path, what: str, files=None) -> api.DomainError:
    shown = ""
    if files:
        shown = (
            ": " + ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        )
    return api.DomainError(
        f"--to {base} {what}{shown}; nothing was written",
        code=errors.SW_ROOM_EXPORT_DIR_IN_USE,
        hint="give a new or empty directory, or the one an earlier run of this export wrote",
    )


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- the jobs' work (``scaiwave_room.jobs``) ------------------------------------------------------


def export_one(app, args: dict) -> dict:
    """``room.export``: the room's bundle at DIR/file with the pinned time, then checked."""
    from scaiwave_room.usecases.export import export_room

    target = Path(args["dir"]) / args["file"]
    api.private_dir(target.parent)
    summary = export_room(
        app,
        room_id=args["room_id"],
        tenant=args["tenant_id"],
        to_file=str(target),
        server_name=args["server_name"],
        batch_size=args.get("batch_size", 2000),
        epoch=args["epoch"],
    )
    return check_bundle(app, args, sha256=summary["sha256"])


def verify_one(app, args: dict) -> dict:
    """``room.verify``: DIR/file is a sound bundle of ``room_id`` (and, given, of ``sha256``
    and ``bytes``) exported at ``epoch``."""
    return check_bundle(app, args, sha256=args.get("sha256"), size=args.get("bytes"))


def check_bundle(app, args: dict, *, sha256=None, size=None) -> dict:
    """The file's sha256 and size, the full bundle check (`room verify`), its room and export
    time; ``SW_ROOM_BUNDLE_MISMATCH`` or the bundle's own error otherwise. Returns what the
    manifest lists: id, name, type, file, bytes, sha256, events, media."""
    from scaiwave_room.bundle.limits import Limits
    from scaiwave_room.bundle.reader import open_bundle
    from scaiwave_room.bundle.validate import validate

    rel = args["file"]
    path = Path(args["dir"]) / rel
    if not path.is_file():
        raise _mismatch(f"{rel} is missing")
    got_sha, got_size = tm.sha256_of(path)
    if sha256 is not None and got_sha != sha256:
        raise _mismatch(f"{rel}: sha256 {got_sha}, expected {sha256}")
    if size is not None and got_size != size:
        raise _mismatch(f"{rel}: {got_size} bytes, expected {size}")
    limits = Limits.from_settings(app.settings)
    with open_bundle(str(path), limits) as opened:
        report = validate(opened, limits)
    header = report.header
    room_id = args.get("room_id")
    if room_id is not None and header.source.room_id != room_id:
        raise _mismatch(f"{rel} holds room {header.source.room_id}, expected {room_id}")
    epoch = args.get("epoch")
    if epoch is not None and header.exported_at != tm.time_text(epoch):
        raise _mismatch(
            f"{rel} was exported at {header.exported_at}, this export's time is "
            f"{tm.time_text(epoch)}"
        )
    return {
        "id": header.source.room_id,
        "name": header.room.name,
        "type": header.room.type,
        "file": rel,
        "bytes": got_size,
        "sha256": got_sha,
        "events": report.events,
        "media": report.media,
    }


def _mismatch(message: str) -> api.DomainError:
    return api.DomainError(
        message,
        code=errors.SW_ROOM_BUNDLE_MISMATCH,
        hint="export the room again (`scaiwave room export-all` into the same directory)",
    )
