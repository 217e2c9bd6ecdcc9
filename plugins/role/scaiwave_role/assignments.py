"""`scaiwave role assign|unassign|assignments`.

Light module (imported to build ``--help``): the work is ``scaiwave_role.usecases.assignments``
(and ``usecases.bulk`` for ``assign --from-file``), imported when a command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_role.options import tenant_option, workspace_option


@click.command(name="assign")
@click.argument("participant", required=False)
@click.argument("role_name", metavar="ROLE", required=False)
@tenant_option(required=True)
@workspace_option("assign in this workspace")
@click.option(
    "--from-file",
    "from_file",
    type=click.File("r", encoding="utf-8-sig"),
    help="CSV of participant,role,scope (scope: tenant | workspace:<slug>; UTF-8 with or "
    "without BOM, CRLF or LF); all or nothing",
)
@click.option(
    "--dry-run", is_flag=True, help="with --from-file: validate and report, change nothing"
)
@api.yes_option
@api.pass_app
def assign(app, participant, role_name, tenant_slug, workspace_slug, from_file, dry_run, yes):
    """Give a participant a role in a tenant or one workspace (or many, from a CSV file).

    PARTICIPANT is a participant id or e-mail in the tenant. Workspace roles (owner, editor,
    viewer) are workspace memberships and need --workspace: giving a member another one
    changes its membership role (never leaving the workspace without an owner). Assigning a
    role already held reports "unchanged".

    --from-file FILE (CSV: participant,role,scope with scope tenant | workspace:<slug>; "-" is
    stdin; UTF-8 with or without a byte-order mark, as Excel saves it; CRLF or LF) applies
    every line or none; --dry-run shows what would change. A file that replaces workspace
    roles (a line "changed from <role>") shows the plan and asks first: without a terminal
    --yes is required (exit 2 otherwise).

    Example: scaiwave role assign alice@acme.test editor --tenant acme --workspace design
    """
    if from_file is not None:
        if participant or role_name or workspace_slug:
            raise click.UsageError("--from-file takes no PARTICIPANT, ROLE or --workspace")
        from scaiwave_role.usecases import bulk

        rows, summary = bulk.assign_from_file(app, from_file, tenant_slug, dry_run=dry_run, yes=yes)
        app.out.rows(rows, bulk.PLAN_COLUMNS, title="Assignments")
        if summary:
            app.out.info(summary)
        return
    if dry_run:
        raise click.UsageError("--dry-run goes with --from-file")
    if not participant or not role_name:
        raise click.UsageError("give PARTICIPANT and ROLE, or --from-file")
    from scaiwave_role.usecases import assignments as usecase

    app.out.record(usecase.assign(app, participant, role_name, tenant_slug, workspace_slug))


@click.command(name="unassign")
@click.argument("participant")
@click.argument("role_name", metavar="ROLE")
@tenant_option(required=True)
@workspace_option("the workspace of the role")
@api.pass_app
def unassign(app, participant, role_name, tenant_slug, workspace_slug):
    """Take a role away from a participant (never the last owner or the last tenant_admin).

    Example: scaiwave role unassign bob@acme.test editor --tenant acme --workspace design
    """
    from scaiwave_role.usecases import assignments as usecase

    app.out.record(usecase.unassign(app, participant, role_name, tenant_slug, workspace_slug))


@click.command(name="assignments")
@click.option("--participant", metavar="ID|EMAIL", help="only this participant (needs --tenant)")
@click.option("--role", "role_name", metavar="ROLE", help="only this role")
@tenant_option("only this tenant")
@workspace_option("only this workspace")
@api.pass_app
def assignments(app, participant, role_name, tenant_slug, workspace_slug):
    """List who holds which role where (role assignments and workspace memberships), streamed.

    Without --tenant: every tenant you may see.

    Example: scaiwave --output jsonl role assignments --tenant acme --role editor
    """
    if (participant or workspace_slug) and not tenant_slug:
        raise click.UsageError("--participant and --workspace need --tenant")
    from scaiwave_role.usecases import assignments as usecase

    rows = usecase.list_assignments(app, participant, role_name, tenant_slug, workspace_slug)
    app.out.rows(rows, usecase.ASSIGNMENT_COLUMNS, title="Role assignments")


COMMANDS = [assign, unassign, assignments]
