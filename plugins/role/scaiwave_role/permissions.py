"""`scaiwave role permissions add|remove|reset`.

Light module (imported to build ``--help``): the work is ``scaiwave_role.usecases.permissions``,
imported when a command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_role.options import TENANT_HELP, print_role, tenant_option


@click.group(name="permissions")
def permissions():
    """Change the permissions of a role: add, remove, or reset a built-in to its shipped set.

    Example: scaiwave role permissions add moderator room.kick room.ban --tenant acme
    """


def _change(app, op, role_name, names, tenant_slug) -> None:
    from scaiwave_role.usecases import permissions as usecase

    print_role(app, usecase.change_permissions(app, op, role_name, names, tenant_slug))


@permissions.command(name="add")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@tenant_option(TENANT_HELP)
@api.pass_app
def permissions_add(app, role_name, names, tenant_slug):
    """Grant permissions to a role (unknown names exit 1 with close matches).

    Built-in roles are global: changing one needs platform scope (no tenant_admin token).

    Example: scaiwave role permissions add moderator room.kick --tenant acme
    """
    _change(app, "add", role_name, names, tenant_slug)


@permissions.command(name="remove")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@tenant_option(TENANT_HELP)
@api.pass_app
def permissions_remove(app, role_name, names, tenant_slug):
    """Take permissions away from a role.

    Example: scaiwave role permissions remove moderator room.ban --tenant acme
    """
    _change(app, "remove", role_name, names, tenant_slug)


@permissions.command(name="reset")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="[PERMISSION...]", nargs=-1)
@tenant_option(TENANT_HELP)
@api.pass_app
def permissions_reset(app, role_name, names, tenant_slug):
    """Restore a built-in role's shipped permissions (all, or only the ones named).

    Built-in roles are global: this needs platform scope (no tenant_admin token).

    Example: scaiwave role permissions reset editor
    """
    _change(app, "reset", role_name, names, tenant_slug)


COMMANDS = [permissions]
