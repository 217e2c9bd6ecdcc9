"""`scaiwave room import-all`: every bundle of a tenant export, each as a new room."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import queue_option, tenant_option, workers_option

COLUMNS = ["source_room", "result", "room_id", "events", "code"]


@click.command(name="import-all")
@click.argument("from_dir", metavar="DIR", type=click.Path(file_okay=False))
@tenant_option("Tenant slug (or id) to import into.")
@click.option(
    "--workspace", required=True, help="Workspace (slug or id) of the tenant the rooms go to."
)
@click.option(
    "--as",
    "as_participant",
    required=True,
    help="Participant (id or e-mail) who becomes every room's creator (needs create_note in "
    "the workspace).",
)
@workers_option()
@queue_option()
@api.pass_app
def import_all_cmd(app, from_dir, tenant, workspace, as_participant, workers, queue):
    """Import every bundle of a tenant export (`room export-all`) as new rooms.

    Example: scaiwave room import-all acme-export --tenant acme --workspace design --as prt-ada

    The manifest is checked against its integrity file first. Each bundle is imported
    as `room import` does (all or nothing), after its sha256 is checked against the
    manifest. A bundle already imported into the tenant (its audit row names the
    bundle's sha256, and its room is still there) is skipped, so running the command
    again after a failure or an interruption imports only what is missing. Failures exit
    1 (SW_ROOM_IMPORT_INCOMPLETE) naming the source rooms.
    """
    from scaiwave_room.usecases.import_all import import_all

    summary, error = import_all(
        app,
        from_dir=from_dir,
        tenant=tenant,
        workspace=workspace,
        as_participant=as_participant,
        workers=workers,
        queue=queue,
    )
    if app.output_format in ("json", "jsonl"):
        app.out.record(summary)
    else:
        app.out.rows(summary["results"], COLUMNS)
        app.out.info(
            f"{summary['imported']} imported, {summary['skipped']} skipped (imported before), "
            f"{summary['failed']} failed, into {summary['tenant']}/{summary['workspace']}"
        )
    if error is not None:
        raise error
