"""What `scaiwave role …` does: name resolution, scope of the acting admin, guards, idempotence
and the audit trail. The SQL lives in ``adapters/db.py``; "may X do Y" in the core
(``api.permissions``), shared with the room plugin.

Heavy module: imported by the commands when they run, never by ``scaiwave --help``.

- Every change runs in one transaction (``_tx``) that first makes sure the built-in roles
  exist (``api.permissions.ensure_builtin_roles``: one SELECT once they do; the seeding itself
  is audited as ``role.builtin.seed``). A change and its audit row commit together; a refused
  change (guard, unknown name, out-of-scope token) leaves the database as it was. Reading
  commands (list, show, assignments, check) use a read-only session (``_read``).
- Repeating a change is harmless: it reports ``"result": "unchanged"`` and exits 0.
- Acting admin (``app.actor``): a tenant_admin token only reads and changes its own tenant
  (exit 3 otherwise); built-in roles are global, so changing their permissions needs platform
  scope; granting ``platform_admin`` needs platform scope and ``partner_admin`` partner scope.

Error codes (exit 1 unless noted): SW_TENANT_NOT_FOUND, SW_WORKSPACE_NOT_FOUND,
SW_PARTICIPANT_NOT_FOUND, SW_ROLE_NOT_FOUND, SW_ROLE_AMBIGUOUS, SW_ROLE_NAME_INVALID,
SW_ROLE_BUILTIN, SW_ROLE_IN_USE, SW_ROLE_SCOPE, SW_ROLE_NOT_RESETTABLE, SW_PERMISSION_UNKNOWN,
SW_WORKSPACE_NEEDS_OWNER, SW_TENANT_NEEDS_ADMIN, SW_ROLE_FILE_INVALID; out of the admin
token's scope: SW_AUTH_INSUFFICIENT_PERMISSION (exit 3).
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import re

from scaiwave_cli import api

P = api.permissions

NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,62}$")
NAME_RULE = "2-63 characters: lowercase letters, digits, '_', '.', '-', starting with a letter"
MEMBER_ROLES = frozenset(P.WORKSPACE_MEMBER_ROLES)
ROLE_COLUMNS = ["name", "tenant", "builtin", "level", "permissions", "holders", "customized"]
ASSIGNMENT_COLUMNS = [
    "tenant",
    "participant_id",
    "participant",
    "role",
    "scope",
    "workspace",
    "source",
    "since",
]
PLAN_COLUMNS = ["line", "participant", "role", "scope", "result"]
FILE_ERRORS_SHOWN = 20


def _db():
    from scaiwave_role.adapters import db

    return db


class _Rollback(Exception):
    """Raised at the end of a dry run so the transaction rolls back."""


@contextlib.contextmanager
def _tx(app, *, rollback: bool = False):
    """One write transaction; the built-in roles made sure of first, in the same transaction
    (and audited once, as ``role.builtin.seed``, when this call creates them)."""
    try:
        with app.store.transaction() as session:
            _seed(app, session)
            yield session
            if rollback:
                raise _Rollback
    except _Rollback:
        pass


@contextlib.contextmanager
def _read(app):
    """A read-only session (``store.read_session``: on SQLite no write lock, so a long listing
    never blocks writers). On first use the built-ins are seeded before, in a short write
    transaction of their own; once they exist that costs one SELECT."""
    with app.store.read_session() as session:
        if P.missing_builtin_roles(session):
            session.rollback()
            with app.store.transaction() as writer:
                _seed(app, writer)
        yield session


def _seed(app, session) -> None:
    created = P.ensure_builtin_roles(session)
    if created:
        api.audit.record(
            session,
            app.actor,
            "role.builtin.seed",
            "roles:builtin",
            details={"created": created, "roles": sorted(P.BUILTIN_ROLES)},
        )


# -- the acting admin's scope ----------------------------------------------------------------


def _visible_tenant_ids(app, session):
    """None for a platform actor (no filter), else the ids of the tenants it may see."""
    if app.actor.is_platform:
        return None
    return [t.id for t in _db().all_tenants(session) if app.actor.can_see_tenant(t)]


def _require_grantable(app, role) -> None:
    """Nobody grants more than its own scope: platform_admin needs a platform actor,
    partner_admin a platform or partner one."""
    if not role.builtin:
        return
    if role.name == "platform_admin":
        app.actor.require_platform("grant or take away platform_admin")
    elif role.name == "partner_admin" and app.actor.scope not in ("platform", "partner"):
        raise api.PermissionDenied(
            f"{app.actor.name} ({app.actor.scope} admin) may not grant or take away partner_admin",
            hint="use a platform or partner admin token",
        )


def _require_role_change(app, session, role):
    """Changing a role: a built-in is global (platform scope); a custom one needs its tenant.
    Returns the custom role's tenant (None for a built-in)."""
    if role.tenant_id is None:
        app.actor.require_platform(f"change the built-in role {role.name!r} (it is global)")
        return None
    tenant = _db().tenants_by_id(session, [role.tenant_id])[role.tenant_id]
    app.actor.require_tenant(tenant)
    return tenant


