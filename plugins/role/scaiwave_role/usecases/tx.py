"""The write transaction and the read-only session every role use case runs in, with the
built-in roles made sure of first."""

from __future__ import annotations

import contextlib

from scaiwave_cli import api


class _Rollback(Exception):
    """Raised at the end of a dry run so the transaction rolls back."""


@contextlib.contextmanager
def write(app, *, rollback: bool = False):
    """One write transaction; the built-in roles made sure of first, in the same transaction
    (and audited once, as ``role.builtin.seed``, when this call creates them). With
    ``rollback`` everything is undone at the end (a dry run)."""
    try:
        with app.store.transaction() as session:
            seed(app, session)
            yield session
            if rollback:
                raise _Rollback
    except _Rollback:
        pass


@contextlib.contextmanager
def read(app):
    """A read-only session (``store.read_session``: on SQLite no write lock, so a long listing
    never blocks writers). On first use the built-ins are seeded before, in a short write
    transaction of their own; once they exist that costs one SELECT."""
    with app.store.read_session() as session:
        if api.permissions.missing_builtin_roles(session):
            session.rollback()
            with app.store.transaction() as writer:
                seed(app, writer)
        yield session


def seed(app, session) -> None:
    """Create the missing built-in roles (audited once, as ``role.builtin.seed``)."""
    P = api.permissions
    created = P.ensure_builtin_roles(session)
    if created:
        api.audit.record(
            session,
            app.actor,
            "role.builtin.seed",
            "roles:builtin",
            details={"created": created, "roles": sorted(P.BUILTIN_ROLES)},
        )
