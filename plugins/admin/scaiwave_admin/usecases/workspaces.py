"""Workspaces of a tenant: the streamed list, and creating a shared workspace with its owners.

Personal workspaces come with each human participant from `scaiwave sync`; shared ones are made
here, each with at least one owner (a ``workspace_members`` row of role ``owner``, which the
core's permission check reads). A create is audited in its transaction; an identical re-run is
"unchanged" (no audit row).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from scaiwave_admin import errors
from scaiwave_admin.adapters import directory
from scaiwave_cli import api

NAME_MAX = 200


@contextlib.contextmanager
def listing(store, actor, tenant_ref: str, *, member: str | None = None):
    """Yields the tenant's workspaces, streamed; with ``member`` (id, e-mail or FQID) only
    those it is a member of, with its ``member_role``."""
    with store.read_session() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=actor)
        member_id = api.find_participant(session, tenant, member).id if member else None
        yield directory.stream_workspaces(session, tenant.id, member_id=member_id)


@dataclass(frozen=True)
class NewWorkspace:
    slug: str
    name: str
    description: str | None
    owners: tuple[str, ...]


def check_new(slug, name, description, owners) -> NewWorkspace:
    """The create-workspace request, validated before anything is read (or the token checked)."""
    slug = api.store.validate_slug(slug, what="workspace slug")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise api.DomainError(
            f"invalid workspace name {name!r}: 1-{NAME_MAX} characters",
            code=errors.SW_WORKSPACE_NAME_INVALID,
            hint='e.g. --name "Design team"',
        )
    description = (description or "").strip() or None
    if not owners:
        raise _needs_owner(
            "a workspace needs an owner: give --owner",
            [{"owner": None, "reason": "missing"}],
        )
    return NewWorkspace(slug, name, description, tuple(owners))


def create(store, actor, tenant_ref: str, new: NewWorkspace, *, log: Callable[[str], None]):
    """The result record (``status`` created/unchanged, the workspace and its owners)."""
    try:
        return _create(store, actor, tenant_ref, new)
    except IntegrityError:
        # Another writer created the slug between our look-up and our insert (the unique
        # constraint caught it, our transaction rolled back): decide again on what is there now.
        log(f"workspace {new.slug!r} appeared while creating it; checking again")
        return _create(store, actor, tenant_ref, new)


def _create(store, actor, tenant_ref: str, new: NewWorkspace) -> dict:
    with store.transaction() as session:
        tenant = api.find_tenant(session, tenant_ref, actor=actor)
        owners = _resolve_owners(session, tenant, new.owners)
        existing = directory.workspace_by_slug(session, tenant.id, new.slug)
        if existing is not None:
            current = directory.owners_of(session, existing.id)
            _require_same(existing, current, tenant, new, owners)
            return _result("unchanged", tenant, existing, current)
        workspace = directory.add_workspace(
            session,
            tenant,
            slug=new.slug,
            name=new.name,
            description=new.description,
            owners=owners,
        )
        api.audit.record(
            session,
            actor,
            "workspace.create",
            f"workspace:{tenant.slug}/{new.slug}",
            tenant_id=tenant.id,
            details={
                "workspace_id": workspace.id,
                "name": new.name,
                "description": new.description,
                "owners": [o.id for o in owners],
            },
        )
        return _result("created", tenant, workspace, owners)


def _needs_owner(message: str, problems: list[dict]):
    return api.DomainError(
        message,
        code=errors.SW_WORKSPACE_NEEDS_OWNER,
        hint="--owner takes an active human participant of the tenant (id or e-mail); "
        "`scaiwave admin list-participants --tenant … --kind human --active` lists them",
        details={"problems": problems},
    )


def _find_owner(session, tenant, ref: str):
    """``(participant, None)`` or ``(None, problem)`` for one ``--owner``."""
    try:
        found = api.find_participant(session, tenant, ref)
    except api.NotFoundError:
        return None, {"owner": ref, "reason": "not_found"}
    except api.DomainError as exc:
        if exc.code != api.errors.SW_PARTICIPANT_AMBIGUOUS:
            raise
        return None, {"owner": ref, "reason": "ambiguous", "ids": exc.details["ids"]}
    if not found.active:
        return None, {"owner": ref, "reason": "inactive", "id": found.id}
    if found.kind != "human":
        return None, {"owner": ref, "reason": "not_human", "id": found.id, "kind": found.kind}
    return found, None


def _resolve_owners(session, tenant, refs) -> list:
    """The owner participants, in the order given, without duplicates; every ref that cannot
    own a workspace is reported at once (``SW_WORKSPACE_NEEDS_OWNER``, exit 1)."""
    owners, problems, seen = [], [], set()
    for ref in refs:
        found, problem = _find_owner(session, tenant, ref)
        if problem is not None:
            problems.append(problem)
        elif found.id not in seen:
            seen.add(found.id)
            owners.append(found)
    if problems:
        words = {
            "not_found": "is not a participant of the tenant",
            "ambiguous": "names several participants (give the id)",
            "inactive": "is deactivated",
            "not_human": "is not a human participant",
        }
        what = "; ".join(f"{p['owner']!r} {words[p['reason']]}" for p in problems)
        raise _needs_owner(
            f"a workspace of tenant {tenant.slug!r} needs an active human owner: {what}",
            problems,
        )
    return owners


def _require_same(existing, current_owners, tenant, new: NewWorkspace, owners) -> None:
    """An identical re-run is fine; anything else on a taken slug is SW_WORKSPACE_SLUG_TAKEN.
    Identical: a shared workspace, same name, same description (when given), and every owner
    asked for already an owner (owners added since do not count against it)."""
    current_ids = {o.id for o in current_owners}
    differences = {}
    if existing.personal:
        differences["kind"] = {"existing": "personal", "requested": "shared"}
    if existing.name != new.name:
        differences["name"] = {"existing": existing.name, "requested": new.name}
    if new.description is not None and (existing.description or None) != new.description:
        differences["description"] = {
            "existing": existing.description,
            "requested": new.description,
        }
    missing = [o.id for o in owners if o.id not in current_ids]
    if missing:
        differences["owners"] = {"existing": sorted(current_ids), "not_owners": missing}
    if differences:
        raise api.DomainError(
            f"workspace slug {existing.slug!r} is already used in tenant {tenant.slug!r} "
            f"(differs in {', '.join(differences)})",
            code=errors.SW_WORKSPACE_SLUG_TAKEN,
            hint="choose another --slug, or `scaiwave admin list-workspaces --tenant "
            f"{tenant.slug}` to see the existing one",
            details={"workspace_id": existing.id, "differences": differences},
        )


def _result(status: str, tenant, workspace, owners) -> dict:
    return {
        "status": status,
        "tenant": tenant.slug,
        "id": workspace.id,
        "slug": workspace.slug,
        "name": workspace.name,
        "description": workspace.description,
        "kind": "personal" if workspace.personal else "shared",
        "owners": [{"id": o.id, "display_name": o.display_name, "email": o.email} for o in owners],
    }
