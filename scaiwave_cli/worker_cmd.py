"""`scaiwave worker`: an ARQ worker running the jobs plugins register (``scaiwave.jobs``).

A core command like ``db`` and ``plugins``; loading it for its help imports click only (ARQ,
asyncio and Redis are imported when it runs, in ``fanout_worker``).
"""

from __future__ import annotations

import click

from scaiwave_cli.context import pass_app


@click.command(name="worker")
@click.option(
    "--queue",
    "queue_url",
    metavar="REDIS_URL",
    default=None,
    help="Redis to take jobs from [env SCAIWAVE_REDIS_URL; default redis://localhost:6379/0].",
)
@click.option(
    "--max-jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Jobs run at once by this worker, in threads of one process (for CPU-heavy jobs "
    "start more workers instead).",
)
@click.option(
    "--job-timeout",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help="A job running longer fails (SW_JOB_FAILED); a job whose worker died runs again "
    "on another worker this long + 10 s after it started.",
)
@click.option("--burst", is_flag=True, help="Exit once the queue is empty (tests, CI).")
@pass_app
def worker(app, queue_url, max_jobs, job_timeout, burst):
    """Run the jobs that `--queue` commands put on Redis (room export-all, sync, …).

    Start one or more on every machine that reaches the database (SCAIWAVE_DB_URL) and the
    files the jobs read and write (e.g. the export directory): each takes jobs from the queue,
    runs them as the operator who queued them and stores the results for the waiting command.
    It prints the jobs it knows (the `scaiwave.jobs` of the installed plugins) and the queue on
    stderr. Whoever can write to this Redis can run these jobs: keep it private.

    SIGTERM or Ctrl-C: no new job, the running ones finish (up to --job-timeout), exit 0.
    Redis unreachable at start: exit 2 (SW_QUEUE_UNREACHABLE) within seconds.

    Example: scaiwave worker --queue redis://127.0.0.1:6399/0 --max-jobs 2  # exits 2 (no Redis)
    """
    from scaiwave_cli.fanout_queue import DEFAULT_URL
    from scaiwave_cli.fanout_worker import run_worker

    settings = app.settings  # a broken .env or setting: exit 2 now, not a failure per job
    url = queue_url or settings.redis_url or DEFAULT_URL
    run_worker(app, url, max_jobs=max_jobs, job_timeout=job_timeout, burst=burst)
