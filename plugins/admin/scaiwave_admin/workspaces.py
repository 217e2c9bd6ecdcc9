"""`scaiwave admin` commands: workspaces (``list-workspaces``, ``create-workspace``).

Thin: the work is in ``usecases.workspaces`` (SQL in ``adapters/directory.py``), imported
inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_cli import api

TABLE_COLUMNS = ["slug", "name", "kind", "owners", "members", "rooms"]


def _owner_names(owners) -> str:
    names = []
    for owner in owners or ():
        name = owner.get("display_name") or owner["id"]
        names.append(name if owner.get("active", True) else f"{name} (inactive)")
    return ", ".join(names)


@click.command(name="list-workspaces")
@options.tenant_option()
@click.option(
    "--member",
    metavar="PARTICIPANT",
    help="Only workspaces this participant (id or e-mail) is a member of; adds its role.",
)
@api.pass_app
def list_workspaces(app, tenant_ref, member):
    """List a tenant's workspaces and their owners.

    Columns: slug, name, kind, owners, member count, room count. Kind is personal (one per
    human, made by the ScaiKey sync) or shared. Streamed, one SQL statement however many
    workspaces there are.

    \b
    Example: scaiwave admin list-workspaces --tenant acme --member ada@acme.test
    """
    from scaiwave_admin.usecases import workspaces

    actor = app.actor
    with workspaces.listing(app.store, actor, tenant_ref, member=member) as rows:
        columns = TABLE_COLUMNS + (["member_role"] if member else [])
        if app.out.format == "csv":
            columns = columns + ["id", "description", "created_at"]
        app.out.rows(rows, columns, table_formatters={"owners": _owner_names})


@click.command(name="create-workspace")
@options.tenant_option()
@options.new_slug_option("Workspace slug, unique in the tenant.")
@options.display_name_option()
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="PARTICIPANT",
    help="Owner: an active human participant of the tenant, by id or e-mail. Required; repeatable.",
)
@click.option("--description", help="Optional description.")
@api.pass_app
def create_workspace(app, tenant_ref, slug, name, owners, description):
    """Create a shared workspace with its owners.

    Audited. Re-running with the same slug, name and owners (and description, when given) reports
    "unchanged" and exits 0; a slug already used differently exits 1 (SW_WORKSPACE_SLUG_TAKEN).

    \b
    Example: scaiwave admin create-workspace --tenant acme --slug lab --name Lab --owner prt-ada
    """
    from scaiwave_admin.usecases import workspaces

    new = workspaces.check_new(slug, name, description, owners)
    actor = app.actor
    result = workspaces.create(app.store, actor, tenant_ref, new, log=app.log)
    if app.out.format == "table":
        result = dict(result, owners=_owner_names(result["owners"]))
    app.out.record(result)


COMMANDS = [list_workspaces, create_workspace]
