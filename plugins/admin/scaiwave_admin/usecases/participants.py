"""Participants of a tenant: the streamed list and one participant's details (roles, rooms,
where it may create rooms). Participants come from ScaiKey (`scaiwave sync`); nothing here
creates one.
"""

from __future__ import annotations

import contextlib

from scaiwave_admin.adapters import directory
from scaiwave_cli import api


@contextlib.contextmanager
def listing(store, actor, tenant_ref: str, *, kinds=(), active=None, search=None):
    """Yields the tenant's participants (``directory.PARTICIPANT_COLUMNS``), streamed."""
    with store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=actor)
        yield directory.stream_participants(
            session, tenant.id, kinds=kinds, active=active, search=search
        )


def details(store, actor, tenant_ref: str, ref: str) -> dict:
    """The participant ``ref`` (id, e-mail or FQID) of the tenant, with its workspace roles,
    role assignments, rooms and ``may_create_rooms``."""
    with store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=actor)
        found = api.find_participant(session, tenant, ref)
        return directory.participant_details(session, tenant, found)
