"""Deactivating and reactivating one participant (`admin deactivate-participant` /
`reactivate-participant`): a plan (read only), then the change and its audit row in one
transaction.

Who owns a participant's status:

- A local participant (no ``scaikey_user_id``: AI, helpers, bots, service accounts, erased
  tombstones): the operator. The sync never looks at it.
- A ScaiKey-linked participant: ScaiKey. The next `scaiwave sync` mirrors ScaiKey's status, so a
  local deactivation would be undone; it is refused (``SW_PARTICIPANT_SCAIKEY_OWNED``) unless
  ``force_local``: then ``operator_hold`` is set too, and the sync keeps the participant
  deactivated (and says so: ``held``) until `reactivate-participant` clears the hold. After
  that the sync mirrors ScaiKey again.

Guards (a deactivation of an active participant): the tenant keeps an active ``tenant_admin``
(``SW_TENANT_NEEDS_ADMIN``) and every shared workspace an active owner
(``SW_WORKSPACE_NEEDS_OWNER``; a personal workspace belongs to its one person and is no bar);
each refusal names the `scaiwave role assign` that hands over first. An erased participant is
never reactivated (``SW_PARTICIPANT_ERASED``). Already in the asked state: ``unchanged``, no
audit row, no question.
"""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass

from scaiwave_admin import errors
from scaiwave_admin.adapters import participant_status as db
from scaiwave_admin.usecases.handover import require_handover
from scaiwave_cli import api

DEACTIVATE, REACTIVATE = "deactivate", "reactivate"
FIELDS = ("active", "operator_hold")


@dataclass
class Plan:
    """What one deactivation or reactivation would change (``before``/``after`` of FIELDS)."""

    action: str
    tenant: str  # slug
    tenant_id: str
    id: str
    display_name: str
    email: str | None
    kind: str
    scaikey_user_id: str | None
    deactivated_at: dt.datetime | None
    before: dict
    after: dict
    force_local: bool
    sync: str  # what the sync does with this participant afterwards

    @property
    def changes(self) -> dict:
        return {k: {"before": self.before[k], "after": self.after[k]} for k in FIELDS
                if self.before[k] != self.after[k]}  # fmt: skip

    def text(self) -> str:
        who = f"participant {self.id!r} ({_describe(self)}) in tenant {self.tenant!r}"
        if not self.changes:
            return f"plan: {who} is already {_state(self.before)}: nothing to change"
        lines = [f"plan: {self.action} {who}:"]
        lines += [f"  {k}: {v['before']} -> {v['after']}" for k, v in self.changes.items()]
        if self.action == DEACTIVATE and self.before["active"]:
            lines.append(
                "  they are locked out of ScaiWave; their messages, rooms and memberships stay"
            )
        lines.append(f"  sync: {self.sync}")
        return "\n".join(lines)

    def record(self, result: str, *, values: dict | None = None) -> dict:
        """The command's summary; ``values``: the fields after the write (else as now)."""
        now = values or {"active": self.before["active"],
                         "operator_hold": self.before["operator_hold"],
                         "deactivated_at": self.deactivated_at}  # fmt: skip
        return {
            "result": result,
            "action": self.action,
            "tenant": self.tenant,
            "id": self.id,
            "display_name": self.display_name,
            "email": self.email,
            "kind": self.kind,
            "scaikey_user_id": self.scaikey_user_id,
            **now,
            "force_local": self.force_local,
            "changes": self.changes,
            "sync": self.sync,
        }


def _describe(plan: Plan) -> str:
    parts = [plan.display_name or "no name"]
    if plan.email:
        parts[0] += f" <{plan.email}>"
    parts.append(plan.kind)
    if plan.scaikey_user_id:
        parts.append(f"ScaiKey user {plan.scaikey_user_id}")
    return ", ".join(parts)


def _state(values: dict) -> str:
    if values["active"]:
        return "active"
    return "inactive (operator hold)" if values["operator_hold"] else "inactive"


def _command(action: str, participant, tenant, *extra: str) -> str:
    return shlex.join(["scaiwave", "admin", f"{action}-participant", participant.id,
                       "--tenant", tenant.slug, *extra])  # fmt: skip


# -- planning ----------------------------------------------------------------------------------


