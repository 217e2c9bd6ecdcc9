"""The `scaiwave room` group. Imports only click, the core's light API and the command modules
(one per command, named after it: `scaiwave room export` -> ``export.py``); each command imports
its use case when it runs. The plugin's own settings are declared here."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room import (
    delete,
    export,
    export_all,
    import_,
    import_all,
    list_,
    move,
    purge,
    show,
    state,
    verify,
    verify_all,
)

REQUIRES_API = "1.3"


def _positive_int(text: str) -> int:
    """An integer above 0 (``16_000_000`` is fine)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"must be positive, got {text!r}")
    return value


# Caps for untrusted bundles (``bundle.limits.Limits`` reads them; same defaults there).
for _name, _default, _help in (
    ("SCAIWAVE_ROOM_MAX_BUNDLE_BYTES", 16 << 30, "largest bundle file / spooled stdin, bytes"),
    ("SCAIWAVE_ROOM_MAX_UNCOMPRESSED_BYTES", 32 << 30, "total declared uncompressed size, bytes"),
    ("SCAIWAVE_ROOM_MAX_RATIO", 200, "uncompressed/compressed cap (zip bombs)"),
    ("SCAIWAVE_ROOM_MAX_ENTRIES", 100_000, "ZIP entries in one bundle"),
    ("SCAIWAVE_ROOM_MAX_INTEGRITY_BYTES", 64 << 20, "size of integrity.json, bytes"),
    ("SCAIWAVE_ROOM_MAX_EVENTS", 20_000_000, "events in one manifest"),
    ("SCAIWAVE_ROOM_MAX_CONTENT_BYTES", 64 * 1024, "one event's content, bytes"),
    ("SCAIWAVE_ROOM_MAX_JSON_DEPTH", 64, "nesting of one event's content"),
):
    api.declare_setting(
        _name, type=_positive_int, default=_default, help=_help, owner="scaiwave-room"
    )


@click.group(name="room")
def room():
    """Rooms: verified ZIP bundles, states, move, delete and retention.

    Bundles: export, import, verify; a whole tenant: export-all, verify-all, import-all
    (fanned out over --workers or a --queue). Life: archive, restore, close, move, delete
    (after a verified backup), purge (retention). Look: list, show.

    Example: scaiwave room export room-123 --tenant acme > room.zip
    """


room.add_command(export.export_cmd)
room.add_command(import_.import_cmd)
room.add_command(verify.verify_cmd)
room.add_command(export_all.export_all_cmd)
room.add_command(verify_all.verify_all_cmd)
room.add_command(import_all.import_all_cmd)
room.add_command(list_.list_cmd)
room.add_command(show.show_cmd)
room.add_command(delete.delete_cmd)
room.add_command(purge.purge_cmd)
room.add_command(state.archive_cmd)
room.add_command(state.restore_cmd)
room.add_command(state.close_cmd)
room.add_command(move.move_cmd)
