"""`scaiwave sync status` (alias `scaiwave status`): registration state, last run and drift."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_sync.options import tenant_option


@click.command("status")
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help="Exit 1 (SW_SYNC_DRIFT) when a reconcile would change anything.",
)
@click.option(
    "--no-drift", is_flag=True, help="Registration and last run only: do not list ScaiKey."
)
@tenant_option("Drift of this tenant only.")
@click.option(
    "--write-env",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The .env that receives credentials on approval [default: --env-file, else ./.env].",
)
@api.pass_app
def status(app, fail_on_drift, no_drift, tenant, write_env):
    """Show the registration state, the last sync run and the drift.

    A pending registration is polled at ScaiKey; on approval the issued client id, secret and
    issuer are written into the .env (atomically, mode 0600, other lines kept, previous file
    backed up as .env.bak). Then: the last run (time, result, counts, error) and the local vs
    ScaiKey counts of tenants, users and groups with what a reconcile would change.

    Example: scaiwave --output json sync status --fail-on-drift
    """
    from scaiwave_sync.usecases import status as usecase

    record = usecase.status(
        app, fail_on_drift=fail_on_drift, no_drift=no_drift, tenant=tenant, write_env=write_env
    )
    if app.out.format in ("json", "jsonl"):
        app.out.record(record)
    else:
        app.out.record(usecase.flatten(record))
    if fail_on_drift:
        usecase.check_drift(record)
