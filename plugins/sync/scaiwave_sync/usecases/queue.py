"""The full reconcile fanned out, one ``sync.tenant`` job per linked tenant (`scaiwave sync
--queue REDIS_URL` on ARQ workers, `--workers N` on local processes; ``api.fanout``).

The coordinator does what a run does once, as a local run does it: the run lock (taken unless
``--dry-run``, kept by a heartbeat for the whole run), the ``sync_runs`` row and its audit row,
ScaiKey's tenants and admin roles, the tenants to sync (``--tenant``, ``--create-tenants``,
the actor's scope, tenants being deleted left out) and the ScaiKey tenants linked to none.
Then two phases (``usecases/tenant_job.py``):

1. ``plan`` jobs, every tenant at once: each lists and plans its tenant, writing nothing. A
   failed job (a listing that failed, a worker on another database, ...) fails the whole run
   with that job's code before anything is written: the local run's "a failed listing stops
   everything". Then the whole-run valves on every tenant's plan (``plan.check_valves``, the
   local run's): an empty listing or a mass deactivation in one tenant refuses the run and
   nothing is changed in any tenant.
2. ``apply`` jobs for the tenants with changes: each under its tenant's lock plans again (from
   the database as it is then: a retried job is safe) and checks that tenant's valves again
   before it applies. A tenant that fails is named with its code; the others are applied; the
   run fails with the first failure's code (tenant order).

The summary is the local run's (``reconcile._summary``): per-tenant counts and totals, held,
unlinked tenants, warnings, ``writes``; ``requests`` adds up the coordinator's and every job's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import db_runs
from scaiwave_sync.adapters.scaikey_client import ScaiKeyClient
from scaiwave_sync.usecases import tenant_job
from scaiwave_sync.usecases.collect import not_listed, scope
from scaiwave_sync.usecases.plan import check_valves
from scaiwave_sync.usecases.reconcile import (
    Heartbeat,
    Options,
    _finish,
    _lock,
    _summary,
    announce,
    fail_run,
    holder_name,
)
from scaiwave_sync.usecases.settings import SyncConfig

JOB = "sync.tenant"


@dataclass
class Reported:
    """A tenant's plan as its job reported it: what the valves, the summary and --details read
    (the attributes of ``plan.TenantPlan`` they use)."""

    tenant: SimpleNamespace
    report: dict
    held: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, tenant, report: dict) -> Reported:
        return cls(SimpleNamespace(slug=tenant.slug, id=tenant.id), report, report["held"])

    @property
    def users_seen(self) -> int:
        return self.report["counts"]["users_seen"]

    @property
    def local_active(self) -> int:
        return self.report["local_active"]

    @property
    def deactivate(self) -> range:  # the valves read its length only
        return range(self.report["counts"]["deactivate"])

    @property
    def kept_last_admin(self) -> list[str]:
        return self.report["kept_last_admin"]

    @property
    def changes(self) -> int:
        return self.report["changes"]

    def counts(self) -> dict:
        return dict(self.report["counts"])

    def details(self):
        return iter(self.report["details"] or ())


class _Totals:
    """The client and write counter ``_summary`` reads: the coordinator's plus every job's."""

    def __init__(self, client):
        self.requests, self.retried, self.rows = client.requests, client.retried, 0

    def add(self, report: dict) -> None:
        self.requests += report["requests"]
        self.retried += report["retries"]
        self.rows += report["writes"]


def run(app, options: Options, *, queue: str | None, workers: int, details: bool) -> dict:
    """One full reconcile fanned out; returns the local run's summary (``plans``: the tenants'
    reports, for --details)."""
    store, actor, warn, info = app.store, app.actor, app.warn, app.out.info
    cfg = SyncConfig.from_settings(app.settings)
    cfg.require_credentials()
    holder = holder_name(options.trigger)
    heartbeat = None
    if not options.dry_run:
        _lock(store, cfg, options, holder, info)
        heartbeat = Heartbeat(store, holder, cfg.lock_ttl).start()
    started = time.perf_counter()
    client = ScaiKeyClient.from_config(cfg)
    run_id = None
    try:
        run_id = db_runs.start_run(store, trigger=options.trigger, dry_run=options.dry_run)
        now = api.store.utcnow()
        notes: list[str] = []

        def note(message: str) -> None:
            notes.append(message)
            warn(message)

        sk_tenants, by_id, targets, unlinked, roles = scope(client, store, actor, options, note)
        totals = _Totals(client)
        base = {
            "run_id": run_id,
            "run_holder": holder,
            "scaikey_url": cfg.base_url,
            "now": now.isoformat(),
            "roles": tenant_job.role_args(roles),
            "options": tenant_job.options_args(options),
            "details": details,
        }
        fan = {"workers": workers, "queue": queue, "unit": "tenants"}

        # phase 1: every tenant planned; a failure stops the run before anything is written
        listed = [t for t in targets if t.scaikey_tenant_id in by_id]
        jobs = [_job(tenant_job.PLAN, t, base, run_id) for t in listed]
        outcome = api.fanout.run(app, jobs, label="sync: planning", **fan)
        _raise_first(jobs, outcome.failed)
        reports = {}
        for t in targets:
            if t.scaikey_tenant_id not in by_id:
                note(not_listed(t))
                continue
            reports[t.id] = Reported.of(t, outcome.done[_key(tenant_job.PLAN, t, run_id)])
            totals.add(reports[t.id].report)
            for message in reports[t.id].report["warnings"]:
                note(message)
        if heartbeat is not None:
            heartbeat.check(refresh=False)  # lost while planning: stop before applying anything
        check_valves(list(reports.values()), cfg, options)
        announce(list(reports.values()), warn=warn, info=info)

        # phase 2: the tenants with changes applied, each under its own lock
        if not options.dry_run:
            changed = [t for t in listed if reports[t.id].changes]
            jobs = [_job(tenant_job.APPLY, t, base, run_id) for t in changed]
            if jobs:
                heartbeat.check()
            outcome = api.fanout.run(app, jobs, label="sync: applying", **fan)
            for t, job in zip(changed, jobs, strict=True):
                done = outcome.done.get(job.key)
                if done is not None:
                    totals.add(done)
                    reports[t.id] = Reported.of(t, done)
                    for message in done["warnings"]:
                        if message not in notes:  # planning again repeats the plan's notes
                            note(message)
            _raise_applied(changed, jobs, outcome.failed)

        collected = SimpleNamespace(
            plans=list(reports.values()),
            scaikey_tenants=len(sk_tenants),
            unlinked=unlinked,
            warnings=notes,
        )
        summary = _summary(run_id, options, collected, totals, totals, started)
        _finish(store, run_id, actor, options, "ok", summary, None)
        return dict(summary, plans=collected.plans)
    except Exception as exc:
        fail_run(store, run_id, actor, options, exc)
        raise
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if not options.dry_run:
            db_runs.release_lock(store, holder)
        client.close()


def _key(phase: str, tenant, run_id: int) -> str:
    # Run-scoped: a re-run must not re-attach to a dead coordinator's job (its run lock is
    # gone, so it fails at once); the tenant lock keeps two applies of a tenant apart.
    return f"{phase}:{run_id}:{tenant.id}"


def _job(phase: str, tenant, base: dict, run_id: int):
    args = dict(base, phase=phase, tenant=tenant_job.tenant_args(tenant))
    return api.fanout.Job(JOB, _key(phase, tenant, run_id), args)


def _error(failure: dict, message: str) -> api.ScaiwaveError:
    """The failure of a job as the error the command exits with: its code, its exit code (the
    fan-out's ``exit_code`` when it carries one, else the exit of the class that code is raised
    with), its hint."""
    exit_code = failure.get("exit_code") or _exit_of(failure["code"])
    cls = {2: api.ConfigError, 3: api.AuthError}.get(exit_code, api.DomainError)
    return cls(message, code=failure["code"], hint=failure.get("hint"))


def _exit_of(code: str) -> int:
    core = api.errors
    if code in (
        errors.SW_SCAIKEY_AUTH_FAILED,
        errors.SW_SCAIKEY_FORBIDDEN,
        core.SW_AUTH_INVALID_TOKEN,
        core.SW_AUTH_EXPIRED_TOKEN,
        core.SW_AUTH_INSUFFICIENT_PERMISSION,
    ):
        return 3
    exit_2 = {
        errors.SW_SCAIKEY_NOT_CONFIGURED,
        errors.SW_SCAIKEY_UNREACHABLE,
        errors.SW_SCAIKEY_LISTING_INCONSISTENT,
        errors.SW_SCAIKEY_INVALID_RESPONSE,
        errors.SW_SCAIKEY_REQUEST_REJECTED,
        errors.SW_SCAIKEY_LISTING_TOO_LARGE,
        errors.SW_SCAIKEY_RESPONSE_TOO_LARGE,
        errors.SW_SYNC_EMPTY_LISTING,
        errors.SW_SYNC_WORKER_MISMATCH,
        core.SW_CONFIG_INVALID,
        core.SW_BACKEND_UNREACHABLE,
        core.SW_PLUGIN_BROKEN,
        core.SW_DB_URL_INVALID,
        core.SW_DB_DRIVER_UNKNOWN,
        core.SW_DB_UNREACHABLE,
        core.SW_DB_AUTH_FAILED,
        core.SW_DB_NOT_FOUND,
        core.SW_DB_SCHEMA_BEHIND,
        core.SW_DB_SCHEMA_AHEAD,
        core.SW_DB_BUSY,
    }
    return 2 if code in exit_2 else 1


def _raise_first(jobs, failed: dict) -> None:
    """Planning: the first failed tenant (in tenant order) fails the run, with its own code and
    message, as the local run's first failed listing would; nothing has been written."""
    for job in jobs:
        failure = failed.get(job.key)
        if failure is not None:
            raise _error(failure, failure["message"])


def _raise_applied(tenants, jobs, failed: dict) -> None:
    """Applying: name every tenant that failed; the others were applied."""
    names = [(t.slug, failed[j.key]) for t, j in zip(tenants, jobs, strict=True) if j.key in failed]
    if not names:
        return
    slug, first = names[0]
    message = f"tenant {slug!r} was not applied: [{first['code']}] {first['message']}"
    if len(names) > 1:
        message += "; not applied either: " + ", ".join(f"{s} [{f['code']}]" for s, f in names[1:])
    applied = len(tenants) - len(names)
    message += f"; {applied} other tenant(s) with changes applied"
    raise _error(first, message)
