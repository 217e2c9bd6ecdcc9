"""One participant's data as a ZIP (`admin export-participant`), a tenant's people as a ZIP (the
backup of `delete-tenant`), and the check of either (`admin verify-export`).

Interfaces other commands use (issue 16, SPEC16): ``export_to_file``, ``tenant_people_to_file``
and ``verify_file``. Both exports are deterministic (the same rows give the same bytes: no
export time inside, entries in a fixed order, canonical JSON, ``api.zipbundle``'s fixed ZIP
timestamps), written atomically with mode 0600, streamed (events and media in batches, lines
written 64 KiB at a time: memory stays flat whatever the person's history), and verified once
written (``export_check``). The participant export's entries, in this order::

    profile.json        {"format", "format_version", "tenant": {...}, "participant": {...}}
    memberships.json    {"workspaces": [... role], "rooms": [... membership, power_level]}
    roles.json          {"roles": [... role, scope, workspace]}
    events.jsonl        one event per line, by stream position, each with its room_id
    rooms.json          {"rooms": [every room named above: id, name, workspace, type, state]}
    media.json          {"media": [every upload: id, sha256, name, size, ..., file]}
    media/<sha256>/<name>   the uploaded bytes, once per content, by sha256
    integrity.json      size and sha256 of every entry above

Events and media the person brought in with `room import` but others wrote (content with an
``_imported_sender`` block) are not theirs and are left out (``imported_skipped`` counts them).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile

from scaiwave_admin.adapters import participant_export as db
from scaiwave_admin.usecases import export_check
from scaiwave_admin.usecases.export_check import (
    FORMAT,
    FORMAT_VERSION,
    INTEGRITY_FORMAT,
    PEOPLE_INTEGRITY_FORMAT,
)
from scaiwave_cli import api

FLUSH_AT = 1 << 16
IMPORTED = "_imported_sender"

__all__ = [
    "export_participant",
    "export_to_file",
    "tenant_people_to_file",
    "verify_file",
]


def verify_file(path) -> dict:
    """Check a participant export or a tenant people export; ``api.DomainError`` (exit 1:
    ``SW_ZIP_INVALID`` for the container, ``SW_EXPORT_INVALID`` for the contents) when it is
    not valid. Returns {"file", "format", "entries", "events", "media", "participants",
    "valid": True, ...}."""
    return export_check.verify_file(path)


# -- the command ---------------------------------------------------------------------------------


def export_participant(store, actor, tenant_ref, ref, *, to_file=None, out=None, warn=None):
    """`admin export-participant`: find the tenant (scoped to ``actor``) and the participant,
    write the export to ``to_file`` or, verified first in a private temporary file, to the
    binary stream ``out``; record an audit row ``participant.export`` (counts only)."""
    with store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=actor)
        participant = api.find_participant(session, tenant, ref)
        tenant_id, slug, participant_id = tenant.id, tenant.slug, participant.id
    with api.progress(f"exporting participant {participant_id}", unit="events") as bar:
        if to_file is not None:
            summary = export_to_file(store, tenant_id, participant_id, to_file, progress=bar)
        else:
            summary = _export_to_stream(store, tenant_id, participant_id, out, bar)
    summary.update(tenant=slug, participant_id=participant_id)
    _audit(store, actor, tenant_id, participant_id, summary, warn)
    return summary


def _export_to_stream(store, tenant_id, participant_id, out, bar) -> dict:
    """Write and verify in a temporary file only this user can read, then copy it to ``out``:
    a failure leaves ``out`` empty, never half an export."""
    directory = tempfile.mkdtemp(prefix="scaiwave-export-")
    try:
        path = os.path.join(directory, "participant.zip")
        summary = export_to_file(store, tenant_id, participant_id, path, progress=bar)
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, out, FLUSH_AT)
        out.flush()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    summary["file"] = None
    return summary


def _audit(store, actor, tenant_id, participant_id, summary, warn) -> None:
    details = {
        k: summary.get(k)
        for k in ("events", "media", "rooms", "bytes", "sha256", "integrity_sha256")
    }
    try:
        with store.transaction() as session:
            api.audit.record(
                session,
                actor,
                "participant.export",
                f"participant:{participant_id}",
                tenant_id=tenant_id,
                details=details,
            )
    except Exception as exc:  # a read-only database must not fail a finished export
        if warn is not None:
            warn(f"the export finished but its audit row could not be written: {exc}")


# -- writing -------------------------------------------------------------------------------------


class _Digest:
    """The output file, hashed and counted as it is written."""

    def __init__(self, raw):
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _to_file(path, write) -> tuple[dict, _Digest]:
    """Run ``write(out)`` into ``path`` atomically (mode 0600); then verify the file, removing
    it if it does not verify."""
    with api.atomic_writer(path, mode=0o600) as fh:
        out = _Digest(fh)
        summary = write(out)
    try:
        checked = verify_file(path)
        export_check.agree(checked, summary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    summary.update(file=os.fspath(path), bytes=out.size, sha256=out.hexdigest())
    return summary, checked


def export_to_file(store, tenant_id: str, participant_id: str, path, *, progress=None) -> dict:
    """Write the participant export ZIP to ``path`` (atomically, mode 0600) and verify it.

    Returns {"file", "bytes", "sha256", "events", "media", "media_files", "rooms",
    "imported_skipped", "integrity_sha256"}. ``SW_TENANT_NOT_FOUND`` /
    ``SW_PARTICIPANT_NOT_FOUND`` when the ids do not name a participant of the tenant,
    ``SW_MEDIA_MISSING`` before anything is written when an uploaded file is not in the media
    store, ``SW_MEDIA_CORRUPT`` when one does not match its sha256."""

    def write(out):
        with store.read_session() as session:
            return _write_participant(
                session, store.media, tenant_id, participant_id, out, progress
            )

    summary, _ = _to_file(path, write)
    return summary


def tenant_people_to_file(store, tenant_id: str, path, *, progress=None) -> dict:
    """Write every participant of the tenant (profiles, workspace memberships, room
    memberships, role assignments; no events: the room bundles hold them) to ``path`` as one
    ZIP (format ``scaiwave.people-export``), verified. Returns {"file", "bytes", "sha256",
    "participants", "integrity_sha256"}."""

    def write(out):
        with store.read_session() as session:
            _tenant(session, tenant_id)
            return _write_people(session, tenant_id, out, progress)

    summary, _ = _to_file(path, write)
    return summary


def _tenant(session, tenant_id):
    tenant = db.tenant_row(session, tenant_id)
    if tenant is None:
        raise api.NotFoundError(
            f"tenant {tenant_id!r} not found", code=api.errors.SW_TENANT_NOT_FOUND
        )
    return tenant


class _Lines:
    """One entry written as lines, 64 KiB at a time."""

    def __init__(self, entry):
        self.entry = entry
        self.parts: list[str] = []
        self.size = 0
        self.count = 0

    def add(self, text: str) -> bool:
        self.parts.append(text)
        self.size += len(text)
        self.count += 1
        if self.size < FLUSH_AT:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        if self.parts:
            self.entry.write("".join(self.parts))
            self.parts.clear()
            self.size = 0


class _Bar:
    """Advances an ``api.progress`` bar by items and output bytes since the last call."""

    def __init__(self, bar, writer):
        self.bar, self.writer = bar, writer
        self.items = self.bytes = 0

    def __call__(self, items: int) -> None:
        if self.bar is None:
            return
        written = self.writer.bytes_written
        self.bar.advance(items - self.items, nbytes=written - self.bytes)
        self.items, self.bytes = items, written


def _write_participant(session, media_store, tenant_id, participant_id, out, bar) -> dict:
    from scaiwave_admin.usecases import export_records as rec

    tenant = _tenant(session, tenant_id)
    row = db.participant_row(session, tenant_id, participant_id)
    if row is None:
        raise api.NotFoundError(
            f"participant {participant_id!r} not found in tenant {tenant.slug!r}",
            code=api.errors.SW_PARTICIPANT_NOT_FOUND,
        )
    workspaces = db.workspace_memberships(session, tenant_id, participant_id)
    memberships = db.room_memberships(session, tenant_id, participant_id)
    roles = db.role_assignments(session, tenant_id, participant_id)
    plan = _media_plan(session, media_store, tenant_id, participant_id)
    if bar is not None and hasattr(bar, "set_total"):
        bar.set_total(db.event_count(session, tenant_id, participant_id))
    writer = api.zipbundle.ZipWriter(out, integrity_format=INTEGRITY_FORMAT)
    dumps = api.zipbundle.dumps
    try:
        profile = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.name},
            "participant": rec.profile(row),
        }
        writer.write_entry("profile.json", [dumps(profile)])
        writer.write_entry("memberships.json", [dumps(rec.memberships(workspaces, memberships))])
        writer.write_entry("roles.json", [dumps({"roles": [rec.role(r) for r in roles]})])
        room_ids = {m.room_id for m in memberships} | plan["rooms"]
        progress = _Bar(bar, writer)
        events, skipped = _write_events(
            writer, session, tenant_id, participant_id, room_ids, progress
        )
        rooms = db.rooms(session, tenant_id, room_ids)
        writer.write_entry("rooms.json", [dumps({"rooms": [rec.room(r) for r in rooms]})])
        files = _write_media(writer, session, media_store, tenant_id, participant_id)
        body = writer.finish()
    except BaseException:
        writer.abort()
        raise
    progress(events)
    return {
        "events": events,
        "media": plan["uploads"],
        "media_files": files,
        "rooms": len(rooms),
        "imported_skipped": skipped + plan["imported"],
        "integrity_sha256": hashlib.sha256(dumps(body).encode()).hexdigest(),
    }


def _is_imported(content) -> bool:
    return isinstance(content, dict) and IMPORTED in content


def _media_plan(session, media_store, tenant_id, participant_id) -> dict:
    """Before anything is written: the person's uploads (count, rooms) and every file present
    in the media store (``SW_MEDIA_MISSING`` otherwise)."""
    uploads = imported = 0
    rooms: set[str] = set()
    last_sha = None
    for batch in db.media_batches(session, tenant_id, participant_id):
        for sha, _id, name, _size, _type, room_id, _event, _at, content in batch:
            if _is_imported(content):
                imported += 1
                continue
            uploads += 1
            if room_id is not None:
                rooms.add(room_id)
            if sha != last_sha and not media_store.exists(tenant_id, sha):
                raise api.DomainError(
                    f"media {sha} ({name!r}) uploaded by {participant_id} is missing from the "
                    "media store; nothing was written",
                    code=api.errors.SW_MEDIA_MISSING,
                    hint="restore the media store (SCAIWAVE_MEDIA_DIR) before exporting",
                )
            last_sha = sha
    return {"uploads": uploads, "imported": imported, "rooms": rooms}


def _write_events(writer, session, tenant_id, participant_id, room_ids, progress):
    from scaiwave_admin.usecases.export_records import event

    dumps = api.zipbundle.dumps
    skipped = 0
    with writer.open_entry("events.jsonl") as entry:
        lines = _Lines(entry)
        for batch in db.event_batches(session, tenant_id, participant_id):
            for row in batch:
                if _is_imported(row[4]):
                    skipped += 1
                    continue
                room_ids.add(row[2])
                if lines.add(dumps(event(row)) + "\n"):
                    progress(lines.count)
        lines.flush()
    return lines.count, skipped


def _uploads(session, tenant_id, participant_id):
    """The person's own uploads by (sha256, id), each with the entry name of its file (the
    first upload of a content names it)."""
    last_sha = file_name = None
    for batch in db.media_batches(session, tenant_id, participant_id):
        for row in batch:
            if _is_imported(row[-1]):
                continue
            sha = row[0]
            if sha != last_sha:
                safe = api.zipbundle.safe_file_name(row[2], sha[:16])
                file_name = f"media/{sha}/{safe}"
                last_sha = sha
            yield row, file_name


def _write_media(writer, session, media_store, tenant_id, participant_id) -> int:
    from scaiwave_admin.usecases.export_records import upload

    dumps = api.zipbundle.dumps
    files = []
    with writer.open_entry("media.json") as entry:
        lines = _Lines(entry)
        lines.add('{"media":[')
        first = True
        for row, file_name in _uploads(session, tenant_id, participant_id):
            lines.add(("" if first else ",") + dumps(upload(row, file_name)))
            first = False
            if not files or files[-1][0] != row[0]:
                files.append((row[0], file_name, row[3]))
        lines.add("]}")
        lines.flush()
    for sha, file_name, size in files:
        _write_file(writer, media_store, tenant_id, sha, file_name, size)
    return len(files)


def _write_file(writer, media_store, tenant_id, sha, file_name, size) -> None:
    digest = hashlib.sha256()
    with writer.open_entry(file_name, compress=False, size=size) as entry:
        for chunk in media_store.open_verified(tenant_id, sha):
            digest.update(chunk)
            entry.write(chunk)
        written = entry.size
    if digest.hexdigest() != sha or written != size:
        raise api.DomainError(
            f"media {sha} in the media store has {written} bytes hashing to "
            f"{digest.hexdigest()}; its media row says {size} bytes, {sha}",
            code=api.errors.SW_MEDIA_CORRUPT,
            hint="the media store file or its row was changed or damaged; restore it",
        )


def _write_people(session, tenant_id, out, bar) -> dict:
    from scaiwave_admin.usecases.export_records import PEOPLE_RECORDS

    dumps = api.zipbundle.dumps
    writer = api.zipbundle.ZipWriter(out, integrity_format=PEOPLE_INTEGRITY_FORMAT)
    progress = _Bar(bar, writer)
    counts = {}
    try:
        for name, stmt in db.people_statements(tenant_id).items():
            record = PEOPLE_RECORDS[name]
            with writer.open_entry(name) as entry:
                lines = _Lines(entry)
                for row in db.stream(session, stmt):
                    if lines.add(dumps(record(row)) + "\n") and name == "participants.jsonl":
                        progress(lines.count)
                lines.flush()
            counts[name] = lines.count
        body = writer.finish()
    except BaseException:
        writer.abort()
        raise
    progress(counts["participants.jsonl"])
    return {
        "participants": counts["participants.jsonl"],
        "workspace_members": counts["workspace_members.jsonl"],
        "room_members": counts["room_members.jsonl"],
        "role_assignments": counts["role_assignments.jsonl"],
        "integrity_sha256": hashlib.sha256(dumps(body).encode()).hexdigest(),
    }
