"""Shared by the export-all / verify-all / import-all tests: a tenant with rooms in every state,
and the three commands as a user types them."""

from __future__ import annotations

import hashlib
import json

from scaiwave_room.testing import sample_room_events

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
EPOCH_TEXT = "2026-01-01T00:00:00.000000Z"


def seed(w) -> dict:
    """acme: room-a (nine events, a media file), room-b (three), room-c (archived), room-d
    (closed), room-e (a sidekick room: refused); globex with an editor (the import target)."""
    w.tenant("acme")
    w.tenant("globex")
    rooms = {
        "a": w.room("acme", room_id="room-a", events=sample_room_events(), name="Alpha"),
        "b": w.room("acme", room_id="room-b", events=[{}, {}, {}], name="Beta"),
        "c": w.room("acme", room_id="room-c", events=[{}, {}], name="Gamma"),
        "d": w.room("acme", room_id="room-d", events=[{}], name="Delta"),
        "e": w.room("acme", room_id="room-e", type="sidekick", events=[{}], name="Helper"),
    }
    set_state(w, "room-c", "archived")
    set_state(w, "room-d", "closed")
    return rooms


def set_state(w, room_id, state):
    from sqlalchemy import update

    with w.store.transaction() as s:
        s.execute(update(w.m.Room).where(w.m.Room.id == room_id).values(state=state))


def export_all(w, to, *extra, env=None, output="json"):
    return w.cli.invoke(
        "--output", output, "room", "export-all", "--tenant", "acme", "--to", str(to), *extra,
        env={"SOURCE_DATE_EPOCH": EPOCH} if env is None else env,
    )  # fmt: skip


def verify_all(w, path, *extra):
    return w.cli.invoke("--output", "json", "room", "verify-all", str(path), *extra)


def import_all(w, path, *extra, tenant="globex", as_="prt-globex", env=None):
    return w.cli.invoke(
        "--output", "json", "room", "import-all", str(path), "--tenant", tenant,
        "--workspace", "general", "--as", as_, *extra, env=env,
    )  # fmt: skip


def error_of(result) -> dict:
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
