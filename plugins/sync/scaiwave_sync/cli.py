"""The `scaiwave sync` group. Imports only click, the core's light API and the plugin's light
command modules; every command imports its use case (httpx, SQLAlchemy, the adapters) when it
runs.

``register``, ``status``, ``show_config`` and ``export_env`` are module-level names here (imported
from their command modules) so the ``scaiwave.aliases`` entry points (``scaiwave register`` ...)
load the very same Click objects, through this module and its ``REQUIRES_API``.
"""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_sync.config import export_env, show_config
from scaiwave_sync.options import tenant_option
from scaiwave_sync.reconcile import reconcile_from_cli, reconcile_options
from scaiwave_sync.register import register
from scaiwave_sync.status import status

REQUIRES_API = "1.3"  # api.fanout (sync --queue / --workers)


def _at_least(kind, minimum):
    """A setting type: ``kind`` (int or float) no smaller than ``minimum``."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise ValueError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {text!r}")
        return value

    return convert


# The sync's own tuning (read with ``settings.get(name)``: typed, validated once, listed by
# ``show-config`` with its source). The ScaiKey URL and credentials are the core's settings.
for _name, _type, _default, _help in (
    ("SCOPE", str, "admin:read", "OAuth scopes asked for in the token request"),
    ("PAGE_SIZE", _at_least(int, 1), 500, "items per page of ScaiKey listings"),
    (
        "HTTP_TIMEOUT",
        _at_least(float, 0),
        30,
        "seconds one HTTP attempt may take in all (connect, send, every read)",
    ),
    ("RETRIES", _at_least(int, 1), 5, "attempts per call on connection errors, 429 and 5xx"),
    (
        "HTTP_BUDGET",
        _at_least(float, 0),
        300,
        "seconds one ScaiKey call may take with all its attempts and waits",
    ),
    (
        "MAX_LISTING",
        _at_least(int, 1),
        1_000_000,
        "most items one ScaiKey listing may have (a tenant's users or groups, a group's "
        "members, the tenants, the admin roles); more is refused, nothing applied",
    ),
    (
        "MAX_RESPONSE_BYTES",
        _at_least(int, 1024),
        64 * 1024 * 1024,
        "longest ScaiKey answer read, bytes (after decompression)",
    ),
    ("BACKOFF", _at_least(float, 0), 0.5, "base of the exponential backoff (full jitter)"),
    ("BACKOFF_MAX", _at_least(float, 0), 30, "longest wait between two attempts"),
    ("RETRY_AFTER_MAX", _at_least(float, 0), 120, "longest Retry-After honoured"),
    ("MAX_DEACTIVATE", _at_least(int, 0), 500, "refuse to deactivate more per tenant"),
    (
        "MAX_DEACTIVATE_PERCENT",
        _at_least(float, 0),
        10,
        "refuse to deactivate more than this share of a tenant's participants",
    ),
    ("BATCH_SIZE", _at_least(int, 1), 1000, "rows per write transaction"),
    ("LOCK_TTL", _at_least(int, 0), 1800, "seconds after which a held run lock is stale"),
):
    api.declare_setting(
        f"SCAIWAVE_SYNC_{_name}", type=_type, default=_default, help=_help, owner="sync"
    )


@click.group(name="sync", invoke_without_command=True)
@tenant_option("Only this tenant (local slug, ScaiKey slug or tnt_ id).")
@reconcile_options
@api.pass_app
@click.pass_context
def sync(ctx, app, **options):
    """ScaiKey identity sync: register, status, full reconcile.

    With no sub-command: the full reconcile of every tenant linked to ScaiKey. New users become
    participants (with a personal workspace), changed names and e-mails are updated, users gone
    or disabled in ScaiKey are deactivated (never deleted), returning ones reactivated, groups
    and admin roles mirrored. Idempotent: a second run with nothing changed writes nothing.
    ScaiKey tenants linked to no ScaiWave tenant are not synced: the run names each on stderr
    with the command that links it (or pass --create-tenants). Without the ScaiKey settings
    (SCAIKEY_BASE_URL, SCAIKEY_CLIENT_ID, SCAIKEY_CLIENT_SECRET) it exits 2
    (SW_SCAIKEY_NOT_CONFIGURED); ScaiKey unreachable is exit 2 too (SW_SCAIKEY_UNREACHABLE).

    Safety: nothing is changed when a listing fails; more than 10% (or 500) deactivations in a
    tenant, or an empty listing for a tenant with participants, are refused unless allowed;
    a tenant never loses its last tenant_admin.

    --queue REDIS_URL runs one job per tenant on ARQ workers (`scaiwave worker --queue
    REDIS_URL`, started with the same database and ScaiKey settings), --workers N on local
    processes; the same lock, valves and summary as a run in this process.

    Example: scaiwave sync --dry-run --details
    """
    if ctx.invoked_subcommand is not None:
        return
    reconcile_from_cli(app, **options)


for _command in (register, status, show_config, export_env):
    sync.add_command(_command)
