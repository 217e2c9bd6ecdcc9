"""`scaiwave role list|show|create|delete` and `scaiwave role permissions add|remove|reset`.

Light module (imported to build ``--help``): the work happens in ``scaiwave_role.ops``.
"""

from __future__ import annotations

import click

from scaiwave_cli import api

_TENANT_HELP = "tenant slug (custom roles belong to one tenant)"


@click.command(name="list")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help="built-ins plus this tenant's roles")
@api.pass_app
def list_roles(app, tenant_slug):
    """List roles: built-in and custom, with permission and holder counts.

    Without --tenant: the built-ins and the custom roles of every tenant you may see; holders
    are counted over those tenants.

    Example: scaiwave role list --tenant acme
    """
    from scaiwave_role import ops

    app.out.rows(ops.list_roles(app, tenant_slug), ops.ROLE_COLUMNS, title="Roles")


@click.command(name="show")
@click.argument("role_name", metavar="ROLE")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help=_TENANT_HELP)
@api.pass_app
def show_role(app, role_name, tenant_slug):
    """Show a role: its permissions, where it may be assigned, and how many hold it.

    A built-in role also shows how its permissions differ from the shipped set. --tenant
    names the tenant of a custom role, and restricts the holder count.

    Example: scaiwave role show editor --tenant acme
    """
    from scaiwave_role import ops

    record = ops.show_role(app, role_name, tenant_slug)
    _print_role(app, record)


def _print_role(app, record: dict) -> None:
    if app.out.format == "table":
        shown = dict(record)
        shown["permissions"] = ", ".join(record["permissions"]) or "(none)"
        for key in ("added", "removed", "granted", "revoked"):
            if key in shown:
                shown[key] = ", ".join(shown[key]) or "-"
        app.out.record(shown, title=f"Role {record['name']}")
    else:
        app.out.record(record)


@click.command(name="create")
@click.argument("role_name", metavar="NAME")
@click.option("--tenant", "tenant_slug", metavar="SLUG", required=True, help=_TENANT_HELP)
@click.option("--from", "from_role", metavar="ROLE", help="copy the permissions of this role")
@click.option(
    "--level",
    type=click.Choice(["tenant", "workspace"]),
    default=None,
    help="where it is assigned: the whole tenant, or one workspace [default: --from's level, "
    "else tenant]",
)
@click.option("--description", default=None, help="one line saying what the role is for")
@api.pass_app
def create_role(app, role_name, tenant_slug, from_role, level, description):
    """Create a custom role in a tenant, empty or copied from another role.

    Re-running for an existing role reports "unchanged" and exits 0.

    Example: scaiwave role create moderator --tenant acme --from editor
    """
    from scaiwave_role import ops

    record = ops.create_role(app, role_name, tenant_slug, from_role, level, description)
    _print_role(app, record)


@click.command(name="delete")
@click.argument("role_name", metavar="NAME")
@click.option("--tenant", "tenant_slug", metavar="SLUG", required=True, help=_TENANT_HELP)
@click.option(
    "--reassign-to",
    "reassign_to",
    metavar="ROLE",
    help="move the role's assignments to this role first (needed while it is assigned)",
)
@api.pass_app
def delete_role(app, role_name, tenant_slug, reassign_to):
    """Delete a custom role; refused while assigned unless --reassign-to is given.

    Built-in roles cannot be deleted. Deleting a role that does not exist reports "unchanged".

    Example: scaiwave role delete moderator --tenant acme --reassign-to editor
    """
    from scaiwave_role import ops

    app.out.record(ops.delete_role(app, role_name, tenant_slug, reassign_to))


@click.group(name="permissions")
def permissions():
    """Change the permissions of a role: add, remove, or reset a built-in to its shipped set.

    Example: scaiwave role permissions add moderator room.kick room.ban --tenant acme
    """


@permissions.command(name="add")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@click.option("--tenant", "tenant_slug", metavar="SLUG", help=_TENANT_HELP)
@api.pass_app
def permissions_add(app, role_name, names, tenant_slug):
    """Grant permissions to a role (unknown names exit 1 with close matches).

    Built-in roles are global: changing one needs platform scope (no tenant_admin token).

    Example: scaiwave role permissions add moderator room.kick --tenant acme
    """
    from scaiwave_role import ops

    _print_role(app, ops.change_permissions(app, "add", role_name, names, tenant_slug))


@permissions.command(name="remove")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@click.option("--tenant", "tenant_slug", metavar="SLUG", help=_TENANT_HELP)
@api.pass_app
def permissions_remove(app, role_name, names, tenant_slug):
    """Take permissions away from a role.

    Example: scaiwave role permissions remove moderator room.ban --tenant acme
    """
    from scaiwave_role import ops

    _print_role(app, ops.change_permissions(app, "remove", role_name, names, tenant_slug))


@permissions.command(name="reset")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="[PERMISSION...]", nargs=-1)
@click.option("--tenant", "tenant_slug", metavar="SLUG", help=_TENANT_HELP)
@api.pass_app
def permissions_reset(app, role_name, names, tenant_slug):
    """Restore a built-in role's shipped permissions (all, or only the ones named).

    Built-in roles are global: this needs platform scope (no tenant_admin token).

    Example: scaiwave role permissions reset editor
    """
    from scaiwave_role import ops

    _print_role(app, ops.change_permissions(app, "reset", role_name, names, tenant_slug))


@click.command(name="catalog")
@api.pass_app
def catalog(app):
    """List the permission catalog: every permission a role can carry.

    Example: scaiwave --output json role catalog
    """
    perms = api.permissions

    def rows():
        for name, description in perms.CATALOG.items():
            held_by = [r for r, shipped in perms.SHIPPED_PERMISSIONS.items() if name in shipped]
            yield {"permission": name, "description": description, "shipped_in": held_by}

    app.out.rows(rows(), ["permission", "description", "shipped_in"], title="Permissions")


COMMANDS = [list_roles, show_role, create_role, delete_role, permissions, catalog]
