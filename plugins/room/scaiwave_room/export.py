"""`scaiwave room export`: a room as a ZIP bundle, to stdout or a file."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.options import tenant_option, via_option


@click.command(name="export")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@click.option(
    "--to",
    "to_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the bundle to FILE instead of stdout (mode 0600; written whole, then renamed).",
)
@click.option("--sign", is_flag=True, help="Sign integrity.json with the server's federation key.")
@click.option(
    "--server-name",
    metavar="NAME",
    help="The server the bundle names as its source, overriding SCAIWAVE_SERVER_NAME (--sign "
    "needs one: SCAIWAVE_SERVER_NAME unset or localhost exits 2).",
)
@via_option("Database or HTTP API.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Events read per database round trip.",
)
@api.pass_app
def export_cmd(app, room_id, tenant, to_file, sign, server_name, via, batch_size):
    """Export a room as a ZIP bundle to stdout or --to FILE.

    Example: scaiwave room export room-123 --tenant acme > room.zip

    The bytes are deterministic: the same room exports to the same bundle
    (set SOURCE_DATE_EPOCH to fix the export's own timestamp). Sidekick, bridge,
    incognito and federated rooms are refused (SW_ROOM_EXPORT_REFUSED).
    """
    if to_file is None and api.stdout_is_terminal():
        raise api.ConfigError(
            "refusing to write a binary ZIP bundle to the terminal",
            code=errors.SW_OUTPUT_IS_TERMINAL,
            hint="redirect it (`> room.zip`) or write a file with --to room.zip",
        )
    from scaiwave_room.usecases.export import export_room

    summary = export_room(
        app,
        room_id=room_id,
        tenant=tenant,
        to_file=to_file,
        sign=sign,
        server_name=server_name,
        via=via,
        batch_size=batch_size,
    )
    if to_file is not None:
        summary["file"] = to_file
        app.out.record(summary)
    else:
        app.out.info(
            f"exported room {summary['room_id']}: {summary.get('events', '?')} events, "
            f"{summary.get('media', '?')} media, {summary['bytes']} bytes"
        )
