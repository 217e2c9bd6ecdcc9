"""Fan-out: many jobs over local worker processes or an ARQ queue on Redis (``api.fanout``, 1.3).

A *job function* is a plain synchronous function registered under the entry-point group
``scaiwave.jobs`` (``room.export = "scaiwave_room.jobs:export_job"``)::

    def export_job(app: api.AppContext, args: dict) -> dict:  # JSON-able in, JSON-able out

``app`` is built where the job runs, from that process's own settings (environment, ``.env``,
the global options ``--db-url``/``--env-file`` of the coordinator or of ``scaiwave worker``),
with ``app.actor`` set to the coordinator's actor. A ``ScaiwaveError`` is a failure with its
code and redacted message; any other exception ``SW_JOB_FAILED``; neither is retried. A worker
process that dies (kill -9, out of memory) is retried up to ``max_tries`` and then fails with
``SW_WORKER_LOST``; a name the worker does not know fails with ``SW_JOB_UNKNOWN``.

``run(app, jobs, workers=N)`` runs the jobs in N local processes (spawned, never forked: no
database connection crosses a fork); ``run(app, jobs, queue="redis://…")`` puts one ARQ job per
``Job`` on Redis, for ``scaiwave worker`` processes on any machine (``fanout_queue``). Either
way the coordinator waits, shows progress (``api.progress``: jobs, weight units, ETA), prints
each failure on stderr as ``failed: <key>: SW_X: message`` and returns an ``Outcome`` (in the
order of the caller's list); it never raises for a failed job.

Where a job ran, it ends as a *result envelope* (``execute``), the only thing that crosses a
process or Redis, as JSON: ``{"ok": true, "result": {...}, "tries": n}`` or ``{"ok": false,
"code": "SW_…", "message": "…", "tries": n[, "hint": "…"]}``.

Kill points for the crash tests (``api.pause_at`` on ``SCAIWAVE_CORE_TEST_HOOK``, see
``scaiwave_cli.testing``): ``selftest`` in ``core.selftest`` (or the point its args name),
``fanout-enqueued`` in a queue-mode coordinator once every job is on the queue,
``fanout-first-result`` in any coordinator after its first job ended.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from scaiwave_cli import errors
from scaiwave_cli.killpoints import pause_at

HOOK = "SCAIWAVE_CORE_TEST_HOOK"
GROUP = "scaiwave.jobs"
DEFAULT_MAX_TRIES = 3


@dataclass(frozen=True)
class Job:
    """One unit of work: ``name`` (a ``scaiwave.jobs`` entry point), ``key`` (unique in a run,
    stable across runs for the same target: the ARQ job id is ``scaiwave:{name}:{key}``),
    JSON-able ``args`` and a ``weight`` (e.g. events) for progress and ETA."""

    name: str
    key: str
    args: dict = field(default_factory=dict)
    weight: int = 1


@dataclass
class Outcome:
    """``done``: key -> the job's result; ``failed``: key -> ``{"code", "message", "tries"}``;
    both in the order of the jobs given to ``run``."""

    done: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)


def run(
    app,
    jobs: list[Job],
    *,
    workers: int = 1,
    queue: str | None = None,
    label: str,
    unit: str = "events",
    max_tries: int = DEFAULT_MAX_TRIES,
    on_result: Callable[[Job, dict], None] | None = None,
    on_failure: Callable[[Job, dict], None] | None = None,
) -> Outcome:
    """Run ``jobs`` on ``workers`` local processes, or on the ARQ queue at ``queue``; wait for
    all of them. ``on_result(job, result)`` / ``on_failure(job, failure)`` are called here, in
    the coordinator, as each job ends (the failure line is already printed). A bad queue URL is
    ``ConfigError`` ``SW_QUEUE_URL_INVALID``, an unreachable Redis ``BackendUnavailable``
    ``SW_QUEUE_UNREACHABLE`` (both exit 2)."""
    jobs = list(jobs)
    keys = [job.key for job in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("fanout.run: job keys must be unique within a run")
    if workers < 1 or max_tries < 1:
        raise ValueError("fanout.run: workers and max_tries must be at least 1")
    import json

    for job in jobs:
        try:
            json.dumps(job.args)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"fanout.run: the args of job {job.key!r} are no JSON: {exc}") from None
    if queue is not None:
        from scaiwave_cli import fanout_queue

        redis_settings = fanout_queue.parse_url(queue)  # a bad URL fails before any work
    if not jobs:
        return Outcome()
    actor = actor_fields(app.actor)  # an unusable token fails here, before any work
    from scaiwave_cli.progress import progress

    total = sum(max(job.weight, 0) for job in jobs)
    with progress(label, total=total, unit=unit) as bar:
        tracker = Tracker(jobs, label, bar, on_result, on_failure)
        if queue is None:
            from scaiwave_cli.fanout_local import run_local

            run_local(app, jobs, workers=workers, max_tries=max_tries, actor=actor, tracker=tracker)
        else:
            from scaiwave_cli.fanout_queue import run_queue

            run_queue(
                queue, redis_settings, jobs, max_tries=max_tries, actor=actor, tracker=tracker
            )
    return tracker.outcome()


class Tracker:
    """The coordinator's bookkeeping: results, failures (printed), progress, callbacks."""

    def __init__(self, jobs, label, bar, on_result=None, on_failure=None):
        self.order = [job.key for job in jobs]
        self.label = label
        self.bar = bar
        self.on_result = on_result
        self.on_failure = on_failure
        self.done: dict[str, dict] = {}
        self.failed: dict[str, dict] = {}
        bar.describe(f"{label} 0/{len(self.order)}")

    @property
    def finished(self) -> int:
        return len(self.done) + len(self.failed)

    def finish(self, job: Job, envelope: dict) -> None:
        """Record how ``job`` ended (a result envelope, see the module docstring)."""
        if job.key in self.done or job.key in self.failed:
            return
        if envelope.get("ok"):
            self.done[job.key] = envelope.get("result")
            if self.on_result is not None:
                self.on_result(job, self.done[job.key])
        else:
            failure = {
                "code": envelope.get("code") or errors.SW_JOB_FAILED,
                "message": errors.redact(str(envelope.get("message", ""))),
                "tries": int(envelope.get("tries") or 1),
            }
            if envelope.get("hint"):
                failure["hint"] = errors.redact(str(envelope["hint"]))
            self.failed[job.key] = failure
            click.echo(f"failed: {job.key}: {failure['code']}: {failure['message']}", err=True)
            if self.on_failure is not None:
                self.on_failure(job, failure)
        self.bar.advance(max(job.weight, 0))
        self.bar.describe(f"{self.label} {self.finished}/{len(self.order)}")
        if self.finished == 1:
            pause_at(HOOK, "fanout-first-result")

    def outcome(self) -> Outcome:
        return Outcome(
            done={k: self.done[k] for k in self.order if k in self.done},
            failed={k: self.failed[k] for k in self.order if k in self.failed},
        )


