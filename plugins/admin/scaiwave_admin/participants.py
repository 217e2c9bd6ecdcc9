"""`scaiwave admin` commands: participants (``list-participants``, ``show-participant``).

Participants come from ScaiKey (`scaiwave sync`); no command creates one by hand. These commands
find them, e.g. the ``--as`` participant that `scaiwave room import` needs. Thin: the work is in
``usecases.participants`` (SQL in ``adapters/directory.py``), imported inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_admin.values import KINDS
from scaiwave_cli import api

__all__ = ["COMMANDS", "KINDS"]

PARTICIPANT_COLUMNS = [
    "id",
    "display_name",
    "email",
    "kind",
    "scaikey_user_id",
    "active",
    "last_synced_at",
]


@click.command(name="list-participants")
@options.tenant_option()
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(KINDS),
    multiple=True,
    help="Only participants of this kind (repeatable).",
)
@click.option(
    "--active/--inactive",
    "active",
    default=None,
    help="Only active (or only deactivated) participants [default: both].",
)
@click.option(
    "--search",
    metavar="TEXT",
    help="Only participants whose display name or e-mail contains TEXT (case-insensitive).",
)
@api.pass_app
def list_participants(app, tenant_ref, kinds, active, search):
    """List a tenant's participants, streamed.

    Columns: id, display name, e-mail, kind, ScaiKey user id, active, last synced. Sorted by
    display name. Rows are read and written one batch at a time, so jsonl/csv output stays flat
    in memory for any number of participants.

    \b
    Example: scaiwave admin list-participants --tenant acme --kind human --search ada
    """
    from scaiwave_admin.usecases import participants

    actor = app.actor
    listing = participants.listing(
        app.store, actor, tenant_ref, kinds=kinds, active=active, search=search
    )
    with listing as rows:
        app.out.rows(rows, PARTICIPANT_COLUMNS)


@click.command(name="show-participant")
@click.argument("ref", metavar="ID_OR_EMAIL")
@options.tenant_option()
@api.pass_app
def show_participant(app, ref, tenant_ref):
    """Show a participant: roles, rooms, rights.

    Its workspace roles, role assignments, room memberships, and where it may create rooms.
    ID_OR_EMAIL is the participant's id, its e-mail address (case-insensitive) or its FQID
    (@local:server). "May create rooms" is the core's permission check for create_note, the
    permission `scaiwave room import --as` needs.

    \b
    Example: scaiwave admin show-participant ada@acme.test --tenant acme --output json
    """
    from scaiwave_admin.usecases import participants

    actor = app.actor
    details = participants.details(app.store, actor, tenant_ref, ref)
    if app.out.format != "table":
        app.out.record(details)
        return
    _print_table(app.out, details)


def _print_table(out, details: dict) -> None:
    """The human form: the participant's fields, then one small table per section."""
    sections = {
        "workspaces": (["workspace", "name", "kind", "role"], "Workspaces (membership role)"),
        "roles": (["role", "scope", "workspace"], "Role assignments"),
        "rooms": (
            ["room_id", "name", "type", "state", "workspace", "power_level", "membership"],
            "Rooms",
        ),
    }
    out.record({k: v for k, v in details.items() if k not in (*sections, "may_create_rooms")})
    for key, (columns, title) in sections.items():
        out.text("")
        if details[key]:
            out.rows(details[key], columns, title=title)
        else:
            out.text(f"{title}: none")
    may = details["may_create_rooms"]
    out.text("")
    if may["every_workspace"]:
        out.text(f"May create rooms in every workspace of the tenant ({may['tenant_reason']}).")
    elif any(w["allowed"] for w in may["workspaces"]):
        out.text(f"May create rooms where allowed below (tenant scope: {may['tenant_reason']}).")
    else:
        out.text(f"May create rooms nowhere (tenant scope: {may['tenant_reason']}).")
    if may["workspaces"]:
        out.rows(may["workspaces"], ["workspace", "allowed", "reason"])


COMMANDS = [list_participants, show_participant]
