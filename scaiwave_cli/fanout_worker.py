"""The engine of ``scaiwave worker``: an ARQ worker running ``scaiwave_job``.

``scaiwave_job(ctx, envelope)`` takes ``{"name", "args", "actor", "max_tries"}``, looks the job
up among this machine's ``scaiwave.jobs`` entry points and runs it in a thread (the event loop
stays free for ARQ's polling and heart-beat) with a fresh ``AppContext`` per job: the worker's
own settings (its environment, ``.env``, ``--db-url``/``--env-file``), the coordinator's actor,
its store closed when the job ends. At most ``--max-jobs`` jobs run at once, in a pool of as
many threads: a job that outlives ``--job-timeout`` (reported failed; a thread cannot be
stopped) keeps its thread, and the next job waits for it rather than running beside it.

Retries: ARQ counts a try each time a worker starts the job; a worker that dies mid-job (kill
-9, out of memory) leaves the job in the queue, and another worker takes it once ARQ's
in-progress key expires, ``--job-timeout`` + 10 s later. The coordinator's ``max_tries`` (in
the envelope) decides: a job started for the (max_tries+1)-th time is not run again but
reported ``SW_WORKER_LOST``. SIGTERM or Ctrl-C stops taking jobs, lets the running ones finish
(up to the job timeout) and exits 0.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import click

from scaiwave_cli import errors, fanout, fanout_queue

log = logging.getLogger("scaiwave.worker")
ARQ_MAX_TRIES = 1000  # ARQ's own cap; the envelope's max_tries is the one that applies


class WorkerState:
    """What every job of this worker shares: the settings it was started with, the threads."""

    def __init__(self, options: dict, env_file, debug: bool, max_jobs: int):
        self.options = dict(options)
        self.env_file = env_file
        self.debug = debug
        self.executor = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="job")


async def scaiwave_job(ctx: dict, envelope) -> dict:
    """The ARQ function: one fan-out job, its result envelope (never an exception)."""
    state: WorkerState = ctx["scaiwave"]
    tries = int(ctx.get("job_try") or 1)
    ref = ctx.get("job_id", "?")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("name"), str):
        return fanout.failure(errors.SW_JOB_FAILED, "malformed job envelope", tries)
    max_tries = int(envelope.get("max_tries") or fanout.DEFAULT_MAX_TRIES)
    if tries > max_tries:
        log.warning("%s: its worker was lost %d time(s): not run again", ref, tries - 1)
        return fanout.lost(tries - 1)
    log.info("%s: started (try %d)", ref, tries)
    loop = asyncio.get_running_loop()
    run = functools.partial(_run, state, envelope, tries, ref)
    return await loop.run_in_executor(state.executor, run)


def _run(state: WorkerState, envelope: dict, tries: int, ref: str) -> dict:
    started = time.monotonic()
    try:
        app = fanout.worker_app(
            state.options, state.env_file, state.debug, envelope.get("actor") or {"name": "?"}
        )
    except Exception as exc:
        return fanout.failure(errors.SW_JOB_FAILED, f"bad actor: {exc}", tries)
    try:
        args = envelope.get("args") or {}
        result = fanout.execute(app, envelope["name"], args, tries=tries, log=log.warning)
    finally:
        app.close()
    seconds = time.monotonic() - started
    if result.get("ok"):
        log.info("%s: done in %.1f s (try %d)", ref, seconds, tries)
    else:
        log.warning("%s: failed in %.1f s: %s: %s", ref, seconds, result["code"], result["message"])
    return result


def _logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    for name in ("arq", "scaiwave.worker"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if debug or name != "arq" else logging.WARNING)
        logger.propagate = False


def run_worker(app, url: str, *, max_jobs: int, job_timeout: int, burst: bool) -> None:
    """Connect (or exit 2), say what this worker runs, then run jobs until stopped."""
    from arq.worker import Worker, func

    os.environ["SCAIWAVE_PROGRESS"] = "off"  # a job's bar would go to the worker's log

    from scaiwave_cli.config import mask_url

    settings = fanout_queue.parse_url(url)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pool = loop.run_until_complete(fanout_queue.connect(settings, url))
    _logging(app.debug)
    state = WorkerState(app.options, app.env_file, app.debug, max_jobs)
    names = fanout.job_names()
    worker = Worker(
        functions=[
            func(
                scaiwave_job,
                name=fanout_queue.FUNCTION,
                timeout=job_timeout,
                max_tries=ARQ_MAX_TRIES,
            )
        ],
        queue_name=fanout_queue.QUEUE_NAME,
        redis_pool=pool,
        burst=burst,
        max_jobs=max_jobs,
        job_timeout=job_timeout,
        keep_result=3600,
        poll_delay=0.1,
        job_serializer=fanout_queue.dumps,
        job_deserializer=fanout_queue.loads,
        ctx={"scaiwave": state},
        job_completion_wait=job_timeout,
        log_results=False,
        health_check_interval=60,
    )
    click.echo(
        f"scaiwave worker on {socket.gethostname()}: queue {mask_url(url)} "
        f"({fanout_queue.QUEUE_NAME}); jobs: {', '.join(names) or 'none'}; {max_jobs} at a "
        f"time, job timeout {job_timeout} s (a lost worker's job runs again "
        f"{job_timeout + 10} s after it started){'; burst' if burst else ''}; "
        f"{fanout_queue.READY}",
        err=True,
    )
    try:
        worker.run()
    except (OSError, ConnectionError) as exc:
        raise errors.BackendUnavailable(
            f"lost Redis at {mask_url(url)}: {type(exc).__name__}: {exc}",
            code=errors.SW_QUEUE_UNREACHABLE,
        ) from None
    except Exception as exc:
        from redis.exceptions import RedisError

        if not isinstance(exc, RedisError):
            raise
        raise errors.BackendUnavailable(
            f"lost Redis at {mask_url(url)}: {type(exc).__name__}: {exc}",
            code=errors.SW_QUEUE_UNREACHABLE,
        ) from None
    finally:
        state.executor.shutdown(wait=False)
        loop.close()
