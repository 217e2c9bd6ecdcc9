"""`sync status`: the registration state (a pending request polled), the last run, a running
reconcile's lock holder, and the drift (what a reconcile would change now)."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db_runs, files
from scaiwave_sync.usecases import reconcile, registration
from scaiwave_sync.usecases.settings import SyncConfig


def status(app, *, fail_on_drift, no_drift, tenant, write_env) -> dict:
    """Registration (a pending one polled), the last run, the lock holder and the drift."""
    settings = app.settings
    state = files.read_registration(settings.home)
    if state and state.get("status") == "pending":
        state, settings = registration.poll_registration(app, state, write_env)
    reg = registration.public(state) if state else {"status": "none"}
    cfg = SyncConfig.from_settings(settings)
    configured = bool(cfg.base_url and cfg.client_id and cfg.client_secret)
    with app.store.session() as s:
        last = db_runs.run_record(db_runs.last_run(s))
        lock = db_runs.current_lock(s)
    record = {
        "registration": reg,
        "credentials": "configured" if configured else "missing",
        "scaikey_url": cfg.base_url,
        "running": {"holder": lock.holder, "since": lock.acquired_at} if lock else None,
        "last_run": last,
    }
    if fail_on_drift or (configured and not no_drift):
        record["drift"] = reconcile.drift(
            app.store, settings, app.actor, tenant=tenant, warn=app.warn
        )
    else:
        reason = "--no-drift" if no_drift else "ScaiKey credentials not configured"
        record["drift"] = {"drift": None, "reason": reason}
    return record


def check_drift(record: dict) -> None:
    """``--fail-on-drift``: exit 1 when a reconcile would change anything."""
    if record["drift"]["drift"]:
        raise api.DomainError(
            f"drift: a reconcile would make {record['drift']['changes']} change(s)",
            code=errors.SW_SYNC_DRIFT,
            hint="run `scaiwave sync --dry-run --details` to see them, `scaiwave sync` to apply",
            details={"would": record["drift"]["would"]},
        )


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
