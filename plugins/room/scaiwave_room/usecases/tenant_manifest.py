"""The layout of a tenant export directory (`room export-all --to DIR`), its manifest, its
integrity file and its state file; no database.

DIR holds only these (each written atomically, 0600, in a 0700 directory)::

    export-state.json                  the run's parameters, written first (a re-run reuses them)
    rooms/<room id>.zip                one bundle per room, the bytes `room export --to` writes
    tenant-manifest.json               every room, its bundle's size and sha256, written LAST
    tenant-manifest.integrity.json     size and sha256 of tenant-manifest.json

``tenant-manifest.json`` is canonical JSON (sorted keys, no whitespace, UTF-8; a final newline),
rooms ordered by id, no time but the pinned export time: the same export gives the same bytes,
however many workers wrote it and however often it was interrupted.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path

from scaiwave_cli import api
from scaiwave_room import errors

FORMAT = "scaiwave.tenant-export"
FORMAT_VERSION = 1
INTEGRITY_FORMAT = "scaiwave.tenant-export.integrity"
STATE_FORMAT = "scaiwave.tenant-export.state"
MANIFEST = "tenant-manifest.json"
INTEGRITY = "tenant-manifest.integrity.json"
STATE = "export-state.json"
ROOMS = "rooms"
STATES = ("open", "archived", "closed")
MAX_MANIFEST_BYTES = 256 << 20  # a manifest line is ~300 bytes: about 800,000 rooms
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# api.atomic_writer's partial files: .<name>.<pid>@<host>.<hex>.tmp
PARTIAL = re.compile(r"^\.(?P<name>.+)\.\d+@[A-Za-z0-9-]+\.[0-9a-f]+\.tmp$")


def room_file(room_id: str) -> str | None:
    """``rooms/<room id>.zip``, or None when the id is not a safe file name."""
    if _SAFE.match(room_id) and not room_id.endswith("."):
        return f"{ROOMS}/{room_id}.zip"
    return None


def sha256_of(path) -> tuple[str, int]:
    """(sha256, size) of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def time_text(epoch: int) -> str:
    """The export time as the bundles write it (``…000000Z``)."""
    from scaiwave_room.bundle.schema import format_time

    return format_time(_dt.datetime.fromtimestamp(epoch, _dt.UTC))


def dir_tag(path) -> str:
    """A short digest of DIR's absolute path: part of every job key (``<room id>@<tag>``), so
    two exports into two directories never share a queued job, and a re-run into the same DIR
    re-attaches to its jobs still queued or running."""
    return hashlib.sha256(os.path.abspath(os.fspath(path)).encode()).hexdigest()[:12]


def invalid(message: str, problems=None) -> api.DomainError:
    return api.DomainError(
        message,
        code=errors.SW_ROOM_EXPORT_INVALID,
        hint="run `scaiwave room export-all` into the directory again (it keeps what verifies), "
        "or export afresh into a new one",
        details={"problems": problems} if problems else None,
    )


def check_queue(app, queue) -> None:
    """A bad ``--queue`` URL fails (``SW_QUEUE_URL_INVALID``, exit 2) before anything is done:
    ``api.fanout.run`` checks the URL before it looks at the jobs."""
    if queue is not None:
        api.fanout.run(app, [], queue=queue, label="checking --queue")


# -- the state file ------------------------------------------------------------------------------


def run_rooms(app, name, rooms, key, args, *, workers, queue, label):
    """One ``name`` job per room (``key(room)``, ``args(room)``, weighted by its events) through
    ``api.fanout``; returns ``(done, failed)``, each keyed by room id, in the rooms' order."""
    keys = {r["id"]: key(r) for r in rooms}
    jobs = [api.fanout.Job(name, keys[r["id"]], args(r), weight=max(r["events"], 1)) for r in rooms]
    outcome = api.fanout.run(app, jobs, workers=workers, queue=queue, label=label, unit="events")
    done, failed = {}, {}
    for room_id, job_key in keys.items():
        if job_key in outcome.done:
            done[room_id] = outcome.done[job_key]
        else:
            failed[room_id] = outcome.failed.get(
                job_key, {"code": api.errors.SW_JOB_FAILED, "message": "no result"}
            )
    return done, failed


