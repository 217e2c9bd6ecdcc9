"""`scaiwave role check`: allowed (exit 0) or denied (exit 1 with the verdict on stdout), with
the deciding chain; an error is exit 1 with nothing on stdout.

Light module (imported to build ``--help``): the work is ``scaiwave_role.usecases.check``,
imported when the command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_role.options import tenant_option, workspace_option


@click.command(name="check")
@click.argument("participant")
@click.argument("permission")
@tenant_option(required=True)
@workspace_option("ask about this workspace")
@click.pass_context
def check(ctx, participant, permission, tenant_slug, workspace_slug):
    """May this participant do PERMISSION here? Prints the deciding chain of roles.

    What a script can rely on (the exit codes are the CLI's own 0/1/2/3):

    \b
    Exit 0: allowed (the verdict on stdout).
    Exit 1 with a verdict on stdout: denied. The text starts with "DENIED:";
      with --output json the record has "allowed": false.
    Exit 1 with nothing on stdout: an error, no verdict: an unknown participant,
      permission, tenant or workspace ("Error [SW_...]" on stderr; with --output
      json an {"error": {"code": "SW_..."}} object on stderr).
    Exit 2: a usage or configuration error (on stderr, nothing on stdout).
    Exit 3: the admin token may not see the tenant (likewise).

    So `if scaiwave role check ...; then` is "allowed"; to tell "denied" from an error, test
    whether stdout is empty.

    Example: scaiwave role check alice@acme.test create_note --tenant acme --workspace design
    """
    from scaiwave_role.usecases import check as usecase

    app = ctx.find_object(api.AppContext) or ctx.ensure_object(api.AppContext)
    record = usecase.check(app, participant, permission, tenant_slug, workspace_slug)
    print_check(app, record)
    if not record["allowed"]:
        ctx.exit(1)


CHAIN_KEYS = ("role", "scope", "workspace", "source", "grants", "tenant_override")


def print_check(app, record: dict) -> None:
    """The verdict and its chain: JSON as is, CSV one line per chain link, else plain text."""
    fmt = app.out.format
    if fmt in ("json", "jsonl"):
        app.out.record(record)
        return
    if fmt == "csv":
        keys = ("allowed", "participant", "permission", "tenant", "workspace")
        base = {k: record[k] for k in keys}
        links = record["chain"] or [
            {
                "role": None,
                "scope": None,
                "workspace": None,
                "source": None,
                "grants": None,
                "tenant_override": None,
            }
        ]
        app.out.rows(
            ({**base, **{f"chain_{k}": v for k, v in link.items()}} for link in links),
            [*keys, *(f"chain_{k}" for k in CHAIN_KEYS)],
        )
        return
    where = f"workspace {record['workspace']!r} of " if record["workspace"] else ""
    verdict = "ALLOWED" if record["allowed"] else "DENIED"
    may = "may" if record["allowed"] else "may not"
    app.out.text(
        f"{verdict}: {record['participant']} {may} {record['permission']} "
        f"in {where}tenant {record['tenant']!r}"
    )
    app.out.text(f"  because {record['reason']}")
    for link in record["chain"]:
        at = "tenant" if link["scope"] == "tenant" else f"workspace {link['workspace']}"
        mark = "grants it" if link["grants"] else "does not grant it"
        if link.get("tenant_override"):
            mark += " (tenant override)"
        app.out.text(f"  - role {link['role']} at {at} scope ({link['source']}): {mark}")


COMMANDS = [check]
