"""`room archive|restore|close` and `room move`: a room's state and its workspace.

States (the product's): ``open`` (default) <-> ``archived`` (soft-deleted, restorable);
``closed`` is terminal (from open or archived). An archived or closed room is *frozen*: it is
not moved (``SW_ROOM_FROZEN``); a closed room is never restored or archived again
(``SW_ROOM_CLOSED``); both can still be listed, shown and exported. A state this module does
not know is frozen too; a room `room delete` has marked ``deleting`` is refused with
``SW_ROOM_DELETING`` (``rooms.refuse_deleting``). A change to the state the room
already has is "unchanged", exit 0, not audited.

Who may: the admin token's scope decides the tenant (``api.find_tenant(..., actor=app.actor)``,
exit 3 outside it). With ``--as P`` the participant must also hold, through
``api.permissions.check``: ``room.archive`` in the room's workspace (archive, restore);
``room.close`` there, or be the room's creator or a member at power level 100 (close, the
product's rule); ``room.move`` in the room's workspace AND in the target workspace (move).

Every write is a compare-and-set on the state (and workspace) read (``adapters.db``): a
concurrent change makes it ``SW_CONFLICT`` with nothing written. Each change writes one audit
row in its transaction (who, from/to, counts; never content).
"""

from __future__ import annotations

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.usecases.rooms import refuse_deleting

OPEN, ARCHIVED, CLOSED = "open", "archived", "closed"
# action -> (the states it starts from, the state it makes, past tense)
TRANSITIONS = {
    "archive": ((OPEN,), ARCHIVED, "archived"),
    "restore": ((ARCHIVED,), OPEN, "restored"),
    "close": ((OPEN, ARCHIVED), CLOSED, "closed"),
}
PERMISSION = {"archive": "room.archive", "restore": "room.archive", "close": "room.close"}


# -- archive / restore / close -----------------------------------------------------------------


def change_state(app, *, action, room_id, tenant, as_participant=None, dry_run=False, yes=False):
    """Archive, restore or close the room; returns the summary record. ``close`` shows its plan
    and asks (``api.confirm``) first; ``dry_run`` (close) prints the plan and writes nothing."""
    if action == "close":
        return _close(
            app,
            room_id=room_id,
            tenant=tenant,
            as_participant=as_participant,
            dry_run=dry_run,
            yes=yes,
        )
    with app.store.transaction() as session:
        plan = _state_plan(app, session, action, room_id, tenant, as_participant)
        if plan["result"] == "unchanged":
            return plan
        _apply_state(app, session, action, plan)
    return plan


def _close(app, *, room_id, tenant, as_participant, dry_run, yes) -> dict:
    with app.store.read_session() as session:
        plan = _state_plan(app, session, "close", room_id, tenant, as_participant)
    if plan["result"] == "unchanged":
        return plan
    text = describe_close(plan)
    if dry_run:
        app.out.info(f"{text}\n(dry run: nothing written)")
        return {**_public(plan), "result": "would close", "dry_run": True}
    api.confirm(text, yes=yes)
    with app.store.transaction() as session:
        again = _state_plan(app, session, "close", room_id, tenant, as_participant)
        if again["from_state"] != plan["from_state"]:
            raise _conflict(room_id)
        _apply_state(app, session, "close", again)
    return again


def describe_close(plan: dict) -> str:
    """The plan in words (``plan`` as ``_state_plan`` made it, with its room)."""
    from scaiwave_room.usecases.rooms import REFUSED_EXPORT, room_kind

    exportable = room_kind(plan["_room"]) not in REFUSED_EXPORT
    return (
        f"close room {plan['room_id']} ({plan['name']!r}) of tenant {plan['tenant']}, "
        f"workspace {plan['workspace']}, now {plan['from_state']}: {plan['events']} events, "
        f"{plan['members']} members, {plan['media']} media rows are kept but the room is "
        "frozen for good and cannot be restored"
        + (" (it can still be exported)" if exportable else "")
    )


