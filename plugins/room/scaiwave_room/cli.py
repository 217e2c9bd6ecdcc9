"""The `scaiwave room` group. Imports only click and the core's light API; commands import
their heavy modules when they run."""

from __future__ import annotations

import click

from scaiwave_room import browse, transfer

REQUIRES_API = "1.0"


@click.group(name="room")
def room():
    """Room export and import as verified ZIP bundles.

    Example: scaiwave room export room-01H… --tenant acme > room.zip
    """


room.add_command(transfer.export_cmd)
room.add_command(transfer.import_cmd)
room.add_command(transfer.verify_cmd)
room.add_command(browse.list_cmd)
room.add_command(browse.show_cmd)
