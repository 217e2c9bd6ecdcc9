"""The ARQ cron: the same full reconcile as `scaiwave sync`, every 10 minutes off-zero.

Run it as ScaiWave's scheduler does (exactly one scheduler process)::

    arq scaiwave_sync.worker.WorkerSettings

It reads the same settings as the CLI (environment, then ./.env): ``SCAIWAVE_REDIS_URL`` for
ARQ when the worker starts (``arq`` reading ``WorkerSettings`` builds it: importing this module
reads nothing, and a bad setting fails the start, naming it), ``SCAIWAVE_DB_URL`` and
``SCAIKEY_*`` for the sync at every run (so credentials that `sync status` writes into the .env
on approval are used without a restart). It runs at minutes 3, 13, 23, 33, 43
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
    if result["unlinked_tenants"]:
        log.warning(
            "%d ScaiKey tenant(s) linked to no ScaiWave tenant, not synced: %s "
            "(`scaiwave sync status` names the command that links each)",
            len(result["unlinked_tenants"]),
            ", ".join(t["slug"] for t in result["unlinked_tenants"][:20]),
        )
    return result


async def scaikey_sync(ctx) -> dict:
    """The ARQ job: the blocking reconcile runs in a thread so the worker's loop stays live."""
    return await asyncio.to_thread(reconcile_once)


def redis_settings(settings=None) -> RedisSettings:
    settings = settings or api.load_settings({})
    return RedisSettings.from_dsn(settings.redis_url or "redis://localhost:6379")


def worker_settings() -> type:
    """The ARQ settings class, built when the worker starts: the settings (environment, then
    ./.env) are read here, not when the module is imported."""
    settings = api.load_settings({})
    redis = redis_settings(settings)

    async def on_startup(ctx) -> None:
        log.info(
            "ScaiKey sync worker: Redis %s:%s, settings from %s",
            redis.host,
            redis.port,
            settings.env_file or "the environment (no .env)",
        )

    return type(
        "WorkerSettings",
        (),
        {
            "__doc__": "``arq scaiwave_sync.worker.WorkerSettings``.",
            "functions": [],
            "cron_jobs": [
                cron(
                    scaikey_sync,
                    name="scaikey_sync",
                    minute=CRON_MINUTES,
                    second=0,
                    unique=True,
                    timeout=3600,
                    keep_result=3600,  # the last runs' summaries stay in Redis for an hour
                    max_tries=1,
                )
            ],
            "redis_settings": redis,
            "on_startup": on_startup,
            "max_jobs": 1,
        },
    )


def __getattr__(name: str):
    """``WorkerSettings`` (what ``arq scaiwave_sync.worker.WorkerSettings`` reads) is built on
    access, i.e. when the worker starts (PEP 562)."""
    if name == "WorkerSettings":
        return worker_settings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
