"""The write transaction and the read-only session every role use case runs in, with the
built-in roles made sure of first."""

from __future__ import annotations

import contextlib

from scaiwave_cli import api
from scaiwave_role import errors


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


class _Ask(Exception):
    """Raised inside the transaction when the plan needs a prompt: the transaction rolls back
    and the prompt runs with no transaction open (no lock held while a human reads)."""


def planned(app, compute, apply, *, describe, dry_run=False, yes=False, confirm=None):
    """A disruptive change with a plan: ``compute(session)`` works the plan out (no writes),
    ``describe(plan)`` says it in words (None: nothing would change), ``apply(session, plan)``
    writes it; ``confirm(plan)`` says whether it needs a confirmation (default: always).

    - ``dry_run``: the plan on stderr, then "nothing written"; everything rolled back.
    - nothing to change: no question asked, nothing written.
    - no confirmation needed, or ``yes``: plan (on stderr) and change in one transaction.
    - else ``api.confirm`` with no transaction open (a prompt on a terminal, else exit 2 naming
      ``--yes``); then the plan is worked out again and applied only if it is still the one
      shown (``SW_ROLE_PLAN_CHANGED`` otherwise, nothing written).

    Returns ``(plan, applied)``.
    """
    if dry_run:
        with write(app, rollback=True) as session:
            plan = compute(session)
        text = describe(plan)
        if text:
            app.out.info(f"{text}\n(dry run: nothing written)")
        return plan, False
    try:
        with write(app) as session:
            plan = compute(session)
            text = describe(plan)
            if not text:
                return plan, False
            if confirm is None or confirm(plan):
                if not yes:
                    raise _Ask(text)
                api.confirm(text, yes=True)
            apply(session, plan)
            return plan, True
    except _Ask as ask:
        shown = ask.args[0]
    api.confirm(shown, yes=False)
    with write(app) as session:
        plan = compute(session)
        if describe(plan) != shown:
            raise api.DomainError(
                "the roles changed since the plan was shown: nothing was changed",
                code=errors.SW_ROLE_PLAN_CHANGED,
                hint="run the command again to see the new plan",
            )
        apply(session, plan)
        return plan, True