# -- where a job runs --------------------------------------------------------------------------
_registry: dict[str, object] | None = None


def _entry_points() -> dict[str, object]:
    global _registry
    if _registry is None:
        from importlib.metadata import entry_points

        found: dict[str, object] = {}
        for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
            found.setdefault(ep.name, ep)
        _registry = found
    return _registry


def job_names() -> list[str]:
    """The job names this process can run (its ``scaiwave.jobs`` entry points)."""
    return sorted(_entry_points())


def find_job(name: str) -> Callable[..., dict]:
    """The job function registered as ``name``; ``SW_JOB_UNKNOWN`` when this machine has none,
    ``SW_PLUGIN_BROKEN`` when its module fails to import."""
    ep = _entry_points().get(name)
    if ep is None:
        import socket

        raise errors.DomainError(
            f"no job {name!r} on this worker ({socket.gethostname()}): the plugin that "
            "provides it is not installed here",
            code=errors.SW_JOB_UNKNOWN,
            hint="install the plugin (the coordinator's version) where `scaiwave worker` runs",
        )
    try:
        return ep.load()
    except Exception as exc:
        raise errors.ConfigError(
            f"job {name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}",
            code=errors.SW_PLUGIN_BROKEN,
        ) from exc


def failure(code: str, message: str, tries: int, hint: str | None = None) -> dict:
    envelope = {"ok": False, "code": code, "message": errors.redact(message), "tries": tries}
    if hint:
        envelope["hint"] = errors.redact(hint)
    return envelope


