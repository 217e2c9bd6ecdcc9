"""``api.fanout.run(..., workers=N)``: the jobs on N local worker processes.

A ``ProcessPoolExecutor`` with the *spawn* start method: each child is a fresh interpreter that
builds one ``AppContext`` from the coordinator's global options (``--db-url``, ``--env-file``)
and the environment as it is, acts as the coordinator's actor, and closes its store when it
exits; no database connection is ever shared across a fork. A child whose coordinator died
(kill -9) exits at once, whatever it was doing. At most N jobs are in flight, so a child that
dies (kill -9, out of memory: ``BrokenProcessPool``) takes at most N jobs with it: those are
tried again on a new pool, each try counted, and fail with ``SW_WORKER_LOST`` after
``max_tries``.
"""

from __future__ import annotations

import os
from collections import deque

from scaiwave_cli import fanout

_child: dict = {}


def run_local(app, jobs, *, workers: int, max_tries: int, actor: dict, tracker) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    env_file = None if app.env_file is None else str(app.env_file)
    initargs = (dict(app.options), env_file, bool(app.debug), actor)
    pending = deque(jobs)
    tries = {job.key: 0 for job in jobs}
    inflight: dict = {}
    pool = None
    try:
        while pending or inflight:
            if pool is None:
                pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=context,
                    initializer=_child_init,
                    initargs=initargs,
                )
            while pending and len(inflight) < workers:
                job = pending.popleft()
                tries[job.key] += 1
                inflight[pool.submit(_child_run, job.name, job.args, tries[job.key])] = job
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            lost = []
            for future in finished:
                job = inflight.pop(future)
                if _settle(future, job, tries, tracker, BrokenProcessPool):
                    lost.append(job)
            if not lost:
                continue
            # the pool is broken: every job still in flight went down with it
            wait(list(inflight))
            for future, job in list(inflight.items()):
                if _settle(future, job, tries, tracker, BrokenProcessPool):
                    lost.append(job)
            inflight.clear()
            pool.shutdown(wait=True)
            pool = None
            for job in reversed(lost):
                if tries[job.key] >= max_tries:
                    tracker.finish(job, fanout.lost(tries[job.key]))
                else:
                    pending.appendleft(job)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _settle(future, job, tries, tracker, broken_type) -> bool:
    """Record a finished future; True when its worker process was lost."""
    try:
        envelope = future.result()
    except broken_type:
        return True
    except Exception as exc:  # e.g. arguments that cannot be pickled
        envelope = fanout.failure(
            fanout.errors.SW_JOB_FAILED, f"{type(exc).__name__}: {exc}", tries[job.key]
        )
    tracker.finish(job, envelope)
    return False


# -- in the child ------------------------------------------------------------------------------
def _child_init(options: dict, env_file, debug: bool, actor: dict) -> None:
    import atexit
    import multiprocessing
    import threading

    os.environ["SCAIWAVE_PROGRESS"] = "off"  # the coordinator draws the only bar
    app = fanout.worker_app(options, env_file, debug, actor)
    _child["app"] = app
    atexit.register(app.close)
    parent = multiprocessing.parent_process()
    if parent is not None:  # a coordinator killed (-9) takes its workers with it

        def orphaned() -> None:
            parent.join()
            os._exit(1)

        threading.Thread(target=orphaned, name="coordinator-watch", daemon=True).start()


def _child_run(name: str, args: dict, tries: int) -> dict:
    app = _child["app"]
    return fanout.execute(app, name, args, tries=tries, log=_log if app.debug else None)


def _log(text: str) -> None:
    import sys

    sys.stderr.write(text)
