"""`scaiwave sync` with no sub-command: run the full reconcile and print its plan or result."""

from __future__ import annotations

TABLE_COLUMNS = (
    "tenant",
    "users_seen",
    "create",
    "update",
    "reactivate",
    "deactivate",
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
) -> None:
    from scaiwave_sync import reconcile

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


def _compact(row: dict) -> dict:
    out = {k: row[k] for k in ("tenant", "users_seen", "create", "update", "reactivate")}
    out["deactivate"] = str(row["deactivate"]) + (
        f" (kept {row['kept_last_admin']})" if row["kept_last_admin"] else ""
    )
    out["groups"] = f"+{row['groups_create']} ~{row['groups_update']} -{row['groups_deactivate']}"
    out["members"] = f"+{row['members_add']} -{row['members_remove']}"
    out["roles"] = f"+{row['roles_grant']} -{row['roles_revoke']}"
    return out
