"""`scaiwave room verify-all`: a whole tenant export checked (no database)."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import queue_option, workers_option


@click.command(name="verify-all")
@click.argument("from_dir", metavar="DIR", type=click.Path(file_okay=False))
@workers_option()
@queue_option()
@api.pass_app
def verify_all_cmd(app, from_dir, workers, queue):
    """Check a tenant export: its manifest, every bundle, nothing missing or extra.

    Example: scaiwave room verify-all acme-export --workers 2

    tenant-manifest.json must match tenant-manifest.integrity.json; every bundle it lists
    must be there with the size and sha256 it names and pass `room verify`'s full check
    (and name the room and export time the manifest names); DIR must hold nothing else.
    Exit 0 when all of it holds, 1 (SW_ROOM_EXPORT_INVALID) listing every problem.
    Needs no database.
    """
    from scaiwave_room.usecases.verify_all import verify_all

    summary, error = verify_all(app, from_dir=from_dir, workers=workers, queue=queue)
    app.out.record(summary)
    if error is not None:
        raise error