# -- resolution ------------------------------------------------------------------------------


def _tenant(app, session, slug: str):
    tenant = _db().tenant_by_slug(session, slug)
    if tenant is None:
        raise api.NotFoundError(
            f"tenant {slug!r} not found",
            code="SW_TENANT_NOT_FOUND",
            hint="`scaiwave admin list-tenants` shows the slugs",
        )
    app.actor.require_tenant(tenant)
    return tenant


def _workspace(session, tenant, slug: str):
    ws = _db().workspace_by_slug(session, tenant.id, slug)
    if ws is None:
        raise api.NotFoundError(
            f"workspace {slug!r} not found in tenant {tenant.slug!r}",
            code="SW_WORKSPACE_NOT_FOUND",
            hint=f"`scaiwave admin list-workspaces --tenant {tenant.slug}` shows the slugs",
        )
    return ws


def _participant(session, tenant, ref: str):
    found = _db().participants_by_ref(session, tenant.id, [ref]).get(ref)
    if found is None:
        raise api.NotFoundError(
            f"participant {ref!r} not found in tenant {tenant.slug!r}",
            code="SW_PARTICIPANT_NOT_FOUND",
            hint="give a participant id or e-mail; "
            f"`scaiwave admin list-participants --tenant {tenant.slug}` lists them",
        )
    return found


def _role(app, session, name: str, tenant=None):
    """The built-in role ``name``, else the custom role of that name in ``tenant`` (or, with no
    tenant, in the one tenant visible to the actor that has it)."""
    db = _db()
    role = db.builtin_role(session, name)
    if role is not None:
        return role
    if tenant is not None:
        role = db.custom_role(session, tenant.id, name)
        if role is not None:
            return role
        known = [r.name for r in db.roles_for(session, [tenant.id])]
    else:
        found = db.custom_roles_named(session, name, _visible_tenant_ids(app, session))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            slugs = sorted(
                t.slug for t in db.tenants_by_id(session, [r.tenant_id for r in found]).values()
            )
            raise api.DomainError(
                f"role {name!r} exists in {len(found)} tenants ({', '.join(slugs)})",
                code="SW_ROLE_AMBIGUOUS",
                hint="pass --tenant <slug> to say which one",
            )
        known = [r.name for r in db.roles_for(session, _visible_tenant_ids(app, session))]
    near = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5)
    where = f" in tenant {tenant.slug!r}" if tenant is not None else ""
    raise api.NotFoundError(
        f"role {name!r} not found{where}" + (f" (did you mean {', '.join(near)}?)" if near else ""),
        code="SW_ROLE_NOT_FOUND",
        hint="`scaiwave role list --tenant <slug>` shows the roles",
        details={"close_matches": near},
    )


def level_of(role) -> str:
    """Where ``role`` may be assigned: the shipped level of a built-in, else the row's."""
    return (P.role_level(role.name) if role.builtin else None) or role.level or P.TENANT_LEVEL


def _is_member_role(role) -> bool:
    """owner / editor / viewer: held as ``workspace_members`` rows."""
    return bool(role.builtin) and role.name in MEMBER_ROLES


def _level_error(role, workspace_slug):
    level = level_of(role)
    if level == P.WORKSPACE_LEVEL and workspace_slug is None:
        return api.DomainError(
            f"{role.name!r} is a workspace role: give --workspace <slug>",
            code="SW_ROLE_SCOPE",
            hint="owner, editor, viewer (workspace memberships) and custom roles created with "
            "--level workspace are held in one workspace",
        )
    if level == P.TENANT_LEVEL and workspace_slug is not None:
        return api.DomainError(
            f"{role.name!r} is a tenant role: it is held for the whole tenant, not one workspace",
            code="SW_ROLE_SCOPE",
            hint="drop --workspace, or create a custom role with --level workspace",
        )
    return None


# -- records ---------------------------------------------------------------------------------


def _ordered(perms) -> list[str]:
    """Catalog order, then any unknown strings found in the database (kept visible)."""
    return [p for p in P.PERMISSIONS if p in perms] + sorted(set(perms) - set(P.CATALOG))


