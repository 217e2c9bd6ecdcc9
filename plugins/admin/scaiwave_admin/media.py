"""`scaiwave admin media purge-orphans`: media files no row references.

Thin: ``--older-than`` is parsed by ``values.parse_duration``; the work is in
``usecases.media`` (imported inside the command).
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_admin.values import parse_duration
from scaiwave_cli import api

COLUMNS = ["tenant", "sha256", "bytes", "age_s", "path"]


@click.group("media")
def media():
    """The media store: files no row references (left by a killed import)."""


@media.command("purge-orphans")
@options.tenant_option(
    "Only this tenant's files (default: every tenant, platform admins only).", required=False
)
@click.option(
    "--older-than",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Grace period: a file younger than this is never touched (an import in progress).",
)
@click.option("--dry-run", is_flag=True, help="List the orphans (paths and bytes); remove none.")
@api.yes_option
@api.pass_app
def purge_orphans(app, tenant_ref, older_than, dry_run, yes):
    """Remove media files that no row references, older than a grace period.

    Example: scaiwave admin media purge-orphans --tenant acme --older-than 1h --dry-run

    A killed import can leave the files it wrote with no row pointing at them (and a
    killed writer a temporary `.incoming-*` file). Each file is checked against the
    database again just before it goes; files younger than --older-than are kept.
    """
    from scaiwave_admin.usecases.media import purge_orphans as run

    grace = parse_duration(older_than, option="--older-than")
    result = run(app, tenant_ref=tenant_ref, grace=grace, dry_run=dry_run, yes=yes)
    if dry_run:
        app.out.rows(result["orphans"], COLUMNS)
        app.out.info(
            f"{len(result['orphans'])} orphaned files ({result['bytes']} bytes); "
            f"{result['kept_young']} younger than {older_than} kept; nothing removed (--dry-run)"
        )
    else:
        app.out.record({k: v for k, v in result.items() if k != "orphans"})


COMMANDS = [media]