def _state_plan(app, session, action, room_id, tenant_ref, as_participant) -> dict:
    """The checks (tenant scope, room, ``--as`` right, state) and the record; no writes."""
    from scaiwave_room.adapters import db

    sources, target, done = TRANSITIONS[action]
    tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
    room = db.get_room(session, tenant.id, room_id)
    refuse_deleting(room)
    workspace = api.find_workspace(session, tenant, room.workspace_id)
    actor = None
    if as_participant:
        actor = _acting(session, tenant, as_participant)
        _require_state_right(session, tenant, room, workspace, actor, action)
    record = {
        "result": done,
        "room_id": room.id,
        "name": room.name,
        "tenant": tenant.slug,
        "workspace": workspace.slug,
        "from_state": room.state,
        "state": target,
        **db.room_counts(session, room),
        "as": actor.id if actor is not None else None,
        "by": app.actor.name,
        "_tenant_id": tenant.id,
        "_room": room,
    }
    if room.state == target:
        return _public({**record, "result": "unchanged"})
    if room.state == CLOSED:
        raise api.DomainError(
            f"room {room.id} is closed; a closed room cannot be {done} (closed is terminal)",
            code=errors.SW_ROOM_CLOSED,
            hint=_closed_hint(room, tenant),
        )
    if room.state not in sources:
        raise _frozen(room, tenant, f"cannot be {done}")
    return record


def _apply_state(app, session, action, plan) -> None:
    from scaiwave_room.adapters import db

    room = plan.pop("_room")
    tenant_id = plan.pop("_tenant_id")
    if not db.set_room_state(session, room, expected=plan["from_state"], state=plan["state"]):
        raise _conflict(room.id)
    api.audit.record(
        session,
        app.actor,
        f"room.{action}",
        f"room:{room.id}",
        tenant_id=tenant_id,
        details={
            "from": plan["from_state"],
            "to": plan["state"],
            "workspace": plan["workspace"],
            "as": plan["as"],
            "events": plan["events"],
            "members": plan["members"],
            "media": plan["media"],
        },
    )


def _require_state_right(session, tenant, room, workspace, participant, action) -> None:
    from scaiwave_room.adapters import db

    permission = PERMISSION[action]
    decision = _check(session, tenant, participant, permission, workspace)
    if decision.allowed:
        return
    if action == "close":
        # the product's rule: the creator, or a member at power level 100, may close
        if room.creator_id == participant.id:
            return
        if (db.room_member_power(session, room, participant.id) or 0) >= 100:
            return
    raise _denied(
        tenant,
        participant,
        f"{action} room {room.id}",
        permission,
        workspace,
        decision,
        extra=" (or be the room's creator or a member at power level 100)"
        if action == "close"
        else "",
    )


# -- move --------------------------------------------------------------------------------------


