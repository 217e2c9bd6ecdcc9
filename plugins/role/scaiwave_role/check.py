"""`scaiwave role check`: allowed (exit 0) or denied (exit 1), with the deciding chain.

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

    Exit 0 when allowed, 1 when denied (scripts can test it).

    Example: scaiwave role check alice@acme.test create_note --tenant acme --workspace design
    """
    from scaiwave_role.usecases import check as usecase

    app = ctx.find_object(api.AppContext) or ctx.ensure_object(api.AppContext)
    record = usecase.check(app, participant, permission, tenant_slug, workspace_slug)
    print_check(app, record)
    if not record["allowed"]:
        ctx.exit(1)


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
            {"role": None, "scope": None, "workspace": None, "source": None, "grants": None}
        ]
        app.out.rows(
            ({**base, **{f"chain_{k}": v for k, v in link.items()}} for link in links),
            [*keys, "chain_role", "chain_scope", "chain_workspace", "chain_source", "chain_grants"],
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
        app.out.text(f"  - role {link['role']} at {at} scope ({link['source']}): {mark}")


COMMANDS = [check]