def _role_record(role, perms, tenant_slug, counts=None) -> dict:
    record = {
        "name": role.name,
        "tenant": tenant_slug,
        "builtin": bool(role.builtin),
        "level": level_of(role),
        "description": role.description or "",
        "permissions": _ordered(perms),
    }
    if counts is not None:
        record["holders"], record["assignments"] = counts
    if role.builtin:
        shipped = P.SHIPPED_PERMISSIONS.get(role.name, frozenset())
        record["customized"] = set(perms) != set(shipped)
        record["added"] = _ordered(set(perms) - shipped)
        record["removed"] = _ordered(shipped - set(perms))
    return record


def _counts(session, roles, tenant_ids) -> dict:
    """``{role_id: (holders, assignments)}`` in ``tenant_ids`` (all when None): role_assignments
    rows, plus workspace_members rows for owner / editor / viewer. Two statements."""
    db = _db()
    assigned = db.assignment_counts(session, [r.id for r in roles], tenant_ids)
    members = {}
    if any(_is_member_role(r) for r in roles):
        members = db.member_counts(session, tenant_ids)
    out = {}
    for role in roles:
        holders, rows = assigned.get(role.id, (0, 0))
        if _is_member_role(role):
            extra = members.get(role.name, (0, 0))
            holders, rows = holders + extra[0], rows + extra[1]
        out[role.id] = (holders, rows)
    return out


# -- role list / show / create / delete ------------------------------------------------------


def list_roles(app, tenant_slug) -> list[dict]:
    db = _db()
    with _read(app) as session:
        tenant = _tenant(app, session, tenant_slug) if tenant_slug else None
        tenant_ids = [tenant.id] if tenant is not None else _visible_tenant_ids(app, session)
        roles = db.roles_for(session, tenant_ids)
        perms = db.permissions_of(session, [r.id for r in roles])
        counts = _counts(session, roles, tenant_ids)
        slugs = {
            t.id: t.slug for t in db.tenants_by_id(session, {r.tenant_id for r in roles}).values()
        }
        rows = []
        for role in roles:
            shipped = P.SHIPPED_PERMISSIONS.get(role.name) if role.builtin else None
            rows.append(
                {
                    "name": role.name,
                    "tenant": slugs.get(role.tenant_id),
                    "builtin": bool(role.builtin),
                    "level": level_of(role),
                    "permissions": len(perms[role.id]),
                    "holders": counts[role.id][0],
                    "assignments": counts[role.id][1],
                    "customized": None if shipped is None else set(perms[role.id]) != shipped,
                    "description": role.description or "",
                }
            )
    return rows


def show_role(app, name, tenant_slug) -> dict:
    db = _db()
    with _read(app) as session:
        tenant = _tenant(app, session, tenant_slug) if tenant_slug else None
        role = _role(app, session, name, tenant)
        if role.tenant_id is not None:
            tenant = db.tenants_by_id(session, [role.tenant_id])[role.tenant_id]
            app.actor.require_tenant(tenant)
        tenant_ids = [tenant.id] if tenant is not None else _visible_tenant_ids(app, session)
        perms = db.permissions_of(session, [role.id])[role.id]
        counts = _counts(session, [role], tenant_ids)[role.id]
        slug = tenant.slug if role.tenant_id is not None else None
        record = _role_record(role, perms, slug, counts)
        record["counted_in"] = tenant.slug if tenant is not None else "all visible tenants"
        return record


def create_role(app, name, tenant_slug, from_role, level, description) -> dict:
    db = _db()
    if P.is_builtin(name):
        raise api.DomainError(
            f"{name!r} is a built-in role",
            code="SW_ROLE_BUILTIN",
            hint=f"choose another name; --from {name} starts from its permissions",
        )
    if not NAME_RE.match(name):
        raise api.DomainError(
            f"invalid role name {name!r}", code="SW_ROLE_NAME_INVALID", hint=NAME_RULE
        )
    with _tx(app) as session:
        tenant = _tenant(app, session, tenant_slug)
        source_perms: set = set()
        source = None
        if from_role:
            source = _role(app, session, from_role, tenant)
            source_perms = db.permissions_of(session, [source.id])[source.id]
        level = level or (level_of(source) if source is not None else P.TENANT_LEVEL)
        existing = db.custom_role(session, tenant.id, name)
        if existing is not None:
            perms = db.permissions_of(session, [existing.id])[existing.id]
            differs = []
            if from_role and perms != source_perms:
                differs.append(f"permissions other than {from_role!r}'s")
            if level != level_of(existing):
                differs.append(f"level {level_of(existing)!r}")
            if description is not None and description != (existing.description or ""):
                differs.append("another description")
            if differs:
                app.out.warn(
                    f"role {name!r} already exists with {', '.join(differs)}; left as it is "
                    "(`scaiwave role permissions add|remove` changes it)"
                )
            record = _role_record(existing, perms, tenant.slug)
            record["result"] = "unchanged"
            return record
        role = db.create_role(
            session,
            tenant_id=tenant.id,
            name=name,
            level=level,
            description=description,
            permissions=source_perms,
        )
        record = _role_record(role, source_perms, tenant.slug)
        api.audit.record(
            session,
            app.actor,
            "role.create",
            f"role:{tenant.slug}/{name}",
            tenant_id=tenant.id,
            details={
                "level": level,
                "from": from_role,
                "permissions": record["permissions"],
                "description": description,
            },
        )
        record["result"] = "created"
        return record


