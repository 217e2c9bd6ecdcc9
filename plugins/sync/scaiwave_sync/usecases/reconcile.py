"""The full reconcile: list ScaiKey, plan every change, check the safety valves, then apply.

1. Collect (``collect.py``): ScaiKey's tenants and admin roles, then per tenant its users,
   groups and group members. Any listing that fails or is inconsistent ends the run here:
   nothing is written.
2. Plan (``plan.py``, pure): participants to create / update / reactivate / deactivate (never
   delete), mirrored groups and memberships, admin-role grants and revocations.
3. Valves (``plan.check_valves``): an empty user listing for a tenant with participants (exit 2
   unless ``--allow-empty``); more deactivations than the threshold (exit 1 unless
   ``--allow-mass-deactivation``); a tenant never loses its last ``tenant_admin`` (that
   deactivation or revocation is kept back, with a warning).
4. Apply (``apply.py``) in batched transactions, each with its audit rows. A second run against
   an unchanged ScaiKey plans nothing and writes nothing to the mirrored tables.

Runs are serialised by a database lock shared with the ARQ cron and recorded in ``sync_runs``.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db, db_runs
from scaiwave_sync.adapters.scaikey_client import ScaiKeyClient
from scaiwave_sync.usecases.apply import apply_plan
from scaiwave_sync.usecases.collect import Collected, collect
from scaiwave_sync.usecases.plan import CHANGE_KEYS, COUNT_KEYS, check_valves
from scaiwave_sync.usecases.settings import SyncConfig


@dataclass
class Options:
    tenant: str | None = None
    dry_run: bool = False
    allow_mass_deactivation: bool = False
    allow_empty: bool = False
    create_tenants: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    trigger: str = "cli"


class WriteCounter:
    """Counts rows written through ``engine`` (INSERT/UPDATE/DELETE, executemany included),
    leaving out the run lock's own bookkeeping."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine = engine
        self.rows = 0
        self.statements = 0
        self._event = event
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip()[:6].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and "sync_locks" not in statement:
            self.statements += 1
            self.rows += len(parameters) if executemany else 1

    def close(self) -> None:
        if self.engine is not None:
            self._event.remove(self.engine, "before_cursor_execute", self._count)
            self.engine = None


