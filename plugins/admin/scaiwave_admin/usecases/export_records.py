"""The records of the participant and people exports: one function per kind of row (the rows of
``adapters.participant_export``), plain JSON values only (times as ``…Z`` strings), so the same
rows always give the same canonical JSON."""

from __future__ import annotations

from scaiwave_admin.adapters.participant_export import PROFILE_COLUMNS
from scaiwave_cli import api

_time = api.isoformat
_TIMES = frozenset({"deactivated_at", "erased_at", "last_synced_at", "created_at"})
_FLAGS = frozenset({"active", "operator_hold"})


def profile(row) -> dict:
    """A participant (``PROFILE_COLUMNS``): every profile field the store keeps."""
    record = {}
    for name, value in zip(PROFILE_COLUMNS, row, strict=True):
        if name in _TIMES:
            value = _time(value)
        elif name in _FLAGS:
            value = bool(value)
        record[name] = value
    return record


def memberships(workspaces, rooms) -> dict:
    return {
        "workspaces": [
            {
                "workspace_id": ws_id,
                "workspace": slug,
                "name": name,
                "kind": "personal" if personal else "shared",
                "role": role,
                "since": _time(since),
            }
            for ws_id, slug, name, personal, role, since in workspaces
        ],
        "rooms": [
            {
                "room_id": room_id,
                "membership": membership,
                "power_level": power_level,
                "joined_at": _time(joined_at),
            }
            for room_id, membership, power_level, joined_at in rooms
        ],
    }


def role(row) -> dict:
    name, builtin, level, workspace_id, slug, created_at, created_by = row
    return {
        "role": name,
        "builtin": bool(builtin),
        "level": level,
        "scope": "tenant" if workspace_id is None else "workspace",
        "workspace_id": workspace_id,
        "workspace": slug,
        "created_at": _time(created_at),
        "created_by": created_by,
    }


def event(row) -> dict:
    """An event the person sent (``EVENT_COLUMNS``), with the room it belongs to."""
    (
        position,
        event_id,
        room_id,
        event_type,
        content,
        original,
        origin_ts,
        created_at,
        edited_at,
        redacted_at,
        relation_type,
        relates_to_id,
    ) = row
    return {
        "id": event_id,
        "room_id": room_id,
        "stream_position": position,
        "type": event_type,
        "origin_ts": origin_ts,
        "created_at": _time(created_at),
        "edited_at": _time(edited_at),
        "redacted_at": _time(redacted_at),
        "content": content,
        "original_content": original,
        "relates_to": {"rel_type": relation_type or "relation", "event_id": relates_to_id}
        if relates_to_id
        else None,
    }


def room(row) -> dict:
    room_id, name, workspace, room_type, state = row
    return {"id": room_id, "name": name, "workspace": workspace, "type": room_type, "state": state}


def upload(row, file_name: str) -> dict:
    """A media row the person uploaded (``MEDIA_COLUMNS``) and the entry holding its bytes."""
    sha, media_id, name, size, content_type, room_id, event_id, created_at = row[:8]
    return {
        "id": media_id,
        "sha256": sha,
        "name": name,
        "size": size,
        "content_type": content_type,
        "room_id": room_id,
        "event_id": event_id,
        "created_at": _time(created_at),
        "file": file_name,
    }


# -- the people export ---------------------------------------------------------------------------


def _workspace_member(row) -> dict:
    participant_id, workspace_id, slug, role_name, since = row
    return {
        "participant_id": participant_id,
        "workspace_id": workspace_id,
        "workspace": slug,
        "role": role_name,
        "since": _time(since),
    }


def _room_member(row) -> dict:
    participant_id, room_id, membership, power_level, joined_at = row
    return {
        "participant_id": participant_id,
        "room_id": room_id,
        "membership": membership,
        "power_level": power_level,
        "joined_at": _time(joined_at),
    }


def _role_assignment(row) -> dict:
    return {"participant_id": row[0], **role(row[1:])}


PEOPLE_RECORDS = {
    "participants.jsonl": profile,
    "workspace_members.jsonl": _workspace_member,
    "room_members.jsonl": _room_member,
    "role_assignments.jsonl": _role_assignment,
}