def delete_role(app, name, tenant_slug, reassign_to) -> dict:
    db = _db()
    if P.is_builtin(name):
        raise api.DomainError(
            f"{name!r} is a built-in role and cannot be deleted",
            code="SW_ROLE_BUILTIN",
            hint=f"`scaiwave role permissions reset {name}` restores its shipped permissions",
        )
    with _tx(app) as session:
        tenant = _tenant(app, session, tenant_slug)
        role = db.custom_role(session, tenant.id, name)
        result = {"name": name, "tenant": tenant.slug, "reassigned_to": None}
        if role is None:
            app.out.info(f"role {name!r} does not exist in tenant {tenant.slug!r}: nothing to do")
            return {**result, "moved": 0, "merged": 0, "result": "unchanged"}
        rows = db.assignment_rows(session, role.id)
        holders = len({r.participant_id for r in rows})
        if rows and not reassign_to:
            raise api.DomainError(
                f"role {name!r} is held by {holders} participant(s) ({len(rows)} assignment(s))",
                code="SW_ROLE_IN_USE",
                hint=f"pass --reassign-to <role>; `scaiwave role assignments --role {name} "
                f"--tenant {tenant.slug}` shows who holds it",
                details={"holders": holders, "assignments": len(rows)},
            )
        moved = merged = 0
        if reassign_to:
            target = _role(app, session, reassign_to, tenant)
            if target.id == role.id:
                raise api.DomainError(
                    "--reassign-to names the role being deleted",
                    code="SW_ROLE_SCOPE",
                    hint="name another role of the tenant or a built-in",
                )
            _require_grantable(app, target)
            moved, merged = _reassign(session, tenant, role, target, rows, app.actor.name)
            result["reassigned_to"] = target.name
        perms = _ordered(db.permissions_of(session, [role.id])[role.id])
        db.delete_role(session, role.id)
        api.audit.record(
            session,
            app.actor,
            "role.delete",
            f"role:{tenant.slug}/{name}",
            tenant_id=tenant.id,
            details={
                "level": role.level,
                "permissions": perms,
                "assignments": len(rows),
                "reassigned_to": result["reassigned_to"],
                "moved": moved,
                "merged": merged,
            },
        )
        return {**result, "moved": moved, "merged": merged, "result": "deleted"}


def _reassign(session, tenant, role, target, rows, by) -> tuple[int, int]:
    """Move ``rows`` (assignments of ``role``) to ``target``: (moved, merged into one the
    participant already had)."""
    db = _db()
    if not rows:
        return 0, 0
    level = level_of(target)
    wrong = [r for r in rows if (r.workspace_id is None) != (level == P.TENANT_LEVEL)]
    if wrong:
        need = "tenant" if level == P.TENANT_LEVEL else "workspace"
        raise api.DomainError(
            f"{target.name!r} is a {need} role, but {len(wrong)} assignment(s) of {role.name!r} "
            f"are not at {need} scope",
            code="SW_ROLE_SCOPE",
            hint=f"reassign to a role of level {level_of(role)!r}",
        )
    if not _is_member_role(target):
        return db.reassign(session, role.id, target.id)
    # owner / editor / viewer are memberships: a participant who is already a member of the
    # workspace keeps its membership role (never demoted by a reassignment)
    members = db.members_of(
        session, tenant.id, {r.workspace_id for r in rows}, {r.participant_id for r in rows}
    )
    moved = merged = 0
    for row in rows:
        key = (row.workspace_id, row.participant_id)
        if key in members:
            merged += 1
        else:
            db.set_member_role(
                session,
                tenant_id=tenant.id,
                workspace_id=row.workspace_id,
                participant_id=row.participant_id,
                role=target.name,
                existed=False,
            )
            members[key] = target.name
            moved += 1
        db.remove_assignment(session, row.id)
    return moved, merged


# -- role permissions add / remove / reset ---------------------------------------------------


