"""The audit log, filtered and streamed (the work behind `scaiwave admin audit`).

Every change made through the CLI writes one ``audit_log`` row in the same transaction as the
change (``api.audit.record``). ``listing`` reads them oldest first through a streamed query
(``api.store.stream``: a server-side cursor on MariaDB), so millions of rows keep memory flat.
A partner admin sees the rows of its partner's tenants, a tenant admin those of its tenant;
rows without a tenant (partners, federation keys) are platform-only.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from scaiwave_admin.adapters import db
from scaiwave_cli import api


@contextlib.contextmanager
def listing(
    store,
    actor,
    *,
    tenant_ref: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    action: str | None = None,
    actor_name: str | None = None,
    batch_size: int = 1000,
):
    """Yields the matching audit rows as dicts, oldest first, streamed."""
    with store.session() as s:
        tenant_id = None
        if tenant_ref:
            tenant_id = api.find_tenant(s, tenant_ref, actor=actor).id
        # audit_query's scope filter limits the rows to the actor's tenants
        stmt = db.audit_query(
            actor=actor,
            tenant_id=tenant_id,
            since=since,
            until=until,
            action=action,
            actor_name=actor_name,
        )

        def rows():
            for row in api.store.stream(s, stmt, batch_size=batch_size):
                yield {
                    "id": row.id,
                    "at": row.at,
                    "actor": row.actor,
                    "actor_kind": row.actor_kind,
                    "action": row.action,
                    "target": row.target,
                    "tenant": row.tenant or row.tenant_id,
                    "details": row.details,
                }

        yield rows()
