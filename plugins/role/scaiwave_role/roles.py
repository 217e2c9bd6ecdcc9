"""`scaiwave role list|show|create|delete`.

Light module (imported to build ``--help``): the work is ``scaiwave_role.usecases.roles``,
imported when a command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_role.options import TENANT_HELP, print_role, tenant_option


@click.command(name="list")
@tenant_option("built-ins plus this tenant's roles")
@api.pass_app
def list_roles(app, tenant_slug):
    """List roles: built-in and custom, with permission and holder counts.

    Without --tenant: the built-ins and the custom roles of every tenant you may see; holders
    are counted over those tenants.

    Example: scaiwave role list --tenant acme
    """
    from scaiwave_role.usecases import roles

    app.out.rows(roles.list_roles(app, tenant_slug), roles.ROLE_COLUMNS, title="Roles")


@click.command(name="show")
@click.argument("role_name", metavar="ROLE")
@tenant_option(TENANT_HELP)
@api.pass_app
def show_role(app, role_name, tenant_slug):
    """Show a role: its permissions, where it may be assigned, and how many hold it.

    A built-in role also shows how its permissions differ from the shipped set. --tenant
    names the tenant of a custom role, and restricts the holder count.

    Example: scaiwave role show editor --tenant acme
    """
    from scaiwave_role.usecases import roles

    print_role(app, roles.show_role(app, role_name, tenant_slug))


@click.command(name="create")
@click.argument("role_name", metavar="NAME")
@tenant_option(TENANT_HELP, required=True)
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
    from scaiwave_role.usecases import roles

    record = roles.create_role(app, role_name, tenant_slug, from_role, level, description)
    print_role(app, record)


@click.command(name="delete")
@click.argument("role_name", metavar="NAME")
@tenant_option(TENANT_HELP, required=True)
@click.option(
    "--reassign-to",
    "reassign_to",
    metavar="ROLE",
    help="move the role's assignments to this role first (needed while it is assigned)",
)
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@api.yes_option
@api.pass_app
def delete_role(app, role_name, tenant_slug, reassign_to, dry_run, yes):
    """Delete a custom role, after showing the plan and asking; refused while assigned unless
    --reassign-to is given.

    Without a terminal --yes is required (exit 2 otherwise); --dry-run changes nothing. An
    unknown name is exit 1 (SW_ROLE_NOT_FOUND, with close names); built-in roles cannot be
    deleted.

    Example: scaiwave role delete moderator --tenant acme --reassign-to editor --dry-run
    """
    from scaiwave_role.usecases import roles

    record = roles.delete_role(app, role_name, tenant_slug, reassign_to, dry_run=dry_run, yes=yes)
    app.out.record(record)


COMMANDS = [list_roles, show_role, create_role, delete_role]