def change_permissions(app, op, name, names, tenant_slug) -> dict:
    db = _db()
    wanted = set(P.validate(names)) if names else set()  # unknown -> exit 1, close matches
    with _tx(app) as session:
        tenant = _tenant(app, session, tenant_slug) if tenant_slug else None
        role = _role(app, session, name, tenant)
        role_tenant = _require_role_change(app, session, role)
        current = db.permissions_of(session, [role.id])[role.id]
        if op == "add":
            target = current | wanted
        elif op == "remove":
            target = current - wanted
        else:
            if not role.builtin:
                raise api.DomainError(
                    f"{name!r} is a custom role: only built-in roles have a shipped set",
                    code="SW_ROLE_NOT_RESETTABLE",
                    hint=f"use `scaiwave role permissions remove|add {name} …`",
                )
            shipped = set(P.SHIPPED_PERMISSIONS[role.name])
            target = ((current - wanted) | (wanted & shipped)) if wanted else shipped
        granted, revoked = target - current, current - target
        slug = role_tenant.slug if role_tenant is not None else None
        if granted or revoked:
            db.set_permissions(session, role.id, add=sorted(granted), remove=sorted(revoked))
            api.audit.record(
                session,
                app.actor,
                f"role.permissions.{op}",
                f"role:{slug}/{role.name}" if slug else f"role:{role.name}",
                tenant_id=role.tenant_id,
                details={
                    "granted": _ordered(granted),
                    "revoked": _ordered(revoked),
                    "permissions": _ordered(target),
                },
            )
        record = _role_record(role, target, slug)
        record["granted"] = _ordered(granted)
        record["revoked"] = _ordered(revoked)
        record["result"] = "changed" if (granted or revoked) else "unchanged"
        return record


# -- assign (one, or a file) -----------------------------------------------------------------


def _scope_label(ws_slug) -> str:
    return "tenant" if ws_slug is None else f"workspace:{ws_slug}"


class _Plan:
    """The changes of one `role assign` (single or from a file), checked as a whole."""

    def __init__(self):
        self.rows: list[dict] = []
        self.errors: list[str] = []
        self.denied: list[str] = []


def _plan(app, session, tenant, items) -> _Plan:
    """``items``: [(line, participant_ref, role_name, workspace_slug or None)]. Resolves every
    name in a fixed number of statements per ``CHUNK`` lines and says what each line would
    change; problems are collected, not raised."""
    db = _db()
    plan = _Plan()
    participants = db.participants_by_ref(session, tenant.id, {i[1] for i in items})
    workspaces = db.workspaces_by_slug(session, tenant.id, {i[3] for i in items if i[3]})
    roles: dict = {}
    for role in db.roles_for(session, [tenant.id]):  # built-ins first: they win on names
        roles.setdefault(role.name, role)
    p_ids = {p.id for p in participants.values()}
    held = db.assignments_of(session, tenant.id, p_ids)
    members = db.members_of(session, tenant.id, [w.id for w in workspaces.values()], p_ids)
    member_of_before = dict(members)
    given: dict = {}
    for line, ref, role_name, ws_slug in items:
        label = f"line {line}: " if line else ""
        p = participants.get(ref)
        role = roles.get(role_name)
        ws = workspaces.get(ws_slug) if ws_slug else None
        problems = []
        if p is None:
            problems.append(f"participant {ref!r} not found in tenant {tenant.slug!r}")
        if role is None:
            near = difflib.get_close_matches(role_name, list(roles), n=3, cutoff=0.5)
            problems.append(
                f"role {role_name!r} not found"
                + (f" (did you mean {', '.join(near)}?)" if near else "")
            )
        if ws_slug and ws is None:
            problems.append(f"workspace {ws_slug!r} not found in tenant {tenant.slug!r}")
        if role is not None:
            err = _level_error(role, ws_slug)
            if err is not None:
                problems.append(err.format_message())
            try:
                _require_grantable(app, role)
            except api.PermissionDenied as exc:
                plan.denied.append(label + exc.format_message())
        if problems:
            plan.errors.extend(label + msg for msg in problems)
            continue
        row = {
            "line": line,
            "participant": ref,
            "participant_id": p.id,
            "active": bool(p.active),
            "role": role.name,
            "role_id": role.id,
            "scope": _scope_label(ws_slug),
            "workspace": ws_slug,
            "workspace_id": ws.id if ws else None,
            "previous": None,
        }
        if _is_member_role(role):
            key = (ws.id, p.id)
            earlier = given.get(key)
            if earlier is not None and earlier != role.name:
                plan.errors.append(
                    f"{label}{ref!r} is given two workspace roles in {ws_slug!r} "
                    f"({earlier!r} and {role.name!r}); a member holds one"
                )
                continue
            given[key] = role.name
            row["kind"] = "member"
            current = members.get(key)
            row["previous"] = member_of_before.get(key)
            if current == role.name:
                row["result"] = "unchanged"
            else:
                row["result"] = "assigned" if current is None else f"changed from {current}"
                members[key] = role.name
        else:
            row["kind"] = "assignment"
            key = (p.id, role.id, row["workspace_id"])
            if key in held:
                row["result"] = "unchanged"
            else:
                row["result"] = "assigned"
                held.add(key)
        plan.rows.append(row)
    demoted = {
        (r["workspace_id"], r["participant_id"])
        for r in plan.rows
        if r["kind"] == "member"
        and r["previous"] == "owner"
        and members.get((r["workspace_id"], r["participant_id"])) != "owner"
    }
    if demoted:
        _guard_owners(session, plan, demoted, members, workspaces)
    return plan


