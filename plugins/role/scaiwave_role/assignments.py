"""`scaiwave role assign|unassign|assignments|check`.

Light module (imported to build ``--help``): the work happens in ``scaiwave_role.ops``.
"""

from __future__ import annotations

import click

from scaiwave_cli import api


@click.command(name="assign")
@click.argument("participant", required=False)
@click.argument("role_name", metavar="ROLE", required=False)
@click.option("--tenant", "tenant_slug", metavar="SLUG", required=True, help="tenant slug")
@click.option("--workspace", "workspace_slug", metavar="SLUG", help="assign in this workspace")
@click.option(
    "--from-file",
    "from_file",
    type=click.File("r", encoding="utf-8"),
    help="CSV of participant,role,scope (scope: tenant | workspace:<slug>); all or nothing",
)
@click.option(
    "--dry-run", is_flag=True, help="with --from-file: validate and report, change nothing"
)
@api.pass_app
def assign(app, participant, role_name, tenant_slug, workspace_slug, from_file, dry_run):
    """Give a participant a role in a tenant or one workspace (or many, from a CSV file).

    PARTICIPANT is a participant id or e-mail in the tenant. Workspace roles (owner, editor,
    viewer) are workspace memberships and need --workspace: giving a member another one
    changes its membership role (never leaving the workspace without an owner). Assigning a
    role already held reports "unchanged".

    --from-file FILE (CSV: participant,role,scope with scope tenant | workspace:<slug>; "-" is
    stdin) applies every line or none; --dry-run shows what would change.

    Example: scaiwave role assign alice@acme.test editor --tenant acme --workspace design
    """
    from scaiwave_role import ops

    if from_file is not None:
        if participant or role_name or workspace_slug:
            raise click.UsageError("--from-file takes no PARTICIPANT, ROLE or --workspace")
        rows, summary = ops.assign_from_file(app, from_file, tenant_slug, dry_run=dry_run)
        app.out.rows(rows, ops.PLAN_COLUMNS, title="Assignments")
        app.out.info(summary)
        return
    if dry_run:
        raise click.UsageError("--dry-run goes with --from-file")
    if not participant or not role_name:
        raise click.UsageError("give PARTICIPANT and ROLE, or --from-file")
    app.out.record(ops.assign(app, participant, role_name, tenant_slug, workspace_slug))


@click.command(name="unassign")
@click.argument("participant")
@click.argument("role_name", metavar="ROLE")
@click.option("--tenant", "tenant_slug", metavar="SLUG", required=True, help="tenant slug")
@click.option("--workspace", "workspace_slug", metavar="SLUG", help="the workspace of the role")
@api.pass_app
def unassign(app, participant, role_name, tenant_slug, workspace_slug):
    """Take a role away from a participant (never the last owner or the last tenant_admin).

    Example: scaiwave role unassign bob@acme.test editor --tenant acme --workspace design
    """
    from scaiwave_role import ops

    app.out.record(ops.unassign(app, participant, role_name, tenant_slug, workspace_slug))


@click.command(name="assignments")
@click.option("--participant", metavar="ID|EMAIL", help="only this participant (needs --tenant)")
@click.option("--role", "role_name", metavar="ROLE", help="only this role")
@click.option("--tenant", "tenant_slug", metavar="SLUG", help="only this tenant")
@click.option("--workspace", "workspace_slug", metavar="SLUG", help="only this workspace")
@api.pass_app
def assignments(app, participant, role_name, tenant_slug, workspace_slug):
    """List who holds which role where (role assignments and workspace memberships), streamed.

    Without --tenant: every tenant you may see.

    Example: scaiwave --output jsonl role assignments --tenant acme --role editor
    """
    from scaiwave_role import ops

    if (participant or workspace_slug) and not tenant_slug:
        raise click.UsageError("--participant and --workspace need --tenant")
    rows = ops.list_assignments(app, participant, role_name, tenant_slug, workspace_slug)
    app.out.rows(rows, ops.ASSIGNMENT_COLUMNS, title="Role assignments")


@click.command(name="check")
@click.argument("participant")
@click.argument("permission")
@click.option("--tenant", "tenant_slug", metavar="SLUG", required=True, help="tenant slug")
@click.option("--workspace", "workspace_slug", metavar="SLUG", help="ask about this workspace")
@click.pass_context
def check(ctx, participant, permission, tenant_slug, workspace_slug):
    """May this participant do PERMISSION here? Prints the deciding chain of roles.

    Exit 0 when allowed, 1 when denied (scripts can test it).

    Example: scaiwave role check alice@acme.test create_note --tenant acme --workspace design
    """
    from scaiwave_role import ops

    app = ctx.find_object(api.AppContext) or ctx.ensure_object(api.AppContext)
    record = ops.check(app, participant, permission, tenant_slug, workspace_slug)
    ops.print_check(app, record)
    if not record["allowed"]:
        ctx.exit(1)


COMMANDS = [assign, unassign, assignments, check]
