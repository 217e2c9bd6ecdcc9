"""The room commands' shared Click options, each declared once: ``--tenant``, ``--via`` and
``--from``. Light: click only."""

from __future__ import annotations

import click

VIA_HELP = "The database, or the ScaiWave HTTP API (SCAIWAVE_API_URL + SCAIWAVE_ADMIN_TOKEN)."


def tenant_option(help: str = "Tenant slug."):  # noqa: A002 - Click's own word
    """``--tenant`` (required): the tenant the command works in."""
    return click.option("--tenant", "tenant", required=True, help=help)


def via_option(help: str = VIA_HELP):  # noqa: A002
    """``--via db|api`` (default db): the database or the ScaiWave HTTP API."""
    return click.option(
        "--via", type=click.Choice(["db", "api"]), default="db", show_default=True, help=help
    )


def from_option():
    """``--from FILE`` (or ``-``): where a bundle is read from; default stdin."""
    return click.option(
        "--from",
        "from_file",
        type=click.Path(dir_okay=False, exists=True, allow_dash=True),
        help="Read the bundle from FILE (default: stdin).",
    )
