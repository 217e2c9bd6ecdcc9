"""The ARQ cron: the same full reconcile as `scaiwave sync`, every 10 minutes off-zero.

Run it as ScaiWave's scheduler does (exactly one scheduler process)::

    arq scaiwave_sync.worker.WorkerSettings

It reads the same settings as the CLI (environment, then ./.env): ``SCAIWAVE_REDIS_URL`` for
ARQ, ``SCAIWAVE_DB_URL`` and ``SCAIKEY_*`` for the sync. It runs at minutes 3, 13, 23, 33, 43
and 53 (off the busy :00/:10 marks), shares the database run lock with manual runs (a run that
finds the lock taken is skipped, not queued), and records itself in ``sync_runs`` with trigger
``cron``. A run is skipped with a reason when ScaiKey credentials are not configured.
"""

from __future__ import annotations

import asyncio
import logging

from arq import cron
from arq.connections import RedisSettings

from scaiwave_cli import api
from scaiwave_sync import cli as _declares_settings  # noqa: F401 - SCAIWAVE_SYNC_* settings
from scaiwave_sync import errors

log = logging.getLogger("scaiwave_sync.worker")
CRON_MINUTES = {3, 13, 23, 33, 43, 53}
CRON_ACTOR_NAME = "cron:scaiwave-sync"


def reconcile_once(settings=None) -> dict:
    """One cron run (synchronous): the reconcile's summary, or ``{"skipped": reason}``."""
    from scaiwave_sync.usecases import reconcile
    from scaiwave_sync.usecases.settings import SyncConfig

    settings = settings or api.load_settings({})
    cfg = SyncConfig.from_settings(settings)
    try:
        cfg.require_credentials()
    except api.ConfigError as exc:
        log.warning("ScaiKey sync skipped: %s", exc.format_message())
        return {"skipped": exc.format_message()}
    store = api.store.open_store(settings)
    actor = api.access.Actor(name=CRON_ACTOR_NAME, kind="local")
    try:
        result = reconcile.run(
            store,
            settings,
            actor,
            reconcile.Options(trigger="cron"),
            warn=lambda m: log.warning("%s", api.redact(m)),
            info=lambda m: log.info("%s", api.redact(m)),
        )
    except api.ScaiwaveError as exc:
        if exc.code == errors.SW_SYNC_LOCKED:
            log.info("ScaiKey sync skipped: %s", exc.format_message())
            return {"skipped": exc.format_message()}
        log.error("ScaiKey sync failed [%s]: %s", exc.code, api.redact(exc.format_message()))
        raise
    finally:
        store.close()
    result.pop("plans", None)
    log.info(
        "ScaiKey sync run %s: %s change(s), %s row(s) written",
        result["run_id"],
        result["changes"],
        result["writes"],
    )
    return result


async def scaikey_sync(ctx) -> dict:
    """The ARQ job: the blocking reconcile runs in a thread so the worker's loop stays live."""
    return await asyncio.to_thread(reconcile_once)


def redis_settings(settings=None) -> RedisSettings:
    settings = settings or api.load_settings({})
    return RedisSettings.from_dsn(settings.redis_url or "redis://localhost:6379")


class WorkerSettings:
    """``arq scaiwave_sync.worker.WorkerSettings``."""

    functions: list = []
    cron_jobs = [
        cron(
            scaikey_sync,
            name="scaikey_sync",
            minute=CRON_MINUTES,
            second=0,
            unique=True,
            timeout=3600,
            keep_result=3600,  # the last runs' summaries stay inspectable in Redis for an hour
            max_tries=1,
        )
    ]
    redis_settings = redis_settings()
    max_jobs = 1