def holder_name(trigger: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{trigger}"[:200]


def _lock(store, cfg: SyncConfig, options: Options, holder: str, info) -> None:
    deadline = None
    if options.wait:
        deadline = time.monotonic() + (options.wait_timeout or cfg.lock_ttl)
    delay = 0.2
    while True:
        held = db_runs.acquire_lock(store, holder, cfg.lock_ttl)
        if held is None:
            return
        if deadline is None or time.monotonic() >= deadline:
            raise api.DomainError(
                f"another reconcile is running (held by {held.holder} since "
                f"{held.acquired_at:%Y-%m-%d %H:%M:%S} UTC, stale after "
                f"{held.expires_at:%H:%M:%S} UTC)",
                code=errors.SW_SYNC_LOCKED,
                hint="wait for it, or pass --wait to queue behind it",
                details={"holder": held.holder},
            )
        if delay == 0.2:
            info(f"waiting for the reconcile held by {held.holder} ...")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def run(store, settings, actor, options: Options, *, warn, info, client=None) -> dict:
    """One full reconcile, recorded in ``sync_runs``; returns the run's summary."""
    cfg = SyncConfig.from_settings(settings)
    cfg.require_credentials()
    holder = holder_name(options.trigger)
    if not options.dry_run:
        _lock(store, cfg, options, holder, info)
    started = time.perf_counter()
    own_client = client is None
    client = client or ScaiKeyClient.from_config(cfg)
    run_id = None
    counter = None
    try:
        run_id = db_runs.start_run(store, trigger=options.trigger, dry_run=options.dry_run)
        now = api.store.utcnow()
        collected = collect(client, store, actor, options, now=now, warn=warn)
        plans = collected.plans
        check_valves(plans, cfg, options)
        for plan in plans:
            for pid in plan.kept_last_admin:
                warn(
                    f"tenant {plan.tenant.slug!r}: kept {pid} active with its tenant_admin "
                    "role: a tenant never loses its last admin"
                )
        counter = WriteCounter(store.engine)
        if not options.dry_run:
            changed = [plan for plan in plans if plan.changes]
            with api.progress("applying", total=len(changed), unit="tenants") as bar:
                for plan in changed:
                    bar.describe(f"applying: {plan.tenant.slug}")
                    apply_plan(store, plan, actor, cfg, now=now)
                    db_runs.refresh_lock(store, holder, cfg.lock_ttl)
                    bar.advance(1)
        counter.close()
        summary = _summary(run_id, options, collected, client, counter, started)
        _finish(store, run_id, actor, options, "ok", summary, None)
        return dict(summary, plans=plans)
    except api.ScaiwaveError as exc:
        if run_id is not None:
            _finish(store, run_id, actor, options, "failed", {}, exc.format_message())
        raise
    except Exception as exc:
        if run_id is not None:
            _finish(store, run_id, actor, options, "failed", {}, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if not options.dry_run:
            db_runs.release_lock(store, holder)
        if counter is not None:
            counter.close()
        if own_client:
            client.close()


def _summary(run_id, options, collected: Collected, client, counter, started) -> dict:
    rows = [p.counts() for p in collected.plans]
    totals = {k: sum(r[k] for r in rows) for k in COUNT_KEYS}
    return {
        "run_id": run_id,
        "status": "ok",
        "dry_run": options.dry_run,
        "trigger": options.trigger,
        "tenants": rows,
        "totals": totals,
        "changes": sum(p.changes for p in collected.plans),
        "scaikey_tenants": collected.scaikey_tenants,
        "scaikey_tenants_unlinked": len(collected.unlinked),
        "unlinked_tenants": collected.unlinked,
        "requests": client.requests,
        "retries": client.retried,
        "writes": 0 if options.dry_run else counter.rows,
        "seconds": round(time.perf_counter() - started, 3),
        "warnings": collected.warnings,
    }


def _finish(store, run_id, actor, options, status, summary, error) -> None:
    keys = ("totals", "requests", "writes", "changes", "scaikey_tenants_unlinked")
    counts = {k: v for k, v in summary.items() if k in keys}
    with store.transaction() as s:
        db_runs.finish_run(s, run_id, status=status, counts=counts, error=error)
        if not options.dry_run:
            api.audit.record(
                s,
                actor,
                "sync.run",
                f"sync-run:{run_id}",
                details={"status": status, "trigger": options.trigger, "error": error, **counts},
            )


def drift(store, settings, actor, *, tenant=None, warn) -> dict:
    """What a reconcile would change now, and local vs ScaiKey counts (no writes)."""
    cfg = SyncConfig.from_settings(settings)
    cfg.require_credentials()
    with ScaiKeyClient.from_config(cfg) as client:
        options = Options(tenant=tenant, dry_run=True)
        collected = collect(client, store, actor, options, now=api.store.utcnow(), warn=warn)
    plans = collected.plans
    with store.session() as s:
        local = db.local_counts(s, [p.tenant.id for p in plans if not p.tenant.new])
    totals = {k: sum(p.counts()[k] for p in plans) for k in COUNT_KEYS}
    changes = sum(p.changes for p in plans)
    return {
        # an unlinked ScaiKey tenant is drift too: nothing of it reaches ScaiWave
        "drift": changes > 0 or bool(collected.unlinked),
        "changes": changes,
        "local": {"tenants": sum(1 for p in plans if not p.tenant.new), **local},
        "scaikey": {
            "tenants": collected.scaikey_tenants,
            "tenants_unlinked": len(collected.unlinked),
            "users": collected.scaikey_users_active,
            "groups": collected.scaikey_groups,
        },
        "would": {k: v for k, v in totals.items() if k in CHANGE_KEYS},
        "unlinked_tenants": collected.unlinked,
        "warnings": collected.warnings,
    }
