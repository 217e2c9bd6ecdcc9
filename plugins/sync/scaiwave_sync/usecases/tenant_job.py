"""One tenant of a fanned-out reconcile (`scaiwave sync --queue URL` / `--workers N`): the
``sync.tenant`` job, run by a worker (``scaiwave worker`` on any machine, or a local process).

The coordinator (``usecases/queue.py``) sends each linked tenant twice:

- phase ``plan``: list the tenant's users, groups and members at ScaiKey, read its local
  state, plan it (``collect``/``plan``, the local run's code) and report the counts the
  whole-run valves need, its warnings and (``--details``) its changes. Nothing is written.
- phase ``apply`` (only tenants with changes, only once every tenant's plan passed the valves):
  under the tenant's own lock (``sync_locks`` row ``scaikey-sync:<tenant id>``, waited for up
  to ``--wait-timeout`` or its TTL, a heartbeat keeping it), refresh the coordinator's run lock
  (lost: ``SW_SYNC_LOCK_LOST``, nothing applied, as a local run before each tenant), list and
  plan the tenant again, check its valves again on that plan, apply it (``apply.apply_plan``)
  and report what was applied.

Planning again at apply time makes a retried job (a worker killed part-way) safe: it plans
from what the database holds now. A worker checks first that it serves the coordinator: its
database must hold the coordinator's running ``sync_runs`` row and its ScaiKey URL must be the
coordinator's, else ``SW_SYNC_WORKER_MISMATCH`` (exit 2) and nothing is read or written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db, db_runs
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.adapters.scaikey_client import ScaiKeyClient
from scaiwave_sync.usecases.apply import apply_plan
from scaiwave_sync.usecases.collect import Collected, _collect_tenant
from scaiwave_sync.usecases.plan import check_valves
from scaiwave_sync.usecases.reconcile import (
    Heartbeat,
    Options,
    WriteCounter,
    _lock,
    holder_name,
)
from scaiwave_sync.usecases.settings import SyncConfig

PLAN, APPLY = "plan", "apply"
_TENANT_FIELDS = ("id", "slug", "name", "scaikey_tenant_id", "partner_id", "new", "status")
_ROLE_FIELDS = ("id", "user_id", "role", "tenant_id", "partner_id", "is_active", "expires_at")


# -- what travels in the job's args (JSON) ---------------------------------------------------


def tenant_args(tenant: db.TenantRow) -> dict:
    return {k: getattr(tenant, k) for k in _TENANT_FIELDS}


def role_args(roles: list[sk.AdminRole] | None) -> list[dict] | None:
    return None if roles is None else [{k: getattr(r, k) for k in _ROLE_FIELDS} for r in roles]


def options_args(options: Options) -> dict:
    return dataclasses.asdict(options)


def same_url(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


# -- the job -----------------------------------------------------------------------------------


def run(app, args: dict) -> dict:
    """The ``sync.tenant`` job: ``args["phase"]`` is ``plan`` or ``apply``."""
    cfg = SyncConfig.from_settings(app.settings)
    cfg.require_credentials()
    tenant = db.TenantRow(**args["tenant"])
    options = Options(**args["options"])
    _serves_the_coordinator(app.store, cfg, args, tenant)
    roles = None
    if args["roles"] is not None:
        roles = [sk.AdminRole(**r) for r in args["roles"]]
    now = dt.datetime.fromisoformat(args["now"])
    if args["phase"] == PLAN:
        with ScaiKeyClient.from_config(cfg) as client:
            plan, notes = _plan(client, app.store, tenant, roles, now)
            return _report(plan, notes, client, 0, details=args["details"])
    return _apply(app, cfg, args, options, tenant, roles, now)


def _serves_the_coordinator(store, cfg: SyncConfig, args: dict, tenant) -> None:
    with store.session() as s:
        running = db_runs.is_running(s, args["run_id"], dry_run=args["options"]["dry_run"])
    if not running:
        what = "its database has no such run running"
    elif not same_url(cfg.base_url, args["scaikey_url"]):
        mine, theirs = api.mask_url(cfg.base_url), api.mask_url(args["scaikey_url"])
        what = f"it talks to ScaiKey at {mine}, the coordinator at {theirs}"
    else:
        return
    raise api.ConfigError(
        f"tenant {tenant.slug!r}: this worker cannot serve sync run {args['run_id']}: {what}",
        code=errors.SW_SYNC_WORKER_MISMATCH,
        hint="start `scaiwave worker` with the coordinator's SCAIWAVE_DB_URL and SCAIKEY_* "
        "settings (environment or --env-file)",
    )


def _plan(client, store, tenant, roles, now):
    """List and plan one tenant (the local run's code): (plan, warnings)."""
    notes: list[str] = []
    result = Collected([], 0, notes)
    by_user: dict[str, list[sk.AdminRole]] = {}
    for r in roles or ():
        by_user.setdefault(r.user_id, []).append(r)
    _collect_tenant(client, store, tenant, roles, by_user, result, now, notes.append)
    return result.plans[0], notes


def _apply(app, cfg, args, options, tenant, roles, now) -> dict:
    store = app.store
    name = db_runs.tenant_lock_name(tenant.id)
    holder = holder_name("job")
    what = f"tenant {tenant.slug!r} is being applied by another sync job"
    # The coordinator holds the run lock: a tenant's lock can only be held by an earlier try of
    # this job (its worker died: stale after the lock's TTL, at once on the same host) or by a
    # dead coordinator's job still running. Wait for it (up to --wait-timeout, else the TTL).
    waiting = dataclasses.replace(options, wait=True)
    _lock(store, cfg, waiting, holder, app.log, name=name, what=what)
    beat = Heartbeat(store, holder, cfg.lock_ttl, name).start()
    try:
        # as a local run before each tenant: refresh the run's lock; lost: apply nothing
        Heartbeat(store, args["run_holder"], cfg.lock_ttl).check()
        if tenant.new and _exists(store, tenant.id):  # a retry: created by the first attempt
            tenant = dataclasses.replace(tenant, new=False)
        with ScaiKeyClient.from_config(cfg) as client:
            plan, notes = _plan(client, store, tenant, roles, now)
            check_valves([plan], cfg, options)  # on what is applied, again
            beat.check(refresh=False)
            counter = WriteCounter(store.engine)
            try:
                if plan.changes and not apply_plan(store, plan, app.actor, cfg, now=now):
                    notes.append(
                        f"tenant {tenant.slug!r} began to be deleted during this run: the rest "
                        "of its changes were not applied"
                    )
            finally:
                counter.close()
            return _report(plan, notes, client, counter.rows, details=args["details"])
    finally:
        beat.stop()
        db_runs.release_lock(store, holder, name)


def _exists(store, tenant_id: str) -> bool:
    with store.session() as s:
        return any(t.id == tenant_id for t in db.tenants(s))


def _report(plan, notes, client, writes: int, *, details: bool) -> dict:
    """The job's result (JSON): what the coordinator's summary, valves and --details read."""
    return {
        "tenant": plan.tenant.slug,
        "counts": plan.counts(),
        "changes": plan.changes,
        "local_active": plan.local_active,
        "kept_last_admin": list(plan.kept_last_admin),
        "held": [{"id": r["id"], "scaikey_user_id": r["scaikey_user_id"]} for r in plan.held],
        "warnings": notes,
        "requests": client.requests,
        "retries": client.retried,
        "writes": writes,
        "details": list(plan.details()) if details else None,
    }
