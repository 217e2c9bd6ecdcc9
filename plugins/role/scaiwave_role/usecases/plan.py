"""The plan of `role assign`, for one assignment or a whole file: every line resolved and
checked before anything is written, then applied with one audit row per change."""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.adapters import db
from scaiwave_role.usecases import resolve

FILE_ERRORS_SHOWN = 20


class Plan:
    """The changes of one `role assign` (single or from a file), checked as a whole."""

    def __init__(self):
        self.rows: list[dict] = []
        self.errors: list[str] = []
        self.denied: list[str] = []


def make(app, session, tenant, items) -> Plan:
    """``items``: [(line, participant_ref, role_name, workspace_slug or None)]. Resolves every
    name in a fixed number of statements per ``CHUNK`` lines and says what each line would
    change; problems are collected, not raised."""
    plan = Plan()
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
            near = resolve.close_matches(role_name, roles)
            problems.append(f"role {role_name!r} not found{resolve.did_you_mean(near)}")
        if ws_slug and ws is None:
            problems.append(f"workspace {ws_slug!r} not found in tenant {tenant.slug!r}")
        if role is not None:
            err = resolve.level_error(role, ws_slug)
            if err is not None:
                problems.append(err.format_message())
            try:
                resolve.require_grantable(app, role)
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
            "scope": resolve.scope_label(ws_slug),
            "workspace": ws_slug,
            "workspace_id": ws.id if ws else None,
            "previous": None,
        }
        if resolve.is_member_role(role):
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
    owners = db.active_owners(session, {ws for ws, _ in demoted})
    active = {r["participant_id"] for r in plan.rows if r["active"]}
    for ws_id, left in owners.items():
        left -= {p for (w, p) in demoted if w == ws_id}
        # owners made by this plan count too
        left |= {
            p for (w, p), role in members.items() if w == ws_id and role == "owner" and p in active
        }
        if not left:
            plan.errors.append(needs_owner(slugs.get(ws_id, ws_id)).format_message())


def needs_owner(ws_slug):
    """The error of leaving workspace ``ws_slug`` without an active owner."""
    return api.DomainError(
        f"workspace {ws_slug!r} would be left without an active owner",
        code=errors.SW_WORKSPACE_NEEDS_OWNER,
        hint="make another participant owner first: `scaiwave role assign <participant> owner "
        f"--tenant <slug> --workspace {ws_slug}`",
    )


def apply(app, session, tenant, plan, *, source: str, advance=None) -> int:
    """Write the plan's changes, each with its audit row; returns how many lines changed.
    ``advance()``, when given, is called once per line (a progress bar)."""
    changed = 0
    for row in plan.rows:
        if advance is not None:
            advance()
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


def error(plan):
    """The one error of a refused plan: out of scope (exit 3), a lone owner guard, or every
    problem listed (``SW_ROLE_FILE_INVALID``)."""
    if plan.denied:
        return api.PermissionDenied(
            "; ".join(plan.denied[:FILE_ERRORS_SHOWN]),
            hint="use an admin token whose scope covers the roles granted",
            details={"denied": plan.denied},
        )
    if len(plan.errors) == 1 and "without an active owner" in plan.errors[0]:
        return api.DomainError(
            plan.errors[0],
            code=errors.SW_WORKSPACE_NEEDS_OWNER,
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
        code=errors.SW_ROLE_FILE_INVALID,
        hint="fix the file and run again (--dry-run checks it without changing anything)",
        details={"errors": plan.errors},
    )
