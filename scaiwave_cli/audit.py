"""The audit log: one row per change, written in the same transaction as the change.

Every mutating command of every plugin records itself here (``scaiwave_cli.api.audit``)::

    with app.store.transaction() as s:
        tenant = ...change...
        api.audit.record(s, app.actor, "tenant.create", f"tenant:{slug}",
                         tenant_id=tenant.id, details={"name": name})

If the change rolls back, so does its audit row; if writing the row fails, the change fails.
``details`` is JSON; registered secrets are masked in it before it is written.
"""

from __future__ import annotations

import json

from scaiwave_cli.errors import redact


def record(session, actor, action: str, target: str, *, tenant_id=None, details=None):
    """Add an ``AuditEntry`` for ``actor`` (an ``access.Actor``) to ``session``'s transaction."""
    from scaiwave_cli.store.models import AuditEntry

    clean = json.loads(redact(json.dumps(details or {}, default=str, sort_keys=True)))
    entry = AuditEntry(
        actor=actor.name,
        actor_kind=actor.kind,
        action=action,
        target=target,
        tenant_id=tenant_id,
        details=clean,
    )
    session.add(entry)
    return entry
