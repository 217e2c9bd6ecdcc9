"""The room commands' shared Click options, each declared once: ``--tenant``, ``--via``,
``--from``, and the destructive commands' ``--dry-run`` and ``--batch-size``. Light: click only."""

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


def dry_run_option(help: str = "Print the counts and the plan; change nothing."):  # noqa: A002
    """``--dry-run``: the plan, nothing written."""
    return click.option("--dry-run", is_flag=True, help=help)


def batch_size_option():
    """``--batch-size N`` (default 5000): rows deleted per transaction (bounded batches)."""
    return click.option(
        "--batch-size",
        type=click.IntRange(1, 100_000),
        default=5000,
        show_default=True,
        help="Events deleted per transaction.",
    )


def workers_option():
    """``--workers N`` (default 1): local worker processes (`api.fanout`)."""
    return click.option(
        "--workers",
        type=click.IntRange(1, 256),
        default=1,
        show_default=True,
        help="Local worker processes, one room at a time each (not used with --queue).",
    )


def queue_option():
    """``--queue REDIS_URL``: the rooms as ARQ jobs for `scaiwave worker` processes."""
    return click.option(
        "--queue",
        metavar="REDIS_URL",
        help="Put one job per room on this Redis (redis://HOST[:PORT][/DB]) for `scaiwave "
        "worker --queue` processes on any machine that shares DIR and the database; the "
        "command waits for them and shows the progress.",
    )
