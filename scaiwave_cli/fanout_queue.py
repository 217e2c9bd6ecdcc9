"""``api.fanout.run(..., queue="redis://…")``: one ARQ job per ``Job`` on Redis.

The queue is ARQ's (``arq:job:<id>``, ``arq:in-progress:<id>``, ``arq:result:<id>``,
``arq:retry:<id>``) under a queue name of its own, ``scaiwave:jobs``, so an ARQ worker of
another application (the sync cron's) on the same Redis never takes these jobs. Jobs and
results are JSON, not pickle: what Redis holds can name a registered job and its arguments,
never code. The ARQ job id is ``scaiwave:{name}:{key}``: a re-run of the same work finds a job
still queued or running under that id and waits for it (never queues it twice); a result kept
from an earlier run is deleted first, so the job runs again. Enqueueing is one small Lua script
per job (atomic: check, delete the stale result, queue), sent in pipelined batches.

The coordinator then polls the result keys of the jobs not yet finished, in batches (MGET),
every 0.25 s; every 2 s it checks that each job still exists (a job whose keys vanished is
queued again, counted as a try) and, once, says on stderr when nothing runs the jobs.
``scaiwave worker`` (``fanout_worker``) is the other side.
"""

from __future__ import annotations

import json
import time

import click

from scaiwave_cli import errors, fanout
from scaiwave_cli.killpoints import pause_at

QUEUE_NAME = "scaiwave:jobs"
FUNCTION = "scaiwave_job"
CONNECT_TIMEOUT = 3  # seconds: an unreachable Redis is an error at once, not a hang
POLL_SECONDS = 0.25
CHECK_SECONDS = 2.0
BATCH = 500
JOB_EXPIRES_MS = 7 * 86_400_000  # a queued job not started within a week is dropped
DEFAULT_URL = "redis://localhost:6379/0"
READY = "waiting for jobs"  # the end of `scaiwave worker`'s first line (tests wait for it)

