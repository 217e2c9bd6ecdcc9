"""`scaiwave room archive|restore|close`: a room's state (open <-> archived; closed for good)."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_room.options import tenant_option

AS_HELP = (
    "Act as this participant (id, e-mail or FQID of the tenant), who must hold the right in "
    "the room's workspace; default: the admin token (or local operator) within its scope."
)


def _as_option():
    return click.option("--as", "as_participant", metavar="PARTICIPANT", help=AS_HELP)


def _run(app, action, room_id, tenant, as_participant, *, dry_run=False, yes=False):
    from scaiwave_room.usecases.lifecycle import change_state

    app.out.record(
        change_state(
            app,
            action=action,
            room_id=room_id,
            tenant=tenant,
            as_participant=as_participant,
            dry_run=dry_run,
            yes=yes,
        )
    )


@click.command(name="archive")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@_as_option()
@api.pass_app
def archive_cmd(app, room_id, tenant, as_participant):
    """Archive a room (open -> archived: frozen, restorable).

    Example: scaiwave room archive room-123 --tenant acme

    An archived room keeps its events and members, is frozen (not moved; SW_ROOM_FROZEN)
    and can be restored or exported. Archiving an archived room is "unchanged" (exit 0);
    a closed room is refused (SW_ROOM_CLOSED, exit 1). --as needs room.archive in the
    room's workspace. Audited.
    """
    _run(app, "archive", room_id, tenant, as_participant)


@click.command(name="restore")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@_as_option()
@api.pass_app
def restore_cmd(app, room_id, tenant, as_participant):
    """Restore an archived room (archived -> open).

    Example: scaiwave room restore room-123 --tenant acme

    Restoring an open room is "unchanged" (exit 0); a closed room is never restored
    (SW_ROOM_CLOSED, exit 1). --as needs room.archive in the room's workspace. Audited.
    """
    _run(app, "restore", room_id, tenant, as_participant)


@click.command(name="close")
@click.argument("room_id")
@tenant_option("Tenant slug that owns the room.")
@_as_option()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@api.yes_option
@api.pass_app
def close_cmd(app, room_id, tenant, as_participant, dry_run, yes):
    """Close a room for good (open or archived -> closed), after a plan and a confirmation.

    Example: scaiwave room close room-123 --tenant acme --dry-run

    Closed is terminal: never restored or archived again (SW_ROOM_CLOSED), never moved
    (SW_ROOM_FROZEN); events and members stay and the room can still be exported. The
    plan goes to stderr; without a terminal --yes is required (exit 2 otherwise). Closing
    a closed room is "unchanged" (exit 0). --as needs room.close in the room's workspace,
    or to be the room's creator or a member at power level 100. Audited.
    """
    _run(app, "close", room_id, tenant, as_participant, dry_run=dry_run, yes=yes)