def lost(tries: int) -> dict:
    """The envelope of a job whose worker died on every try."""
    return failure(
        errors.SW_WORKER_LOST,
        f"the worker process running it died {tries} time(s) (killed, out of memory, "
        "or stopped past its timeout)",
        tries,
        hint="see the workers' logs and memory; a re-run tries it again",
    )


def execute(app, name: str, args: dict, *, tries: int = 1, log=None) -> dict:
    """Run job ``name`` with ``app``; its result envelope, never an exception (``log(text)``
    receives the traceback of an unexpected exception)."""
    import json

    try:
        result = find_job(name)(app, args)
    except errors.ScaiwaveError as exc:
        return failure(exc.code, exc.format_message(), tries, exc.hint)
    except Exception as exc:
        if log is not None:
            import traceback

            log(errors.redact(traceback.format_exc()))
        return failure(errors.SW_JOB_FAILED, f"{type(exc).__name__}: {exc}", tries)
    try:
        result = json.loads(json.dumps(result))  # what crosses a process or Redis: JSON
    except (TypeError, ValueError) as exc:
        return failure(errors.SW_JOB_FAILED, f"job {name!r} returned no JSON: {exc}", tries)
    return {"ok": True, "result": result, "tries": tries}


def actor_fields(actor) -> dict:
    """What of an ``access.Actor`` travels with a job."""
    return {
        "name": actor.name,
        "kind": actor.kind,
        "scope": actor.scope,
        "partner_id": actor.partner_id,
        "tenant_id": actor.tenant_id,
        "roles": list(actor.roles),
    }


def worker_app(options: dict, env_file, debug: bool, actor: dict):
    """An ``AppContext`` for a job: the worker's own settings, the coordinator's actor."""
    from scaiwave_cli.access import Actor
    from scaiwave_cli.context import AppContext

    app = AppContext(options=options, env_file=env_file, debug=debug)
    app.actor = Actor(
        name=actor["name"],
        kind=actor.get("kind", "local"),
        scope=actor.get("scope", "platform"),
        partner_id=actor.get("partner_id"),
        tenant_id=actor.get("tenant_id"),
        roles=tuple(actor.get("roles") or ()),
    )
    return app


# -- the core's own job ------------------------------------------------------------------------
def selftest_job(app, args: dict) -> dict:
    """``core.selftest``: echoes ``args`` and says where it ran, for tests and for checking a
    worker set-up. ``{"tenants": true}`` counts the store's tenants (the database path);
    ``{"raise": "domain"|"config"|"runtime"}`` fails on request, ``{"exit": true}`` ends the
    worker process, ``{"sleep": s}`` takes its time; it passes the kill point
    ``args.get("point", "selftest")`` of ``SCAIWAVE_CORE_TEST_HOOK``."""
    pause_at(HOOK, str(args.get("point", "selftest")))
    if args.get("exit"):  # the worker process dies, as on kill -9 or out of memory
        os._exit(70)
    if args.get("sleep"):
        import time

        time.sleep(float(args["sleep"]))
    kind = args.get("raise")
    if kind == "domain":
        raise errors.DomainError(
            f"selftest failed on request: {args.get('message', 'no reason')}", hint="do not ask"
        )
    if kind == "config":
        raise errors.ConfigError("selftest: a configuration error on request")
    if kind == "runtime":
        raise RuntimeError(f"selftest crashed on request: {args.get('message', '')}")
    result = {"echo": args, "pid": os.getpid(), "actor": app.actor.name}
    if args.get("tenants"):
        from sqlalchemy import func, select

        from scaiwave_cli.store import models

        with app.store.read_session() as session:
            result["tenants"] = session.scalar(select(func.count()).select_from(models.Tenant))
    return result
