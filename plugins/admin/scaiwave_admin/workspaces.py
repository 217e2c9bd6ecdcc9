"""`scaiwave admin` commands: workspaces (``list-workspaces``, ``create-workspace``).

Personal workspaces come with each human participant from `scaiwave sync`; shared ones are made
here, each with at least one owner (a ``workspace_members`` row of role ``owner``, which the
core's permission check reads). Light module: click and the core's API only; the SQL lives in
``adapters/directory.py``, imported inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_cli import api

NAME_MAX = 200
TABLE_COLUMNS = ["slug", "name", "kind", "owners", "members", "rooms"]


def _owner_names(owners) -> str:
    names = []
    for owner in owners or ():
        name = owner.get("display_name") or owner["id"]
        names.append(name if owner.get("active", True) else f"{name} (inactive)")
    return ", ".join(names)


@click.command(name="list-workspaces")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option(
    "--member",
    metavar="PARTICIPANT",
    help="Only workspaces this participant (id or e-mail) is a member of; adds its role.",
)
@api.pass_app
def list_workspaces(app, tenant_slug, member):
    """List a tenant's workspaces and their owners.

    Columns: slug, name, kind, owners, member count, room count. Kind is personal (one per
    human, made by the ScaiKey sync) or shared. Streamed, one SQL statement however many
    workspaces there are.

    \b
    Example: scaiwave admin list-workspaces --tenant acme --member ada@acme.test
    """
    from scaiwave_admin.adapters import directory as db

    actor = app.actor
    with app.store.read_session() as session:
        tenant = db.tenant(session, tenant_slug)
        actor.require_tenant(tenant)
        member_id = db.participant(session, tenant, member).id if member else None
        rows = db.stream_workspaces(session, tenant.id, member_id=member_id)
        columns = TABLE_COLUMNS + (["member_role"] if member_id else [])
        if app.out.format == "csv":
            columns = columns + ["id", "description", "created_at"]
        app.out.rows(rows, columns, table_formatters={"owners": _owner_names})


@click.command(name="create-workspace")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--slug", required=True, help="Workspace slug, unique in the tenant.")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="PARTICIPANT",
    help="Owner: an active human participant of the tenant, by id or e-mail. Required; repeatable.",
)
@click.option("--description", help="Optional description.")
@api.pass_app
def create_workspace(app, tenant_slug, slug, name, owners, description):
    """Create a shared workspace with its owners.

    Audited. Re-running with the same slug, name and owners (and description, when given) reports
    "unchanged" and exits 0; a slug already used differently exits 1 (SW_WORKSPACE_SLUG_TAKEN).

    \b
    Example: scaiwave admin create-workspace --tenant acme --slug ux --name UX --owner ada@acme.test
    """
    slug = api.store.validate_slug(slug, what="workspace slug")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise api.DomainError(
            f"invalid workspace name {name!r}: 1-{NAME_MAX} characters",
            code="SW_WORKSPACE_NAME_INVALID",
            hint='e.g. --name "Design team"',
        )
    description = (description or "").strip() or None
    if not owners:
        raise _needs_owner(
            "a workspace needs an owner: give --owner",
            [{"owner": None, "reason": "missing"}],
        )
    from sqlalchemy.exc import IntegrityError

    actor = app.actor
    try:
        result = _create(app, actor, tenant_slug, slug, name, description, owners)
    except IntegrityError:
        # Another writer created the slug between our look-up and our insert (the unique
        # constraint caught it, our transaction rolled back): decide again on what is there now.
        app.log(f"workspace {slug!r} appeared while creating it; checking again")
        result = _create(app, actor, tenant_slug, slug, name, description, owners)
    if app.out.format == "table":
        result = dict(result, owners=_owner_names(result["owners"]))
    app.out.record(result)


def _create(app, actor, tenant_slug, slug, name, description, owner_refs) -> dict:
    from scaiwave_admin.adapters import directory as db

    with app.store.transaction() as session:
        tenant = db.tenant(session, tenant_slug)
        actor.require_tenant(tenant)
        owners = _resolve_owners(session, tenant, owner_refs)
        existing = db.workspace_by_slug(session, tenant.id, slug)
        if existing is not None:
            current = db.owners_of(session, existing.id)
            _require_same(existing, current, tenant, name, description, owners)
            return _result("unchanged", tenant, existing, current)
        workspace = db.add_workspace(
            session, tenant, slug=slug, name=name, description=description, owners=owners
        )
        api.audit.record(
            session,
            actor,
            "workspace.create",
            f"workspace:{tenant.slug}/{slug}",
            tenant_id=tenant.id,
            details={
                "workspace_id": workspace.id,
                "name": name,
                "description": description,
                "owners": [o.id for o in owners],
            },
        )
        return _result("created", tenant, workspace, owners)


def _needs_owner(message: str, problems: list[dict]):
    return api.DomainError(
        message,
        code="SW_WORKSPACE_NEEDS_OWNER",
        hint="--owner takes an active human participant of the tenant (id or e-mail); "
        "`scaiwave admin list-participants --tenant … --kind human --active` lists them",
        details={"problems": problems},
    )


def _resolve_owners(session, tenant, refs) -> list:
    """The owner participants, in the order given, without duplicates; every ref that cannot
    own a workspace is reported at once (``SW_WORKSPACE_NEEDS_OWNER``, exit 1)."""
    from scaiwave_admin.adapters import directory as db

    owners, problems, seen = [], [], set()
    for ref in refs:
        found = db.find_participants(session, tenant.id, ref)
        if not found:
            problems.append({"owner": ref, "reason": "not_found"})
        elif len(found) > 1:
            problems.append({"owner": ref, "reason": "ambiguous", "ids": [p.id for p in found]})
        elif not found[0].active:
            problems.append({"owner": ref, "reason": "inactive", "id": found[0].id})
        elif found[0].kind != "human":
            problems.append(
                {"owner": ref, "reason": "not_human", "id": found[0].id, "kind": found[0].kind}
            )
        elif found[0].id not in seen:
            seen.add(found[0].id)
            owners.append(found[0])
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


def _require_same(existing, current_owners, tenant, name, description, owners) -> None:
    """An identical re-run is fine; anything else on a taken slug is SW_WORKSPACE_SLUG_TAKEN.
    Identical: a shared workspace, same name, same description (when given), and every owner
    asked for already an owner (owners added since do not count against it)."""
    current_ids = {o.id for o in current_owners}
    differences = {}
    if existing.personal:
        differences["kind"] = {"existing": "personal", "requested": "shared"}
    if existing.name != name:
        differences["name"] = {"existing": existing.name, "requested": name}
    if description is not None and (existing.description or None) != description:
        differences["description"] = {"existing": existing.description, "requested": description}
    missing = [o.id for o in owners if o.id not in current_ids]
    if missing:
        differences["owners"] = {"existing": sorted(current_ids), "not_owners": missing}
    if differences:
        raise api.DomainError(
            f"workspace slug {existing.slug!r} is already used in tenant {tenant.slug!r} "
            f"(differs in {', '.join(differences)})",
            code="SW_WORKSPACE_SLUG_TAKEN",
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


COMMANDS = [list_workspaces, create_workspace]
