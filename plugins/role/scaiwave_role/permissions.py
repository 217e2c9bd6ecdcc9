"""`scaiwave role permissions add|remove|reset`.

Light module (imported to build ``--help``): the work is ``scaiwave_role.usecases.permissions``,
imported when a command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_role.options import print_role, tenant_option


@click.group(name="permissions")
def permissions():
    """Change the permissions of a role: add, remove, or reset a built-in.

    A custom role belongs to one tenant. A built-in role is changed for one tenant
    (--tenant: that tenant's override) or for every tenant (--all-tenants, platform scope).

    Example: scaiwave role permissions add moderator room.kick room.ban --tenant acme
    """


def _scope_options(func):
    """``--tenant``, ``--all-tenants``, ``--dry-run`` and ``--yes``."""
    func = api.yes_option(func)
    func = click.option(
        "--dry-run", is_flag=True, help="print the plan (and how many tenants), change nothing"
    )(func)
    func = click.option(
        "--all-tenants",
        is_flag=True,
        help="a built-in role for every tenant (platform scope; asks first)",
    )(func)
    return tenant_option(
        "tenant slug: the tenant of a custom role, or the one tenant whose built-in role changes"
    )(func)


def _change(app, op, role_name, names, tenant_slug, all_tenants, dry_run, yes) -> None:
    if api.permissions.is_builtin(role_name):
        if bool(tenant_slug) == bool(all_tenants):
            raise click.UsageError(
                f"{role_name!r} is a built-in role: say where it changes, --tenant SLUG (that "
                "tenant only) or --all-tenants (every tenant, platform scope)"
            )
    elif all_tenants:
        raise click.UsageError(
            f"--all-tenants is for built-in roles; {role_name!r} is a custom role: use --tenant"
        )
    from scaiwave_role.usecases import permissions as usecase

    record = usecase.change_permissions(
        app, op, role_name, names, tenant_slug, all_tenants=all_tenants, dry_run=dry_run, yes=yes
    )
    print_role(app, record)


@permissions.command(name="add")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@_scope_options
@api.pass_app
def permissions_add(app, role_name, names, tenant_slug, all_tenants, dry_run, yes):
    """Grant permissions to a role (unknown names exit 1 with close matches).

    With --all-tenants: the plan ("affects N tenants") and a confirmation first.

    Example: scaiwave role permissions add viewer room.invite --tenant acme
    """
    _change(app, "add", role_name, names, tenant_slug, all_tenants, dry_run, yes)


@permissions.command(name="remove")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="PERMISSION...", nargs=-1, required=True)
@_scope_options
@api.pass_app
def permissions_remove(app, role_name, names, tenant_slug, all_tenants, dry_run, yes):
    """Take permissions away from a role, after showing the plan and asking.

    Without a terminal --yes is required (exit 2 otherwise); --dry-run changes nothing.

    Example: scaiwave role permissions remove editor room.invite --tenant acme --yes
    """
    _change(app, "remove", role_name, names, tenant_slug, all_tenants, dry_run, yes)


@permissions.command(name="reset")
@click.argument("role_name", metavar="ROLE")
@click.argument("names", metavar="[PERMISSION...]", nargs=-1)
@_scope_options
@api.pass_app
def permissions_reset(app, role_name, names, tenant_slug, all_tenants, dry_run, yes):
    """Reset a built-in role (all, or only the permissions named), after a plan and asking.

    --tenant T drops T's override (T follows the global set again); --all-tenants restores
    the shipped set and drops every tenant's override of what it resets. Without a terminal
    --yes is required (exit 2 otherwise); --dry-run changes nothing.

    Example: scaiwave role permissions reset editor --all-tenants --dry-run
    """
    _change(app, "reset", role_name, names, tenant_slug, all_tenants, dry_run, yes)


COMMANDS = [permissions]
