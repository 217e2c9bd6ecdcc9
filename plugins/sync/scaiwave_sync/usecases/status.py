"""`sync status`: the registration state (a pending request polled), the last run and the last
successful one, a running reconcile's lock holder, the linked tenants, and the drift (what a
reconcile would change now, and the ScaiKey tenants linked to no ScaiWave tenant). The local
part is read and returned even when ScaiKey fails; the command prints it, then the error."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db, db_runs, files
from scaiwave_sync.usecases import reconcile, registration, unlinked
from scaiwave_sync.usecases.settings import SyncConfig


def status(app, *, fail_on_drift, no_drift, tenant, write_env) -> tuple[dict, Exception | None]:
    """Registration (a pending one polled), the last runs, the lock holder, the linked tenants
    and the drift; and the first error met talking to ScaiKey (None: none).

    The local state is read whatever ScaiKey answers: the caller prints the record, then raises
    the error (ScaiKey unreachable: exit 2), so an operator sees what is known here."""
    settings = app.settings
    failure = None
    state = files.read_registration(settings.home)
    reg = None
    if state and state.get("status") == "pending":
        try:
            state, settings = registration.poll_registration(app, state, write_env)
        except api.ScaiwaveError as exc:
            failure = exc
            reg = dict(registration.public(state), error=_error(exc))
    if reg is None:
        reg = registration.public(state) if state else {"status": "none"}
    cfg = SyncConfig.from_settings(settings)
    configured = bool(cfg.base_url and cfg.client_id and cfg.client_secret)
    with app.store.session() as s:
        last = db_runs.run_record(db_runs.last_run(s))
        ok = db_runs.last_run(s, dry_run=False, status="ok")
        lock = db_runs.current_lock(s)
        linked = [t for t in db.tenants(s) if t.scaikey_tenant_id and app.actor.can_see_tenant(t)]
    record = {
        "registration": reg,
        "credentials": "configured" if configured else "missing",
        "scaikey_url": cfg.base_url,
        "running": {"holder": lock.holder, "since": lock.acquired_at} if lock else None,
        "last_run": last,
        "last_success": {"id": ok.id, "finished_at": ok.finished_at, "trigger": ok.trigger}
        if ok
        else None,
        "linked_tenants": [
            {"slug": t.slug, "scaikey_tenant_id": t.scaikey_tenant_id} for t in linked
        ],
    }
    if failure is not None:
        record["drift"] = {"drift": None, "reason": "registration poll failed"}
    elif fail_on_drift or (configured and not no_drift):
        try:
            record["drift"] = reconcile.drift(
                app.store, settings, app.actor, tenant=tenant, warn=app.warn
            )
        except api.ScaiwaveError as exc:
            failure = exc
            record["drift"] = {"drift": None, "error": _error(exc)}
    else:
        reason = "--no-drift" if no_drift else "ScaiKey credentials not configured"
        record["drift"] = {"drift": None, "reason": reason}
    return record, failure


def _error(exc) -> dict:
    return {"code": exc.code, "message": exc.format_message()}


def check_drift(record: dict) -> None:
    """``--fail-on-drift``: exit 1 when a reconcile would change anything."""
    drift = record["drift"]
    if drift["drift"]:
        found, hints = [], []
        if drift["changes"]:
            found.append(f"a reconcile would make {drift['changes']} change(s)")
            hints.append(
                "run `scaiwave sync --dry-run --details` to see them, `scaiwave sync` to apply"
            )
        if drift["unlinked_tenants"]:
            found.append(unlinked.message(drift["unlinked_tenants"]))
            hints.append("link the ScaiKey tenants with the commands shown")
        raise api.DomainError(
            "drift: " + "; ".join(found),
            code=errors.SW_SYNC_DRIFT,
            hint="; ".join(hints),
            details={"would": drift["would"], "unlinked": len(drift["unlinked_tenants"])},
        )


def table_record(record: dict) -> dict:
    """The record for table and csv output: dotted keys; the linked tenants on one line, the
    unlinked ones one line each with the command that links it (``drift.unlinked.<slug>``)."""
    record = dict(record)
    linked = record.pop("linked_tenants")
    names = [f"{t['slug']} ({t['scaikey_tenant_id']})" for t in linked[: unlinked.SHOWN]]
    if len(linked) > unlinked.SHOWN:
        names.append(f"... and {len(linked) - unlinked.SHOWN} more")
    record["linked_tenants"] = f"{len(linked)}" + (": " + ", ".join(names) if names else "")
    drift = record["drift"] = dict(record["drift"])
    if drift.get("drift") is not None:
        drift["drift"] = "yes" if drift["drift"] else "no"
    named = drift.pop("unlinked_tenants", None) or []
    if named:
        drift["unlinked"] = {t["slug"]: t["link"] for t in named[: unlinked.SHOWN]}
    if len(named) > unlinked.SHOWN:
        drift["unlinked"]["..."] = f"{len(named) - unlinked.SHOWN} more: --output json lists them"
    return flatten(record)


def flatten(record: dict, prefix: str = "") -> dict:
    """Nested dicts as dotted keys (for table and csv output)."""
    out: dict = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = "; ".join(str(v) for v in value)
        else:
            out[name] = value
    return out
