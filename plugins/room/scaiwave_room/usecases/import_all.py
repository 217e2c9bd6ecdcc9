"""`room import-all DIR`: every bundle of a tenant export imported into one workspace, fanned
out over worker processes or an ARQ queue (``api.fanout``).

The coordinator (``import_all``) checks the manifest against its integrity file, finds the
tenant (in the actor's scope), the workspace and the ``--as`` participant (who needs
``create_note`` there: exit 3 before anything runs), then queues one ``room.import`` job per
bundle (weight: its events). Each job (``import_one``), under a lock on (tenant, bundle sha256)
(``adapters.imports``):

- skips a bundle already imported into the tenant (its audit row ``room.import`` names the
  bundle's sha256 and its room still exists): a re-run, or a second job on the same bundle;
- else checks the file's sha256 against the manifest's (``SW_ROOM_BUNDLE_MISMATCH``) and imports
  it as `room import` does (all or nothing, the audit row recording the bundle's sha256).

Summary: imported / skipped / failed, each source room and the room it became. Failures are
``SW_ROOM_IMPORT_INCOMPLETE`` (exit 1) naming the source rooms; the rest stays imported and a
re-run imports only what is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.usecases import tenant_manifest as tm


def import_all(app, *, from_dir, tenant, workspace, as_participant, workers=1, queue=None):
    """Returns ``(summary, error)``: ``error`` is the ``SW_ROOM_IMPORT_INCOMPLETE`` to raise
    after printing the summary, or None."""
    from scaiwave_room.usecases.import_ import _importer

    tm.check_queue(app, queue)
    base = Path(os.path.abspath(from_dir))
    manifest = tm.read_manifest(base)
    with app.store.read_session() as session:
        tenant_row = api.find_tenant(session, tenant, actor=app.actor)
        ws = api.find_workspace(session, tenant_row, workspace)
        participant = _importer(session, tenant_row, ws, as_participant)
        target = {
            "tenant_id": tenant_row.id,
            "workspace_id": ws.id,
            "participant_id": participant.id,
        }
        slug, ws_slug = tenant_row.slug, ws.slug
    rooms = manifest["rooms"]

    def key(room):  # stable for (tenant, bundle): a re-run re-attaches to a queued job
        return f"{room['id']}@{target['tenant_id']}:{room['sha256'][:32]}"

    done_by_room, failed_by_room = tm.run_rooms(
        app,
        "room.import",
        rooms,
        key,
        lambda r: {
            "dir": str(base),
            "file": r["file"],
            "sha256": r["sha256"],
            "bytes": r["bytes"],
            "source_room": r["id"],
            **target,
        },
        workers=workers,
        queue=queue,
        label=f"importing into {slug}/{ws_slug}",
    )
    lines, failures = [], []
    for r in rooms:
        done = done_by_room.get(r["id"])
        if done is not None:
            lines.append(
                {
                    "source_room": r["id"],
                    "result": done["result"],
                    "room_id": done["room_id"],
                    "events": r["events"],
                    "code": None,
                    "message": None,
                }
            )
            continue
        failed = failed_by_room[r["id"]]
        line = {
            "source_room": r["id"],
            "result": "failed",
            "room_id": None,
            "events": r["events"],
            "code": failed.get("code"),
            "message": failed.get("message"),
        }
        lines.append(line)
        failures.append(line)
    summary = {
        "tenant": slug,
        "workspace": ws_slug,
        "as": str(target["participant_id"]),
        "dir": str(base),
        "source_tenant": manifest["parameters"]["tenant"],
        "rooms": len(rooms),
        "imported": sum(1 for x in lines if x["result"] == "imported"),
        "skipped": sum(1 for x in lines if x["result"] == "skipped"),
        "failed": len(failures),
        "results": lines,
    }
    if not failures:
        return summary, None
    shown = ", ".join(f"{f['source_room']} ({f['code']})" for f in failures[:10])
    more = f" and {len(failures) - 10} more" if len(failures) > 10 else ""
    return summary, api.DomainError(
        f"{len(failures)} of {len(rooms)} room(s) failed to import: {shown}{more}",
        code=errors.SW_ROOM_IMPORT_INCOMPLETE,
        hint="fix the cause and run the same command again: rooms already imported are skipped",
        details={
            "rooms": [{k: f[k] for k in ("source_room", "code", "message")} for f in failures]
        },
    )


def import_one(app, args: dict) -> dict:
    """``room.import``: one bundle into the tenant, once (see the module docstring)."""
    from scaiwave_room.adapters import imports
    from scaiwave_room.usecases.import_ import import_bundle

    path = Path(args["dir"]) / args["file"]
    tenant_id, sha = args["tenant_id"], args["sha256"]
    with imports.bundle_lock(app.store, tenant_id, sha):
        with app.store.read_session() as session:
            existing = imports.imported_room(session, tenant_id, sha)
        if existing is not None:
            return {"result": "skipped", "room_id": existing, "source_room": args["source_room"]}
        if not path.is_file():
            raise _mismatch(f"{args['file']} is missing")
        got, size = tm.sha256_of(path)
        if got != sha or size != args.get("bytes", size):
            raise _mismatch(f"{args['file']}: sha256 {got} ({size} bytes), the manifest says {sha}")
        summary = import_bundle(
            app,
            path=str(path),
            workspace=args["workspace_id"],
            tenant_ref=tenant_id,
            as_participant=args["participant_id"],
            bundle_sha256=sha,
        )
    return {
        "result": "imported",
        "room_id": summary["room_id"],
        "source_room": summary["source_room"],
        "events": summary["events"],
        "media": summary["media"],
    }


def _mismatch(message: str) -> api.DomainError:
    return api.DomainError(
        message,
        code=errors.SW_ROOM_BUNDLE_MISMATCH,
        hint="the bundle is not the one the manifest names: export it again, or check the copy",
    )