def state_body(params: dict) -> dict:
    return {"format": STATE_FORMAT, "version": FORMAT_VERSION, **params}


def read_state(base: Path) -> dict | None:
    path = base / STATE
    if not path.exists():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError, UnicodeDecodeError):
        found = None
    if not isinstance(found, dict) or found.get("format") != STATE_FORMAT:
        raise api.DomainError(
            f"{path} is not the state file of a tenant export",
            code=errors.SW_ROOM_EXPORT_DIR_IN_USE,
            hint="give a new or empty directory",
        )
    return found


def write_state(base: Path, params: dict) -> None:
    api.atomic_write(base / STATE, api.zipbundle.dumps(state_body(params)) + "\n")


def check_state(base: Path, found: dict, wanted: dict) -> None:
    """A re-run must ask for what the first run did (the export time only when given)."""
    differ = [
        f"{key} {found.get(key)!r} (this run: {wanted[key]!r})"
        for key in sorted(wanted)
        if wanted[key] is not None and found.get(key) != wanted[key]
    ]
    if differ:
        raise api.DomainError(
            f"{base} holds an export with other parameters: " + "; ".join(differ),
            code=errors.SW_ROOM_EXPORT_PARAMS_CHANGED,
            hint=f"run it again with the same parameters, export into a new directory, or "
            f"remove {base} to start afresh",
            details={"found": {k: found.get(k) for k in sorted(wanted)}},
        )


# -- the directory --------------------------------------------------------------------------------


