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
While a run holds it, a heartbeat thread refreshes it every third of its TTL (listing included)
and the run refreshes it before each tenant it applies; a refresh that finds it held by another
run stops the run (``SW_SYNC_LOCK_LOST``) before anything more is applied. A lock whose holder
is a process of this host (same host name and pid namespace) that is gone is taken over at once.
"""

from __future__ import annotations

import os
import socket
import threading
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


def _pid_namespace() -> str:
    try:
        return "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
    except OSError:
        return ""


def holder_name(trigger: str) -> str:
    """``host:pid:trigger:pid-namespace``: enough to tell a dead holder of this host."""
    host = socket.gethostname().replace(":", "-")[:120]
    return f"{host}:{os.getpid()}:{trigger}:{_pid_namespace()}"[:200]


def dead_here(holder: str) -> bool:
    """True when ``holder`` names a process of this host (same host name and pid namespace)
    that is no longer running. Anything else (another host, an old holder format, a live or
    unknowable process) is not dead: its lock waits for its TTL."""
    parts = holder.split(":")
    mine = holder_name("x").split(":")
    if len(parts) < 4 or not parts[1].isdigit() or not mine[3]:
        return False
    if (parts[0], parts[3]) != (mine[0], mine[3]) or int(parts[1]) == os.getpid():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Heartbeat:
    """Keeps the run lock alive from a thread (every third of the TTL) while the run lists and
    applies; ``check()`` refreshes now and raises ``SW_SYNC_LOCK_LOST`` once the lock is lost."""

    def __init__(self, store, holder: str, ttl: int, name: str = db_runs.LOCK_NAME):
        self.store, self.holder, self.ttl, self.name = store, holder, ttl, name
        self.interval = max(0.2, min(ttl / 3, 60.0))
        self.lost_to: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sync-lock-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _beat(self) -> None:
        while self.lost_to is None and not self._stop.wait(self.interval):
            try:
                self.lost_to = db_runs.refresh_lock(self.store, self.holder, self.ttl, self.name)
            except Exception:  # noqa: BLE001 - busy or unreachable now: the next beat retries
                continue

    def check(self, *, refresh: bool = True) -> None:
        """Refresh the lock now (``refresh=False``: only read who holds it)."""
        if self.lost_to is None and refresh:
            self.lost_to = db_runs.refresh_lock(self.store, self.holder, self.ttl, self.name)
        elif self.lost_to is None:
            with self.store.session() as s:
                lock = db_runs.current_lock(s, self.name)
            if lock is None or lock.holder != self.holder:
                self.lost_to = lock.holder if lock is not None else "nobody"
        if self.lost_to is not None:
            raise api.DomainError(
                f"this reconcile lost its run lock to {self.lost_to} and stopped; nothing more "
                "was applied",
                code=errors.SW_SYNC_LOCK_LOST,
                hint="check that SCAIWAVE_SYNC_LOCK_TTL is longer than a stall of this host or "
                "its database, then run the sync again",
                details={"holder": self.lost_to},
            )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)


def _acquire(store, cfg: SyncConfig, holder: str, info, name: str = db_runs.LOCK_NAME):
    """One attempt: None when taken (a dead holder of this host is taken over), else who holds
    it."""
    held = db_runs.acquire_lock(store, holder, cfg.lock_ttl, name)
    if held is not None and dead_here(held.holder):
        if db_runs.take_over_lock(store, held.holder, holder, cfg.lock_ttl, name):
            info(
                f"took over the reconcile lock of {held.holder}: that process of this host is "
                "no longer running"
            )
            return None
        return db_runs.acquire_lock(store, holder, cfg.lock_ttl, name)
    return held


def _lock(
    store, cfg, options, holder, info, name=db_runs.LOCK_NAME, what="another reconcile is running"
) -> None:
    """Take lock ``name`` (the run lock; a tenant's for the queue's apply jobs), waiting for it
    with ``--wait``; else ``SW_SYNC_LOCKED``, the message beginning with ``what``."""
    deadline = None
    if options.wait:
        deadline = time.monotonic() + (options.wait_timeout or cfg.lock_ttl)
    delay = 0.2
    busy_said = False
    while True:
        try:
            held = _acquire(store, cfg, holder, info, name)
        except Exception as exc:
            # a busy store (another writer) is waited for like a held lock with --wait
            if deadline is None or time.monotonic() >= deadline or not api.store.is_busy(exc):
                raise
            if not busy_said:
                info("waiting for the busy store (another process is writing) ...")
                busy_said = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 5.0)
            continue
        if held is None:
            return
        if deadline is None or time.monotonic() >= deadline:
            raise api.DomainError(
                f"{what} (held by {held.holder} since "
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
    heartbeat = None
    if not options.dry_run:
        _lock(store, cfg, options, holder, info)
        heartbeat = Heartbeat(store, holder, cfg.lock_ttl).start()
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
        if heartbeat is not None:
            heartbeat.check(refresh=False)  # lost while listing: stop before applying anything
        check_valves(plans, cfg, options)
        announce(plans, warn=warn, info=info)
        counter = WriteCounter(store.engine)
        if not options.dry_run:
            changed = [plan for plan in plans if plan.changes]
            with api.progress("applying", total=len(changed), unit="tenants") as bar:
                for plan in changed:
                    bar.describe(f"applying: {plan.tenant.slug}")
                    heartbeat.check()
                    if not apply_plan(store, plan, actor, cfg, now=now):
                        message = (
                            f"tenant {plan.tenant.slug!r} began to be deleted during this run: "
                            "the rest of its changes were not applied"
                        )
                        collected.warnings.append(message)
                        warn(message)
                    bar.advance(1)
        counter.close()
        summary = _summary(run_id, options, collected, client, counter, started)
        _finish(store, run_id, actor, options, "ok", summary, None)
        return dict(summary, plans=plans)
    except Exception as exc:
        fail_run(store, run_id, actor, options, exc)
        raise
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if not options.dry_run:
            db_runs.release_lock(store, holder)
        if counter is not None:
            counter.close()
        if own_client:
            client.close()


def announce(plans, *, warn, info) -> None:
    """Before applying: each last tenant_admin kept, each tenant's operator holds."""
    for plan in plans:
        for pid in plan.kept_last_admin:
            warn(
                f"tenant {plan.tenant.slug!r}: kept {pid} active with its tenant_admin "
                "role: a tenant never loses its last admin"
            )
        if plan.held:
            info(
                f"tenant {plan.tenant.slug!r}: {len(plan.held)} participant(s) active in "
                "ScaiKey kept deactivated by an operator hold (release one with `scaiwave "
                f"admin reactivate-participant ID --tenant {plan.tenant.slug}`): "
                + ", ".join(r["id"] for r in plan.held[:20])
                + (", …" if len(plan.held) > 20 else "")
            )


