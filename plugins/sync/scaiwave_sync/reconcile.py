"""`scaiwave sync` with no sub-command: the full reconcile. Its options (the group's, declared
here so that cli.py stays the group alone) and the printing of its plan or result."""

from __future__ import annotations

import click


def reconcile_options(f):
    """The options of `scaiwave sync` itself (the reconcile), after ``--tenant``."""
    decorators = (
        click.option("--dry-run", is_flag=True, help="Plan and print the changes; write nothing."),
        click.option("--details", is_flag=True, help="Print one row per change instead of counts."),
        click.option(
            "--allow-mass-deactivation",
            is_flag=True,
            help="Apply even when more participants would be deactivated than the limit.",
        ),
        click.option(
            "--allow-empty",
            is_flag=True,
            help="Accept an empty user listing for a tenant that has participants.",
        ),
        click.option(
            "--create-tenants",
            is_flag=True,
            help="Also create local tenants for ScaiKey tenants not linked yet (platform admins).",
        ),
        click.option(
            "--wait", is_flag=True, help="Wait for a running reconcile instead of failing."
        ),
        click.option(
            "--wait-timeout",
            type=float,
            metavar="SECONDS",
            help="Give up waiting after this long (with --queue/--workers: also a job waiting "
            "for its tenant's lock) [default: the lock's stale timeout].",
        ),
        click.option(
            "--queue",
            metavar="REDIS_URL",
            help="Run one job per tenant on this ARQ queue (Redis), for `scaiwave worker` "
            "processes on any machine sharing the database and the ScaiKey settings.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            metavar="N",
            help="Run one job per tenant in N local worker processes.",
        ),
    )
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


TABLE_COLUMNS = (
    "tenant",
    "users_seen",
    "create",
    "update",
    "reactivate",
    "deactivate",
    "held",
    "groups",
    "members",
    "roles",
)
DETAIL_COLUMNS = ("tenant", "action", "scaikey_id", "local_id", "detail")


def reconcile_from_cli(
    app,
    *,
    tenant,
    dry_run,
    details,
    allow_mass_deactivation,
    allow_empty,
    create_tenants,
    wait,
    wait_timeout,
    queue=None,
    workers=None,
) -> None:
    from scaiwave_sync.usecases import reconcile, unlinked

    if queue and workers:
        raise click.UsageError(
            "--queue and --workers are exclusive (workers of a queue are "
            "`scaiwave worker` processes)"
        )

    options = reconcile.Options(
        tenant=tenant,
        dry_run=dry_run,
        allow_mass_deactivation=allow_mass_deactivation,
        allow_empty=allow_empty,
        create_tenants=create_tenants,
        wait=wait,
        wait_timeout=wait_timeout,
        trigger="cli",
    )
    if queue or workers:
        from scaiwave_sync.usecases import queue as fanned

        result = fanned.run(app, options, queue=queue, workers=workers or 1, details=details)
    else:
        result = reconcile.run(
            app.store, app.settings, app.actor, options, warn=app.warn, info=app.out.info
        )
    plans = result.pop("plans")
    if details:
        changes = [row for plan in plans for row in plan.details()]
    fmt = app.out.format
    if fmt == "json":
        if details:
            result["details"] = changes
        app.out.record(result)
    elif details:
        app.out.rows(changes, list(DETAIL_COLUMNS))
    elif fmt == "table":
        rows = [_compact(r) for r in result["tenants"]]
        rows.append(_compact(dict(result["totals"], tenant="TOTAL")))
        app.out.rows(rows, list(TABLE_COLUMNS))
    else:
        app.out.rows(result["tenants"])
    verb = "planned (dry run, nothing written)" if dry_run else "applied"
    app.out.info(
        f"sync run {result['run_id']}: {result['changes']} change(s) {verb} in "
        f"{len(result['tenants'])} tenant(s); {result['writes']} row(s) written; "
        f"{result['requests']} ScaiKey request(s), {result['retries']} retried; "
        f"{result['seconds']:.2f} s"
    )
    if result["unlinked_tenants"]:
        app.out.info(unlinked.message(result["unlinked_tenants"]))


def _compact(row: dict) -> dict:
    out = {k: row[k] for k in ("tenant", "users_seen", "create", "update", "reactivate")}
    out["deactivate"] = str(row["deactivate"]) + (
        f" (kept {row['kept_last_admin']})" if row["kept_last_admin"] else ""
    )
    out["held"] = row["held"]
    out["groups"] = f"+{row['groups_create']} ~{row['groups_update']} -{row['groups_deactivate']}"
    out["members"] = f"+{row['members_add']} -{row['members_remove']}"
    out["roles"] = f"+{row['roles_grant']} -{row['roles_revoke']}"
    return out