# KEYS: job, result, retry, queue; ARGV: expiry ms, job, score, job id
_ENQUEUE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('del', KEYS[2], KEYS[3])
redis.call('psetex', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[4], ARGV[3], ARGV[4])
return 1
"""


def job_id(job) -> str:
    return f"scaiwave:{job.name}:{job.key}"


# -- Redis: the URL, the connection, the wire format -------------------------------------------
def parse_url(url: str | None):
    """``RedisSettings`` for ``url`` (short connect timeout, no retries); ``ConfigError``
    ``SW_QUEUE_URL_INVALID`` (exit 2) when it cannot be parsed."""
    from arq.connections import RedisSettings

    from scaiwave_cli.config import mask_url, url_password

    errors.register_secret(url_password(url))
    try:
        if not url or not url.strip():
            raise ValueError("empty")
        settings = RedisSettings.from_dsn(url.strip())
    except (RuntimeError, ValueError) as exc:
        raise errors.ConfigError(
            f"cannot parse the Redis URL {mask_url(url)!r}: {exc}",
            code=errors.SW_QUEUE_URL_INVALID,
            hint="use redis://[:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS, unix:///path)",
        ) from None
    settings.conn_timeout = CONNECT_TIMEOUT
    settings.conn_retries = 0
    return settings


async def connect(settings, url: str):
    """An ``ArqRedis`` pool on the scaiwave queue, answered PING within a few seconds; else
    ``BackendUnavailable`` ``SW_QUEUE_UNREACHABLE`` (exit 2) naming the (masked) URL."""
    import asyncio

    from arq.connections import create_pool

    from scaiwave_cli.config import mask_url

    try:
        return await asyncio.wait_for(
            create_pool(
                settings,
                job_serializer=dumps,
                job_deserializer=loads,
                default_queue_name=QUEUE_NAME,
                expires_extra_ms=JOB_EXPIRES_MS,
            ),
            CONNECT_TIMEOUT + 2,
        )
    except Exception as exc:  # refused, timed out, TLS, auth: all mean the same here
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise errors.BackendUnavailable(
            f"cannot reach Redis at {mask_url(url)} ({reason})",
            code=errors.SW_QUEUE_UNREACHABLE,
            hint="start Redis there, or pass --queue redis://HOST:PORT/DB (SCAIWAVE_REDIS_URL)",
        ) from None


def _default(value):
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(data) -> bytes:
    return json.dumps(data, default=_default, separators=(",", ":")).encode()


def loads(raw: bytes):
    return json.loads(raw)


# -- the coordinator ---------------------------------------------------------------------------
def run_queue(url: str, settings, jobs, *, max_tries: int, actor: dict, tracker) -> None:
    import asyncio

    asyncio.run(_coordinate(url, settings, jobs, max_tries, actor, tracker))


async def _coordinate(url, settings, jobs, max_tries, actor, tracker) -> None:
    from redis.exceptions import RedisError

    from scaiwave_cli.config import mask_url

    pool = await connect(settings, url)
    try:
        await _wait(pool, url, jobs, max_tries, actor, tracker)
    except (OSError, RedisError) as exc:
        raise errors.BackendUnavailable(
            f"lost Redis at {mask_url(url)} while waiting: {type(exc).__name__}: {exc}",
            code=errors.SW_QUEUE_UNREACHABLE,
            hint="the queued jobs go on without this command: run it again to wait for them",
        ) from None
    finally:
        close = getattr(pool, "aclose", None) or pool.close  # redis-py 5 / 4
        await close()


async def _wait(pool, url, jobs, max_tries, actor, tracker) -> None:
    import asyncio

    from scaiwave_cli.config import mask_url

    pending = {job_id(job): job for job in jobs}
    attached = await _enqueue(pool, jobs, actor, max_tries)
    if attached:
        _say(
            f"{attached} of {len(jobs)} job(s) were already queued or running (an earlier "
            "run): waiting for them"
        )
    pause_at(fanout.HOOK, "fanout-enqueued")
    requeued: dict[str, int] = {}
    announced = False
    last_check = time.monotonic()
    while pending:
        for jid, raw in await _results(pool, list(pending)):
            tracker.finish(pending.pop(jid), _envelope(raw))
        if not pending:
            break
        if time.monotonic() - last_check >= CHECK_SECONDS:
            last_check = time.monotonic()
            running, vanished = await _states(pool, list(pending))
            for jid in vanished:
                job = pending[jid]
                requeued[jid] = requeued.get(jid, 0) + 1
                if requeued[jid] >= max_tries:
                    tracker.finish(pending.pop(jid), fanout.lost(requeued[jid]))
                else:
                    await _enqueue(pool, [job], actor, max_tries)
            if not announced and not running and not tracker.finished:
                announced = True
                where = mask_url(url)
                _say(
                    f"{len(pending)} job(s) wait on the queue {where} and nothing runs them "
                    f"yet: start `scaiwave worker --queue {where}` on a machine that "
                    "reaches the database (and the files)"
                )
        await asyncio.sleep(POLL_SECONDS)


def _say(message: str) -> None:
    click.echo(errors.redact(message), err=True)


def _batches(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _enqueue(pool, jobs, actor: dict, max_tries: int) -> int:
    """Queue ``jobs`` (those not queued or running already); the number already there."""
    from arq.constants import job_key_prefix, result_key_prefix, retry_key_prefix
    from arq.jobs import serialize_job

    attached = 0
    # scores an hour in the past, in the caller's order: a worker whose clock is behind the
    # coordinator's still takes them at once, and takes them in that order
    base = int(time.time() * 1000) - 3_600_000
    for first in range(0, len(jobs), BATCH):
        batch = jobs[first : first + BATCH]
        async with pool.pipeline(transaction=False) as pipe:
            for index, job in enumerate(batch, start=first):
                jid = job_id(job)
                envelope = {
                    "name": job.name,
                    "args": job.args,
                    "actor": actor,
                    "max_tries": max_tries,
                }
                now = int(time.time() * 1000)
                body = serialize_job(FUNCTION, (envelope,), {}, None, now, serializer=dumps)
                keys = (job_key_prefix + jid, result_key_prefix + jid, retry_key_prefix + jid)
                score = base + index
                pipe.eval(_ENQUEUE, 4, *keys, QUEUE_NAME, JOB_EXPIRES_MS, body, score, jid)
            answers = await pipe.execute()
        attached += sum(1 for answer in answers if int(answer) == 0)
    return attached


async def _results(pool, ids: list[str]) -> list[tuple[str, bytes]]:
    from arq.constants import result_key_prefix

    found = []
    for batch in _batches(ids, 1000):
        values = await pool.mget([result_key_prefix + jid for jid in batch])
        found += [(jid, raw) for jid, raw in zip(batch, values, strict=True) if raw is not None]
    return found


async def _states(pool, ids: list[str]) -> tuple[bool, list[str]]:
    """(is any of ``ids`` running, the ids whose job and result both vanished)."""
    from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix

    running, vanished = False, []
    for batch in _batches(ids):
        async with pool.pipeline(transaction=True) as pipe:
            for jid in batch:
                pipe.exists(job_key_prefix + jid)
                pipe.exists(in_progress_key_prefix + jid)
                pipe.exists(result_key_prefix + jid)
            answers = await pipe.execute()
        for n, jid in enumerate(batch):
            queued, in_progress, result = answers[3 * n : 3 * n + 3]
            running = running or bool(in_progress)
            if not queued and not result:
                vanished.append(jid)
    return running, vanished


def _envelope(raw: bytes) -> dict:
    """The result envelope of a finished ARQ job (``fanout.execute``'s, or ARQ's own failure:
    a timeout, a job expired before it started)."""
    from arq.jobs import deserialize_result

    try:
        info = deserialize_result(raw, deserializer=loads)
    except Exception as exc:
        return fanout.failure(errors.SW_JOB_FAILED, f"unreadable result in Redis: {exc}", 1)
    tries = max(int(info.job_try or 1), 1)
    result = info.result
    if info.success and isinstance(result, dict) and "ok" in result:
        return result
    if isinstance(result, dict) and result.get("error") in ("TimeoutError", "CancelledError"):
        return fanout.failure(
            errors.SW_JOB_FAILED,
            f"the job ran longer than the worker's --job-timeout ({result['error']})",
            tries,
            hint="raise `scaiwave worker --job-timeout` above the longest job",
        )
    if isinstance(result, dict) and "error" in result:
        text = f"{result['error']}: {result.get('message', '')}"
    else:
        text = f"unexpected result {str(result)[:200]!r}"
    return fanout.failure(errors.SW_JOB_FAILED, f"ARQ: {text}", tries)