def _describe(exc: Exception) -> str:
    """An unplanned error for the run's record: a database error without its SQL."""
    from sqlalchemy.exc import IntegrityError

    if isinstance(exc, IntegrityError):
        return api.store.conflict_error(exc).format_message()
    if api.store.is_busy(exc):
        return api.store.busy_error().format_message()
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


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
        # participants ScaiKey has active that an operator hold keeps deactivated
        "held": [
            {"tenant": p.tenant.slug, "id": r["id"], "scaikey_user_id": r["scaikey_user_id"]}
            for p in collected.plans
            for r in p.held
        ],
        "scaikey_tenants": collected.scaikey_tenants,
        "scaikey_tenants_unlinked": len(collected.unlinked),
        "unlinked_tenants": collected.unlinked,
        "requests": client.requests,
        "retries": client.retried,
        "writes": 0 if options.dry_run else counter.rows,
        "seconds": round(time.perf_counter() - started, 3),
        "warnings": collected.warnings,
    }


def fail_run(store, run_id, actor, options, exc: Exception) -> None:
    """Record a run that ended with ``exc`` (when its row exists): the local run's and the
    queue coordinator's one way to fail."""
    if run_id is not None:
        message = exc.format_message() if isinstance(exc, api.ScaiwaveError) else _describe(exc)
        _finish(store, run_id, actor, options, "failed", {}, message)


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
