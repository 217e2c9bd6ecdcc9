"""`scaiwave room export-all`: every room of a tenant, one bundle each, and a manifest."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import queue_option, tenant_option, workers_option


def _states(ctx, param, value):
    from scaiwave_room.usecases.tenant_manifest import STATES

    states = [s.strip() for s in (value or "").split(",") if s.strip()]
    bad = [s for s in states if s not in STATES]
    if bad or not states:
        raise click.BadParameter(
            f"{', '.join(bad) or 'nothing'}: expected a comma-separated list of "
            f"{', '.join(STATES)} (e.g. --state open,archived)"
        )
    return tuple(dict.fromkeys(states))


@click.command(name="export-all")
@tenant_option("Tenant slug (or id) whose rooms are exported.")
@click.option(
    "--to",
    "to_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for the export: new or empty, or an earlier run's (which is resumed).",
)
@click.option(
    "--state",
    "states",
    default="open,archived",
    show_default=True,
    callback=_states,
    help="The room states exported, comma-separated: open, archived, closed.",
)
@workers_option()
@queue_option()
@api.pass_app
def export_all_cmd(app, tenant, to_dir, states, workers, queue):
    """Export every room of a tenant into DIR, one bundle each, then a manifest.

    Example: scaiwave room export-all --tenant acme --to acme-rooms --workers 2

    DIR gets rooms/<room id>.zip (the bytes `room export --to` writes for the room with
    the same export time), then, only when every bundle verified, tenant-manifest.json
    (each room, its bundle's size and sha256, events, media; the rooms refused and why;
    the parameters) and tenant-manifest.integrity.json. The export time is
    SOURCE_DATE_EPOCH, else the first run's (kept in DIR/export-state.json).

    Interrupted or failed, run the same command again: bundles that verify are kept,
    the rest is exported again. Rooms that still fail exit 1 (SW_ROOM_EXPORT_INCOMPLETE)
    naming them, and no manifest is written. Check an export with `room verify-all`.
    """
    from scaiwave_room.usecases.export_all import export_all

    summary, error = export_all(
        app, tenant=tenant, to_dir=to_dir, states=states, workers=workers, queue=queue
    )
    app.out.record(summary)
    if error is not None:
        raise error
