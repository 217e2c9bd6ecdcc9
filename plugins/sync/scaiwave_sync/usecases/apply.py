"""Applying one tenant's plan: one table of steps, one loop.

Each step writes one kind of change in transactions of at most ``SCAIWAVE_SYNC_BATCH_SIZE``
items (or all of them in one transaction, ``batched=False``), and records its audit rows in the
same transaction: one row per batch (``per_batch``) or one per participant (``per_row``). The
order matters: the tenant before its participants, groups before their members, and
deactivations last (after the last-admin guard has kept its holder). Every transaction first
checks (under a shared lock) that `admin delete-tenant` has not started on the tenant since it
was planned; if it has, nothing more of that tenant is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scaiwave_cli import api
from scaiwave_sync.adapters import db
from scaiwave_sync.usecases.plan import TenantPlan
from scaiwave_sync.usecases.settings import SyncConfig

SOURCE = "scaikey-sync"  # the audit rows' "source"
TEST_HOOK = "SCAIWAVE_SYNC_TEST_HOOK"  # api.pause_at's variable (tests only; inert otherwise)

AuditRows = Iterable[tuple[str, str, dict]]  # (action, target, details)


@dataclass(frozen=True)
class Step:
    items: list | Callable[[], list]  # a callable is evaluated when the step runs
    write: Callable[[object, list], object]  # (session, batch)
    audit: Callable[[list], AuditRows]  # batch -> audit rows
    batched: bool = True


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def steps(store, plan: TenantPlan, *, now) -> list[Step]:
    """The table: what to write for ``plan``, in order."""
    t = plan.tenant
    target = f"tenant:{t.slug}"

    def per_batch(action: str, details: Callable[[list], dict]):
        return lambda batch: [(action, target, details(batch))]

    def per_row(action: str, details: Callable[[dict], dict]):
        return lambda batch: [(action, f"participant:{r['id']}", details(r)) for r in batch]

    def member_adds() -> list:
        with store.session() as s:
            ids = db.group_ids(s, t.id)  # after the groups step: new groups have ids now
        return [(ids[g], pid) for g, pid in plan.members_add]

    def write_groups(s, _batch) -> None:
        db.insert_groups(s, t.id, plan.groups_create, now)
        db.update_groups(s, plan.groups_update + plan.groups_deactivate, now)

    def write_roles(s, _batch) -> None:
        role_ids = db.builtin_role_ids(s)
        db.grant_roles(s, t.id, [(pid, role_ids[role]) for pid, role in plan.roles_grant], now)
        db.revoke_roles(s, [a.id for a in plan.roles_revoke])

    def role_rows(_batch) -> AuditRows:
        for pid, role in plan.roles_grant:
            details = {"role": role, "scope": "tenant", "source": SOURCE}
            yield "role.assign", f"participant:{pid}", details
        for a in plan.roles_revoke:
            details = {"role": a.role, "scope": "tenant", "source": SOURCE}
            yield "role.revoke", f"participant:{a.participant_id}", details

    def group_ids_of(rows: list[dict]) -> list[str]:
        return [g["scaikey_group_id"] for g in rows]

    return [
        Step(
            [t] if t.new else [],
            lambda s, _batch: db.insert_tenant(s, t, now),
            per_batch(
                "tenant.create",
                lambda _b: {"scaikey_tenant_id": t.scaikey_tenant_id, "source": SOURCE},
            ),
            batched=False,
        ),
        Step(
            plan.create,
            lambda s, batch: db.insert_participants(s, t.id, batch, now),
            per_batch(
                "sync.participants.create",
                lambda b: {"count": len(b), "ids": [r["id"] for r in b]},
            ),
        ),
        Step(
            plan.update,
            lambda s, batch: db.update_participants(s, batch, now),
            per_batch(
                "sync.participants.update",
                lambda b: {"count": len(b), "changes": {r["id"]: r["fields"] for r in b}},
            ),
        ),
        Step(
            plan.reactivate,
            lambda s, batch: db.update_participants(s, batch, now, active=True),
            per_row(
                "participant.reactivate",
                lambda r: {"scaikey_user_id": r["scaikey_user_id"], "source": SOURCE},
            ),
        ),
        Step(
            plan.groups_create + plan.groups_update + plan.groups_deactivate,
            write_groups,
            per_batch(
                "sync.groups",
                lambda _b: {
                    "created": group_ids_of(plan.groups_create),
                    "updated": group_ids_of(plan.groups_update),
                    "deactivated": group_ids_of(plan.groups_deactivate),
                },
            ),
            batched=False,
        ),
        Step(
            member_adds if plan.members_add else [],
            lambda s, batch: db.insert_members(s, t.id, batch),
            per_batch("sync.group_members.add", lambda b: {"count": len(b)}),
        ),
        Step(
            plan.members_remove,
            lambda s, batch: db.delete_members(s, batch),
            per_batch("sync.group_members.remove", lambda b: {"count": len(b)}),
        ),
        Step(
            [*plan.roles_grant, *plan.roles_revoke],
            write_roles,
            role_rows,
            batched=False,
        ),
        Step(
            plan.deactivate,
            lambda s, batch: db.deactivate_participants(s, [r["id"] for r in batch], now),
            per_row(
                "participant.deactivate",
                lambda r: {
                    "scaikey_user_id": r["scaikey_user_id"],
                    "reason": r["reason"],
                    "source": SOURCE,
                },
            ),
        ),
    ]


def apply_plan(store, plan: TenantPlan, actor, cfg: SyncConfig, *, now) -> bool:
    """Write one tenant's plan in transactions of at most ``cfg.batch_size`` changes, each with
    its audit rows. False when it stopped because the tenant is being deleted."""
    tenant_id = plan.tenant.id
    for step in steps(store, plan, now=now):
        items = step.items() if callable(step.items) else step.items
        if not items:
            continue
        for batch in _chunks(items, cfg.batch_size) if step.batched else [items]:
            with store.transaction() as s:
                if db.tenant_deleting(s, tenant_id):
                    return False
                step.write(s, batch)
                for action, target, details in step.audit(batch):
                    api.audit.record(s, actor, action, target, tenant_id=tenant_id, details=details)
            api.pause_at(TEST_HOOK, "sync-batch-committed")  # the crash tests' kill point
    return True
