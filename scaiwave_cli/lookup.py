"""Finding a tenant, a participant or a workspace from what an operator typed: one look-up each,
one error code, one hint, for every command of every plugin.

- ``find_tenant(session, "acme")``: by slug or id. Unknown: ``SW_TENANT_NOT_FOUND`` (exit 1), with
  "did you mean" naming the closest slugs the actor may see (``details.did_you_mean``). With
  ``actor=``, a tenant outside the actor's scope is ``PermissionDenied`` (exit 3).
- ``find_participant(session, tenant, "ada@acme.example")``: by id, e-mail (case-insensitive, full
  Unicode folding on both engines) or FQID (``@ada:server``), only within ``tenant``: a participant
  of another tenant is "not found" here. Unknown: ``SW_PARTICIPANT_NOT_FOUND`` (exit 1); an e-mail
  that several participants share: ``SW_PARTICIPANT_AMBIGUOUS`` (exit 1) listing their ids.
- ``find_workspace(session, tenant, "design")``: by slug or id within ``tenant``;
  ``SW_WORKSPACE_NOT_FOUND`` (exit 1).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from scaiwave_cli.errors import (
    SW_PARTICIPANT_AMBIGUOUS,
    SW_PARTICIPANT_NOT_FOUND,
    SW_TENANT_NOT_FOUND,
    SW_WORKSPACE_NOT_FOUND,
    DomainError,
    NotFoundError,
)
from scaiwave_cli.store import models as m


def find_tenant(session: Session, ref: str, *, actor=None, for_update: bool = False):
    """The tenant whose slug or id is ``ref`` (``Tenant.partner`` loaded)."""
    stmt = select(m.Tenant).where(or_(m.Tenant.slug == ref, m.Tenant.id == ref)).limit(1)
    if for_update:
        stmt = stmt.with_for_update()
    tenant = session.scalar(stmt)
    if tenant is None:
        near = close_tenant_slugs(session, ref, actor=actor)
        raise NotFoundError(
            f"tenant {ref!r} not found"
            + (f" (did you mean {', '.join(repr(s) for s in near)}?)" if near else ""),
            code=SW_TENANT_NOT_FOUND,
            hint="list them: scaiwave admin list-tenants (new ones come from ScaiKey with "
            "scaiwave sync)",
            details={"did_you_mean": near} if near else None,
        )
    if actor is not None:
        actor.require_tenant(tenant)
    return tenant


def close_tenant_slugs(session: Session, ref: str, *, actor=None, n: int = 3) -> list[str]:
    """The slugs closest to a mistyped ``ref`` (difflib), only of tenants ``actor`` may see:
    a scoped admin is never told another tenant's slug. Read on the error path only."""
    import difflib

    slugs = session.scalars(select(m.Tenant.slug)).all()
    near = difflib.get_close_matches(ref.lower(), slugs, n=n, cutoff=0.6)
    if near and actor is not None and not actor.is_platform:
        rows = session.scalars(select(m.Tenant).where(m.Tenant.slug.in_(near))).all()
        visible = {t.slug for t in rows if actor.can_see_tenant(t)}
        near = [s for s in near if s in visible]
    return near


def find_participants(session: Session, tenant_id: str, ref: str) -> list:
    """Every participant of the tenant that ``ref`` names: by id, else by e-mail
    (case-insensitive), else by FQID. Usually one; several only when they share an e-mail."""
    p = m.Participant
    in_tenant = p.tenant_id == tenant_id
    by_id = session.scalars(select(p).where(in_tenant, p.id == ref)).all()
    if by_id or "@" not in ref:
        return list(by_id)
    if ref.startswith("@"):
        return list(session.scalars(select(p).where(in_tenant, p.fqid == ref).order_by(p.id)))
    stmt = select(p).where(in_tenant, folded(session, p.email) == ref.lower()).order_by(p.id)
    return list(session.scalars(stmt))


def find_participant(session: Session, tenant, ref: str, *, active_only: bool = False):
    """Exactly one participant of ``tenant`` (a Tenant row) named by ``ref``."""
    found = find_participants(session, tenant.id, ref)
    if active_only:
        found = [p for p in found if p.active]
    if not found:
        state = "active participant" if active_only else "participant"
        raise NotFoundError(
            f"{state} {ref!r} not found in tenant {tenant.slug!r}",
            code=SW_PARTICIPANT_NOT_FOUND,
            hint="give an id or e-mail from: scaiwave admin list-participants "
            f"--tenant {tenant.slug} --search …",
        )
    if len(found) > 1:
        ids = [x.id for x in found]
        raise DomainError(
            f"{len(found)} participants of tenant {tenant.slug!r} have the e-mail {ref!r}",
            code=SW_PARTICIPANT_AMBIGUOUS,
            hint="give the participant's id instead: " + ", ".join(ids),
            details={"ids": ids},
        )
    return found[0]


def find_workspace(session: Session, tenant, ref: str):
    """The workspace of ``tenant`` whose slug or id is ``ref``."""
    w = m.Workspace
    ws = session.scalar(
        select(w).where(w.tenant_id == tenant.id, or_(w.slug == ref, w.id == ref)).limit(1)
    )
    if ws is None:
        raise NotFoundError(
            f"workspace {ref!r} not found in tenant {tenant.slug!r}",
            code=SW_WORKSPACE_NOT_FOUND,
            hint=f"list them: scaiwave admin list-workspaces --tenant {tenant.slug}",
        )
    return ws


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def folded(session: Session, column):
    """``column`` lowered with full Unicode folding on both engines (SQLite's own ``lower`` only
    folds ASCII, so a Python function is registered on the connection)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return func.lower(column)
    raw = conn.connection.dbapi_connection
    raw.create_function("sw_lower", 1, _lower, deterministic=True)
    return func.sw_lower(column)