def _guard_owners(session, plan, demoted, members, workspaces) -> None:
    """Refuse a plan that leaves a workspace without an active owner."""
    slugs = {w.id: w.slug for w in workspaces.values()}
    owners = _db().active_owners(session, {ws for ws, _ in demoted})
    active = {r["participant_id"] for r in plan.rows if r["active"]}
    for ws_id, left in owners.items():
        left -= {p for (w, p) in demoted if w == ws_id}
        # owners made by this plan count too
        left |= {
            p for (w, p), role in members.items() if w == ws_id and role == "owner" and p in active
        }
        if not left:
            plan.errors.append(_needs_owner(slugs.get(ws_id, ws_id)).format_message())


def _needs_owner(ws_slug):
    return api.DomainError(
        f"workspace {ws_slug!r} would be left without an active owner",
        code="SW_WORKSPACE_NEEDS_OWNER",
        hint="make another participant owner first: `scaiwave role assign <participant> owner "
        f"--tenant <slug> --workspace {ws_slug}`",
    )


def _apply(app, session, tenant, plan, *, source: str) -> int:
    db = _db()
    changed = 0
    for row in plan.rows:
        if row["result"] == "unchanged":
            continue
        if row["kind"] == "member":
            db.set_member_role(
                session,
                tenant_id=tenant.id,
                workspace_id=row["workspace_id"],
                participant_id=row["participant_id"],
                role=row["role"],
                existed=row["previous"] is not None,
            )
        else:
            db.add_assignment(
                session,
                tenant_id=tenant.id,
                participant_id=row["participant_id"],
                role_id=row["role_id"],
                workspace_id=row["workspace_id"],
                by=app.actor.name,
            )
        api.audit.record(
            session,
            app.actor,
            "role.assign",
            f"participant:{row['participant_id']}",
            tenant_id=tenant.id,
            details={
                "role": row["role"],
                "scope": row["scope"],
                "previous": row["previous"],
                "source": source,
            },
        )
        changed += 1
    session.flush()
    return changed


def _plan_error(plan):
    if plan.denied:
        return api.PermissionDenied(
            "; ".join(plan.denied[:FILE_ERRORS_SHOWN]),
            hint="use an admin token whose scope covers the roles granted",
            details={"denied": plan.denied},
        )
    if len(plan.errors) == 1 and "without an active owner" in plan.errors[0]:
        return api.DomainError(
            plan.errors[0],
            code="SW_WORKSPACE_NEEDS_OWNER",
            hint="make another participant owner first",
        )
    shown = "; ".join(plan.errors[:FILE_ERRORS_SHOWN])
    more = (
        f" (and {len(plan.errors) - FILE_ERRORS_SHOWN} more)"
        if len(plan.errors) > FILE_ERRORS_SHOWN
        else ""
    )
    return api.DomainError(
        f"{len(plan.errors)} problem(s), nothing changed: {shown}{more}",
        code="SW_ROLE_FILE_INVALID",
        hint="fix the file and run again (--dry-run checks it without changing anything)",
        details={"errors": plan.errors},
    )


def assign(app, participant_ref, role_name, tenant_slug, workspace_slug) -> dict:
    with _tx(app) as session:
        tenant = _tenant(app, session, tenant_slug)
        # one assignment: each unknown name keeps its own error code
        participant = _participant(session, tenant, participant_ref)
        role = _role(app, session, role_name, tenant)
        if workspace_slug:
            _workspace(session, tenant, workspace_slug)
        err = _level_error(role, workspace_slug)
        if err is not None:
            raise err
        _require_grantable(app, role)
        plan = _plan(app, session, tenant, [(None, participant_ref, role.name, workspace_slug)])
        if plan.errors or plan.denied:
            raise _plan_error(plan)
        _apply(app, session, tenant, plan, source="cli")
        row = plan.rows[0]
        if not participant.active and row["result"] != "unchanged":
            app.out.warn(
                f"participant {participant_ref!r} is deactivated: the role takes effect only "
                "once it is active again"
            )
        return {
            "participant": participant_ref,
            "participant_id": participant.id,
            "role": role.name,
            "tenant": tenant.slug,
            "scope": row["scope"],
            "previous": row["previous"],
            "result": "changed" if row["result"].startswith("changed") else row["result"],
        }


