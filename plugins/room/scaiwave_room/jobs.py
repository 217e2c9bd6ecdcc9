"""The room plugin's jobs for ``api.fanout`` (entry points ``scaiwave.jobs``: ``room.export``,
``room.verify``, ``room.import``). Each is a plain function ``fn(app, args) -> dict`` run in a
worker process (a local one or `scaiwave worker`) with JSON-able ``args`` from the coordinator
(`room export-all`, `verify-all`, `import-all`); the work is the use cases'."""

from __future__ import annotations


def export_job(app, args: dict) -> dict:
    """One room's bundle into the export directory, then checked (``usecases/export_all``)."""
    from scaiwave_room.usecases.export_all import export_one

    return export_one(app, args)


def verify_job(app, args: dict) -> dict:
    """One bundle of an export directory checked (``usecases/export_all``)."""
    from scaiwave_room.usecases.export_all import verify_one

    return verify_one(app, args)


def import_job(app, args: dict) -> dict:
    """One bundle imported into a tenant, once (``usecases/import_all``)."""
    from scaiwave_room.usecases.import_all import import_one

    return import_one(app, args)