def move_room(app, *, room_id, tenant, to_workspace, as_participant=None, dry_run=False) -> dict:
    """Move the room to ``to_workspace`` (slug or id, of the same tenant); returns the summary
    record. ``dry_run`` prints the plan and writes nothing."""
    from scaiwave_room.adapters import db

    opener = app.store.read_session if dry_run else app.store.transaction
    with opener() as session:
        tenant = api.find_tenant(session, tenant, actor=app.actor)
        room = db.get_room(session, tenant.id, room_id)
        refuse_deleting(room)
        source = api.find_workspace(session, tenant, room.workspace_id)
        target = api.find_workspace(session, tenant, to_workspace)
        actor = None
        if as_participant:
            actor = _acting(session, tenant, as_participant)
            for ws in (source, target):
                decision = _check(session, tenant, actor, "room.move", ws)
                if not decision.allowed:
                    what = f"move room {room.id} from {source.slug!r} to {target.slug!r}"
                    raise _denied(
                        tenant,
                        actor,
                        what,
                        "room.move",
                        ws,
                        decision,
                        extra=" (it is needed in both workspaces)",
                    )
        record = {
            "result": "moved",
            "room_id": room.id,
            "name": room.name,
            "tenant": tenant.slug,
            "state": room.state,
            "from_workspace": source.slug,
            "to_workspace": target.slug,
            **db.room_counts(session, room),
            "members_without_role_in_target": [],
            "as": actor.id if actor is not None else None,
            "by": app.actor.name,
        }
        if source.id == target.id:
            return {**record, "result": "unchanged"}
        if room.state != OPEN:
            raise _frozen(room, tenant, "cannot be moved")
        record["members_without_role_in_target"] = db.members_without_workspace_role(
            session, room, target.id
        )
        if dry_run:
            app.out.info(f"{describe_move(record)}\n(dry run: nothing written)")
            return {**record, "result": "would move", "dry_run": True}
        if not db.set_room_workspace(session, room, expected=source.id, workspace_id=target.id):
            raise _conflict(room.id)
        api.audit.record(
            session,
            app.actor,
            "room.move",
            f"room:{room.id}",
            tenant_id=tenant.id,
            details={
                "from_workspace": source.slug,
                "to_workspace": target.slug,
                "as": record["as"],
                "events": record["events"],
                "members": record["members"],
                "media": record["media"],
                "members_without_role_in_target": len(record["members_without_role_in_target"]),
            },
        )
    return record


def describe_move(record: dict) -> str:
    without = record["members_without_role_in_target"]
    text = (
        f"move room {record['room_id']} ({record['name']!r}) of tenant {record['tenant']} from "
        f"workspace {record['from_workspace']} to {record['to_workspace']}: "
        f"{record['events']} events, {record['members']} members, {record['media']} media rows "
        "move with it; its members' workspace rights are now those of "
        f"{record['to_workspace']}"
    )
    if without:
        text += f" ({len(without)} hold no role there: {', '.join(without)})"
    return text


# -- shared ------------------------------------------------------------------------------------


def _acting(session, tenant, ref):
    """The ``--as`` participant of the tenant (id, e-mail or FQID)."""
    return api.find_participant(session, tenant, ref)


def _check(session, tenant, participant, permission, workspace):
    return api.permissions.check(
        session,
        tenant_id=tenant.id,
        participant_id=participant.id,
        permission=permission,
        workspace_id=workspace.id,
    )


def _denied(tenant, participant, what, permission, workspace, decision, *, extra=""):
    return api.PermissionDenied(
        f"participant {participant.id} may not {what}: it needs {permission!r} in workspace "
        f"{workspace.slug!r}{extra}; {decision.reason}",
        code=api.errors.SW_AUTH_INSUFFICIENT_PERMISSION,
        hint=f"`scaiwave role check {participant.id} {permission} --tenant {tenant.slug} "
        f"--workspace {workspace.slug}` explains it; act as an owner of the workspace, or "
        "without --as (the admin token's scope)",
        details={
            "permission": permission,
            "workspace": workspace.slug,
            "chain": list(decision.chain),
        },
    )


def _closed_hint(room, tenant) -> str:
    from scaiwave_room.usecases.rooms import REFUSED_EXPORT, room_kind

    if room_kind(room) in REFUSED_EXPORT:
        return "a closed room stays closed; create a new room if it is needed again"
    return (
        f"it can still be exported (scaiwave room export {room.id} --tenant {tenant.slug} "
        "--to room.zip) and imported as a new room"
    )


def _frozen(room, tenant, what):
    hint = (
        f"restore it first: scaiwave room restore {room.id} --tenant {tenant.slug}"
        if room.state == ARCHIVED
        else _closed_hint(room, tenant)
    )
    return api.DomainError(
        f"room {room.id} is {room.state} (frozen) and {what}",
        code=errors.SW_ROOM_FROZEN,
        hint=hint,
        details={"state": room.state},
    )


def _conflict(room_id):
    return api.DomainError(
        f"room {room_id} changed while this command ran; nothing was changed",
        code=errors.SW_CONFLICT,
        hint="look at it again (`scaiwave room show`) and re-run",
    )


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}