def read_assignment_file(stream) -> list[tuple]:
    """``participant,role,scope`` lines; a header line ``participant,role,scope`` is optional,
    ``#`` starts a comment line. scope: empty or ``tenant``; ``workspace:<slug>``; or a bare
    workspace slug. Returns [(line, participant, role, workspace slug or None)]."""
    items = []
    errors = []
    for number, fields in enumerate(csv.reader(stream), start=1):
        fields = [f.strip() for f in fields]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if not items and not errors and [f.lower() for f in fields[:2]] == ["participant", "role"]:
            continue
        if len(fields) < 2 or len(fields) > 3 or not fields[0] or not fields[1]:
            errors.append(f"line {number}: expected participant,role[,scope], got {fields!r}")
            continue
        scope = fields[2] if len(fields) == 3 else ""
        if scope in ("", "tenant"):
            ws = None
        elif scope.startswith("workspace:"):
            ws = scope[len("workspace:") :].strip()
            if not ws:
                errors.append(f"line {number}: empty workspace slug in {scope!r}")
                continue
        else:
            ws = scope
        items.append((number, fields[0], fields[1], ws))
    if errors:
        raise api.DomainError(
            f"{len(errors)} unreadable line(s), nothing changed: "
            + "; ".join(errors[:FILE_ERRORS_SHOWN]),
            code="SW_ROLE_FILE_INVALID",
            hint="each line: participant,role,scope (scope: tenant | workspace:<slug>)",
            details={"errors": errors},
        )
    if not items:
        raise api.DomainError(
            "the file has no assignment lines",
            code="SW_ROLE_FILE_INVALID",
            hint="each line: participant,role,scope (scope: tenant | workspace:<slug>)",
        )
    return items


def assign_from_file(app, stream, tenant_slug, *, dry_run) -> tuple[list[dict], str]:
    """All or nothing: every line is resolved and checked first; one problem and nothing is
    written (exit 1, every problem listed). ``dry_run`` reports the plan and rolls back."""
    items = read_assignment_file(stream)
    with _tx(app, rollback=dry_run) as session:
        tenant = _tenant(app, session, tenant_slug)
        plan = _plan(app, session, tenant, items)
        if plan.errors or plan.denied:
            raise _plan_error(plan)
        changed = 0 if dry_run else _apply(app, session, tenant, plan, source="file")
        if not dry_run and changed:
            api.audit.record(
                session,
                app.actor,
                "role.assign_file",
                f"tenant:{tenant.slug}",
                tenant_id=tenant.id,
                details={"lines": len(plan.rows), "changed": changed},
            )
    rows = [{k: r[k] for k in PLAN_COLUMNS} for r in plan.rows]
    would = sum(1 for r in rows if r["result"] != "unchanged")
    verb = "would change" if dry_run else "changed"
    summary = f"{len(rows)} line(s): {would} {verb}, {len(rows) - would} unchanged"
    if dry_run:
        summary += " (dry run: nothing written)"
    return rows, summary


# -- unassign ----------------------------------------------------------------------------------


def unassign(app, participant_ref, role_name, tenant_slug, workspace_slug) -> dict:
    db = _db()
    with _tx(app) as session:
        tenant = _tenant(app, session, tenant_slug)
        participant = _participant(session, tenant, participant_ref)
        role = _role(app, session, role_name, tenant)
        ws = _workspace(session, tenant, workspace_slug) if workspace_slug else None
        err = _level_error(role, workspace_slug)
        if err is not None:
            raise err
        _require_grantable(app, role)
        result = {
            "participant": participant_ref,
            "participant_id": participant.id,
            "role": role.name,
            "tenant": tenant.slug,
            "scope": _scope_label(workspace_slug),
            "result": "unchanged",
        }
        if _is_member_role(role):
            current = db.members_of(session, tenant.id, [ws.id], [participant.id]).get(
                (ws.id, participant.id)
            )
            if current != role.name:
                return result
            if role.name == "owner":
                owners = db.active_owners(session, [ws.id])[ws.id] - {participant.id}
                if not owners:
                    raise _needs_owner(ws.slug)
            db.remove_member(session, ws.id, participant.id)
        else:
            row = db.find_assignment(session, participant.id, role.id, ws.id if ws else None)
            if row is None:
                return result
            if role.builtin and role.name == "tenant_admin":
                admins = db.active_holders(session, tenant.id, role.id) - {participant.id}
                if not admins:
                    raise api.DomainError(
                        f"{participant_ref!r} is the last active tenant_admin of tenant "
                        f"{tenant.slug!r}",
                        code="SW_TENANT_NEEDS_ADMIN",
                        hint="assign tenant_admin to another participant first",
                    )
            db.remove_assignment(session, row.id)
        api.audit.record(
            session,
            app.actor,
            "role.unassign",
            f"participant:{participant.id}",
            tenant_id=tenant.id,
            details={"role": role.name, "scope": result["scope"]},
        )
        result["result"] = "unassigned"
        return result


