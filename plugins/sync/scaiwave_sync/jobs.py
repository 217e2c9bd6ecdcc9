"""The sync plugin's job for ``api.fanout`` (entry point ``scaiwave.jobs``: ``sync.tenant``):
one tenant of `scaiwave sync --queue URL` / `--workers N`, planned or applied
(``usecases/tenant_job.py``)."""

from __future__ import annotations

from scaiwave_cli import api


def tenant_job(app, args: dict) -> dict:
    from scaiwave_sync.usecases import tenant_job

    api.load_plugin_declarations()  # SCAIWAVE_SYNC_* typed (declared by the sync's cli.py)
    return tenant_job.run(app, args)
