"""`scaiwave sync status` (alias `scaiwave status`): registration state, last run and drift."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_sync.options import tenant_option


@click.command("status")
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help="Exit 1 (SW_SYNC_DRIFT) when a reconcile would change anything or a ScaiKey tenant "
    "is linked to no ScaiWave tenant.",
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
    """Show the registration state, the last sync runs, the linked tenants and the drift.

    A pending registration is polled at ScaiKey; on approval the issued client id, secret and
    issuer are written into the .env (atomically, mode 0600, other lines kept, previous file
    backed up as .env.bak). Then: the last run (time, result, counts, error), the last
    successful one, the tenants linked to ScaiKey, and the local vs ScaiKey counts of tenants,
    users and groups with what a reconcile would change. A ScaiKey tenant linked to no
    ScaiWave tenant is drift too, named with the command that links it. With ScaiKey
    unreachable the local state is printed, then the error (exit 2, SW_SCAIKEY_UNREACHABLE).
    Monitoring: --fail-on-drift (exit 1 on drift; exit 2 without ScaiKey settings).

    Example: scaiwave --output json sync status
    """
    from scaiwave_sync.usecases import status as usecase

    record, failure = usecase.status(
        app, fail_on_drift=fail_on_drift, no_drift=no_drift, tenant=tenant, write_env=write_env
    )
    if app.out.format in ("json", "jsonl"):
        app.out.record(record)
    else:
        app.out.record(usecase.table_record(record))
    if failure is not None:  # the local state is printed; now the error (and its exit code)
        raise failure
    if fail_on_drift:
        usecase.check_drift(record)