# -- listing and checking --------------------------------------------------------------------


def list_assignments(app, participant_ref, role_name, tenant_slug, workspace_slug):
    """Resolve the filters first (errors before any output), then return a generator of rows
    (role_assignments, then workspace members) streamed from the open transaction."""
    db = _db()
    stack = contextlib.ExitStack()
    try:
        session = stack.enter_context(_read(app))
        tenant = _tenant(app, session, tenant_slug) if tenant_slug else None
        tenant_ids = [tenant.id] if tenant is not None else _visible_tenant_ids(app, session)
        participant = _participant(session, tenant, participant_ref) if participant_ref else None
        ws = _workspace(session, tenant, workspace_slug) if workspace_slug else None
        role = _role(app, session, role_name, tenant) if role_name else None
    except BaseException as exc:
        stack.__exit__(type(exc), exc, exc.__traceback__)  # rolls the transaction back
        raise
    common = {
        "tenant_ids": tenant_ids,
        "participant_id": participant.id if participant else None,
        "workspace_id": ws.id if ws else None,
    }

    def rows():
        with stack:
            if role is None or not _is_member_role(role):
                role_id = role.id if role is not None else None
                for row in db.stream_assignments(session, role_id=role_id, **common):
                    yield _assignment_row(row, "role_assignment")
            if role is None or _is_member_role(role):
                name = role.name if role is not None else None
                for row in db.stream_members(session, role=name, **common):
                    yield _assignment_row(row, "workspace_member")

    return rows()


def _assignment_row(row, source) -> dict:
    tenant, participant_id, email, display_name, role, workspace, since = row
    return {
        "tenant": tenant,
        "participant_id": participant_id,
        "participant": email or display_name,
        "role": role,
        "scope": "tenant" if workspace is None else "workspace",
        "workspace": workspace,
        "source": source,
        "since": since,
    }


def check(app, participant_ref, permission, tenant_slug, workspace_slug) -> dict:
    if permission not in P.CATALOG:
        raise P.UnknownPermission(permission)
    with _read(app) as session:
        tenant = _tenant(app, session, tenant_slug)
        participant = _participant(session, tenant, participant_ref)
        ws = _workspace(session, tenant, workspace_slug) if workspace_slug else None
        decision = P.check(
            session,
            tenant_id=tenant.id,
            participant_id=participant.id,
            permission=permission,
            workspace_id=ws.id if ws else None,
        )
    chain = [
        {
            "role": link["role"],
            "scope": link["scope"],
            "workspace": workspace_slug if link["scope"] == "workspace" else None,
            "source": link["source"],
            "grants": link["grants"],
        }
        for link in decision.chain
    ]
    return {
        "allowed": decision.allowed,
        "participant": participant_ref,
        "participant_id": participant.id,
        "permission": permission,
        "tenant": tenant.slug,
        "workspace": workspace_slug,
        "reason": decision.reason.replace(f"workspace {ws.id}", f"workspace {ws.slug!r}")
        if ws is not None
        else decision.reason,
        "chain": chain,
    }


def print_check(app, record: dict) -> None:
    fmt = app.out.format
    if fmt in ("json", "jsonl"):
        app.out.record(record)
        return
    if fmt == "csv":
        keys = ("allowed", "participant", "permission", "tenant", "workspace")
        base = {k: record[k] for k in keys}
        links = record["chain"] or [
            {"role": None, "scope": None, "workspace": None, "source": None, "grants": None}
        ]
        app.out.rows(
            ({**base, **{f"chain_{k}": v for k, v in link.items()}} for link in links),
            [*keys, "chain_role", "chain_scope", "chain_workspace", "chain_source", "chain_grants"],
        )
        return
    where = f"workspace {record['workspace']!r} of " if record["workspace"] else ""
    verdict = "ALLOWED" if record["allowed"] else "DENIED"
    may = "may" if record["allowed"] else "may not"
    app.out.text(
        f"{verdict}: {record['participant']} {may} {record['permission']} "
        f"in {where}tenant {record['tenant']!r}"
    )
    app.out.text(f"  because {record['reason']}")
    for link in record["chain"]:
        at = "tenant" if link["scope"] == "tenant" else f"workspace {link['workspace']}"
        mark = "grants it" if link["grants"] else "does not grant it"
        app.out.text(f"  - role {link['role']} at {at} scope ({link['source']}): {mark}")
