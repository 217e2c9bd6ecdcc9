"""The admin plugin's SQL for the media store (`admin media purge-orphans`): which files rows
reference. Same rules as ``db.py`` (SQLAlchemy on both engines, no commits)."""

from __future__ import annotations

from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models


def referenced_shas(session, tenant_id, shas) -> set:
    """Those of ``shas`` that some media row of the tenant names."""
    if not shas:
        return set()
    return set(
        session.scalars(
            select(m.Media.sha256)
            .where(m.Media.tenant_id == tenant_id, m.Media.sha256.in_(sorted(set(shas))))
            .distinct()
        )
    )