def _plan_for(tenant, p, action: str, force_local: bool) -> Plan:
    """The plan for participant row ``p`` (no guard yet); raises the refusals that depend on
    the row alone (ScaiKey-owned, erased)."""
    before = {"active": bool(p.active), "operator_hold": bool(p.operator_hold)}
    linked = p.scaikey_user_id is not None
    reactivate = _command(REACTIVATE, p, tenant)
    if p.erased_at is not None:
        if action == REACTIVATE:
            raise api.DomainError(
                f"participant {p.id!r} of tenant {tenant.slug!r} was erased "
                f"({api.isoformat(p.erased_at)}): an erased participant is never reactivated",
                code=errors.SW_PARTICIPANT_ERASED,
                hint="an erasure cannot be undone; a person who comes back gets a new "
                "participant (ScaiKey sign-in or `scaiwave sync`)",
            )
        after, sync = dict(before), "an erased participant: the sync never touches it"
    elif action == REACTIVATE:
        after = {"active": True, "operator_hold": False}
        sync = (
            f"the next sync mirrors ScaiKey's status again (ScaiKey user {p.scaikey_user_id}): "
            "if ScaiKey has them disabled, it deactivates them again"
            if linked
            else "a local participant: the sync never changes its status"
        )
    elif not linked:
        after = {"active": False, "operator_hold": before["operator_hold"]}
        sync = "a local participant: the sync never changes its status"
    elif force_local:
        after = {"active": False, "operator_hold": True}
        sync = (
            "ScaiKey owns this participant's status, but the operator hold wins: the sync keeps "
            f"them deactivated until `{reactivate}`, whatever ScaiKey says"
        )
    elif before["active"]:
        raise api.DomainError(
            f"participant {p.id!r} of tenant {tenant.slug!r} is linked to ScaiKey user "
            f"{p.scaikey_user_id}: ScaiKey owns their status",
            code=errors.SW_PARTICIPANT_SCAIKEY_OWNED,
            hint="the next sync would undo a local deactivation: deactivate them in ScaiKey "
            "(the sync then deactivates them here), or keep them deactivated whatever ScaiKey "
            f"says: {_command(DEACTIVATE, p, tenant, '--force-local')}",
            details={"scaikey_user_id": p.scaikey_user_id},
        )
    else:
        after = dict(before)
        sync = (
            f"held: the sync keeps them deactivated until `{reactivate}`"
            if before["operator_hold"]
            else "ScaiKey owns their status: the next sync reactivates them if ScaiKey has them "
            "active; to keep them deactivated whatever ScaiKey says: "
            + _command(DEACTIVATE, p, tenant, "--force-local")
        )
    return Plan(
        action, tenant.slug, tenant.id, p.id, p.display_name, p.email, p.kind,
        p.scaikey_user_id, p.deactivated_at, before, after, bool(force_local and linked), sync,
    )  # fmt: skip


def _checked(session, actor, tenant_ref, ref, action, force_local, *, lock: bool) -> tuple:
    """``(plan, participant row)`` after every check. With ``lock`` (the write's transaction)
    the admins' rows are locked first, then the participant's, so that concurrent
    deactivations in one tenant queue instead of both passing the guard."""
    tenant = api.find_tenant(session, tenant_ref, actor=actor)
    p = api.find_participant(session, tenant, ref)
    if lock:
        if action == DEACTIVATE:
            db.tenant_admins(session, tenant.id, lock=True)
        db.lock(session, p)
    plan = _plan_for(tenant, p, action, force_local)
    if action == DEACTIVATE and plan.before["active"] and not plan.after["active"]:
        require_handover(session, tenant, p, lock=lock, doing="deactivating")
    return plan, p


def plan(store, actor, tenant_ref: str, ref: str, action: str, *, force_local=False) -> Plan:
    """The plan, read only: every refusal the write would raise is raised here already."""
    with store.read_session() as session:
        return _checked(session, actor, tenant_ref, ref, action, force_local, lock=False)[0]


# -- the write ---------------------------------------------------------------------------------


def apply(store, actor, tenant_ref: str, ref: str, action: str, *, force_local=False) -> dict:
    """Deactivate or reactivate (re-checked under locks), with the audit row
    ``participant.deactivate`` / ``participant.reactivate`` in the same transaction."""
    with store.transaction() as session:
        plan, p = _checked(session, actor, tenant_ref, ref, action, force_local, lock=True)
        if not plan.changes:
            return plan.record("unchanged")
        after = plan.after
        deactivated_at = None
        if not after["active"]:
            deactivated_at = p.deactivated_at or api.store.utcnow()
        db.set_status(
            session, p.id, active=after["active"], hold=after["operator_hold"],
            deactivated_at=deactivated_at,
        )  # fmt: skip
        details = {
            "kind": plan.kind,
            "scaikey_user_id": plan.scaikey_user_id,
            "force_local": plan.force_local,
            "hold": after["operator_hold"],
            "before": plan.before,
            "after": after,
        }
        if action == REACTIVATE:
            details["released_hold"] = plan.before["operator_hold"]
        api.audit.record(
            session, actor, f"participant.{action}", f"participant:{p.id}",
            tenant_id=plan.tenant_id, details=details,
        )  # fmt: skip
        values = dict(after, deactivated_at=deactivated_at)
        return plan.record(f"{action}d", values=values)