def strangers(base: Path, allowed_rooms: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(files that are not part of an export, partial files of an interrupted write) in DIR,
    as paths relative to DIR. ``allowed_rooms``: the bundle names that belong (None: any
    ``rooms/*.zip`` of a safe name)."""
    top = {STATE, MANIFEST, INTEGRITY}
    others, partials = [], []
    for entry in sorted(os.listdir(base)):
        full = base / entry
        if entry == ROOMS and full.is_dir() and not full.is_symlink():
            for name in sorted(os.listdir(full)):
                kind = _kind(full / name, name, allowed_rooms, rooms=True)
                if kind == "partial":
                    partials.append(f"{ROOMS}/{name}")
                elif kind != "ours":
                    others.append(f"{ROOMS}/{name}")
            continue
        kind = _kind(full, entry, top, rooms=False)
        if kind == "partial":
            partials.append(entry)
        elif kind != "ours":
            others.append(entry)
    return others, partials


def _kind(full: Path, name: str, allowed, *, rooms: bool) -> str:
    if full.is_symlink() or not full.is_file():
        return "other"
    if _is_ours(name, allowed, rooms):
        return "ours"
    partial = PARTIAL.match(name)
    if partial and _is_ours(partial["name"], allowed, rooms):
        return "partial"
    return "other"


def is_bundle_name(name: str) -> bool:
    """``<room id>.zip`` of a safe room id: a file name export-all writes into rooms/."""
    return name.endswith(".zip") and room_file(name[:-4]) == f"{ROOMS}/{name}"


def _is_ours(name: str, allowed, rooms: bool) -> bool:
    if allowed is not None:
        return name in allowed
    return rooms and is_bundle_name(name)


def remove_partials(base: Path, partials: list[str], say) -> None:
    for rel in partials:
        try:
            os.unlink(base / rel)
        except FileNotFoundError:
            continue
        say(f"removed {base / rel}: a partial file an interrupted run left")


# -- the manifest ---------------------------------------------------------------------------------


def manifest_bytes(params: dict, rooms: list[dict], refused: list[dict]) -> bytes:
    """``tenant-manifest.json``: canonical JSON, rooms and refused rooms ordered by id."""
    rooms = sorted(rooms, key=lambda r: r["id"])
    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": time_text(params["exported_at"]),
        "parameters": {
            "tenant": params["tenant"],
            "tenant_id": params["tenant_id"],
            "states": list(params["states"]),
            "server_name": params["server_name"],
            "exported_at": params["exported_at"],
        },
        "rooms": rooms,
        "refused": sorted(refused, key=lambda r: r["id"]),
        "totals": {
            "rooms": len(rooms),
            "events": sum(r["events"] for r in rooms),
            "media": sum(r["media"] for r in rooms),
            "bytes": sum(r["bytes"] for r in rooms),
        },
    }
    return (api.zipbundle.dumps(body) + "\n").encode("utf-8")


def integrity_bytes(manifest: bytes) -> bytes:
    body = api.zipbundle.integrity_body(
        [{"name": MANIFEST, "size": len(manifest), "sha256": hashlib.sha256(manifest).hexdigest()}],
        format=INTEGRITY_FORMAT,
        version=FORMAT_VERSION,
    )
    return (api.zipbundle.dumps(body) + "\n").encode("utf-8")


def write_manifest(base: Path, manifest: bytes) -> None:
    """The manifest, then its integrity file (a crash in between: verify-all says the integrity
    file is missing, and a re-run writes both)."""
    api.atomic_write(base / MANIFEST, manifest)
    api.atomic_write(base / INTEGRITY, integrity_bytes(manifest))


def remove_manifest(base: Path) -> None:
    """Before a run changes anything in DIR: a manifest only ever describes a finished run."""
    for name in (INTEGRITY, MANIFEST):
        try:
            os.unlink(base / name)
        except FileNotFoundError:
            pass


def read_manifest(base) -> dict:
    """The manifest of the export in ``base``, checked against its integrity file and for its
    shape; ``SW_ROOM_EXPORT_INVALID`` (exit 1) naming what is wrong."""
    base = Path(base)
    if not base.is_dir():
        raise invalid(f"{base} is not a directory")
    missing = [n for n in (MANIFEST, INTEGRITY) if not (base / n).is_file()]
    if missing:
        raise invalid(
            f"{base} holds no complete export: {' and '.join(missing)} missing (an export-all "
            "that did not finish?)",
            [{"file": n, "problem": "missing"} for n in missing],
        )
    if (base / MANIFEST).stat().st_size > MAX_MANIFEST_BYTES:
        raise invalid(f"{MANIFEST} is over {MAX_MANIFEST_BYTES} bytes")
    data = (base / MANIFEST).read_bytes()
    try:
        integrity = json.loads((base / INTEGRITY).read_bytes()[: 1 << 20])
        entries = integrity["entries"]
        ok = (
            integrity.get("format") == INTEGRITY_FORMAT
            and len(entries) == 1
            and entries[0]["name"] == MANIFEST
            and entries[0]["size"] == len(data)
            and entries[0]["sha256"] == hashlib.sha256(data).hexdigest()
        )
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise invalid(
            f"{MANIFEST} does not match {INTEGRITY} (changed, or one of them damaged)",
            [{"file": MANIFEST, "problem": f"does not match {INTEGRITY}"}],
        )
    try:
        manifest = json.loads(data)
        _check_shape(manifest)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise invalid(f"{MANIFEST} is not a tenant export manifest: {exc}") from None
    return manifest


def _check_shape(manifest: dict) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format {manifest.get('format')!r} {manifest.get('format_version')!r}")
    seen = set()
    for room in manifest["rooms"]:
        rid, name = room["id"], room["file"]
        if not isinstance(rid, str) or room_file(rid) != name or rid in seen:
            raise ValueError(f"room {rid!r}: file {name!r}")
        seen.add(rid)
        if not isinstance(room["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", room["sha256"]):
            raise ValueError(f"room {rid!r}: sha256")
        for key in ("bytes", "events", "media"):
            if not isinstance(room[key], int) or room[key] < 0:
                raise ValueError(f"room {rid!r}: {key}")
    if not isinstance(manifest["parameters"]["exported_at"], int):
        raise ValueError("parameters.exported_at")
