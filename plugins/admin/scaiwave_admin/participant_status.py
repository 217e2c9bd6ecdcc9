"""`scaiwave admin` commands: deactivate-participant, reactivate-participant (issue 16).

Thin: the plan, ``--dry-run`` or a confirmation, the change, the summary. The rules (who owns a
participant's status, the operator hold the sync respects, the guards) are in
``usecases.participant_status``; its SQL in ``adapters/participant_status.py``.
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_cli import api

TABLE_FIELDS = ("result", "id", "display_name", "kind", "scaikey_user_id", "active",
                "operator_hold", "deactivated_at", "changes", "sync")  # fmt: skip


def _run(app, action: str, ref: str, tenant_ref: str, force_local: bool, dry_run: bool, yes):
    from scaiwave_admin.usecases import participant_status as usecase

    actor = app.actor
    plan = usecase.plan(app.store, actor, tenant_ref, ref, action, force_local=force_local)
    if dry_run:
        app.out.info(f"{plan.text()}\ndry run: nothing was changed")
        _print(app, plan.record(f"would {action}" if plan.changes else "unchanged"))
        return
    if plan.changes:
        api.confirm(plan.text(), yes=yes)
    record = usecase.apply(app.store, actor, tenant_ref, ref, action, force_local=force_local)
    if record["result"] == "unchanged":
        app.out.info(f"participant {record['id']!r} is already in that state: unchanged")
    _print(app, record)


def _print(app, record: dict) -> None:
    if app.out.format != "table":
        app.out.record(record)
        return
    changes = "; ".join(f"{k}: {v['before']} -> {v['after']}" for k, v in record["changes"].items())
    app.out.record({k: record[k] for k in TABLE_FIELDS} | {"changes": changes or "none"})


@click.command(name="deactivate-participant")
@click.argument("ref", metavar="PARTICIPANT")
@options.tenant_option()
@click.option(
    "--force-local",
    is_flag=True,
    help="A ScaiKey-linked participant: deactivate here anyway and set an operator hold, so "
    "the sync keeps them deactivated until reactivate-participant.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@api.yes_option
@api.pass_app
def deactivate_participant(app, ref, tenant_ref, force_local, dry_run, yes):
    """Deactivate a participant: locked out, their messages and rooms kept (audited).

    PARTICIPANT is an id, an e-mail (any case) or an FQID. For a local participant (AI,
    helper, bot, service account: no ScaiKey user) this is the way to switch it off. A
    ScaiKey-linked person's status belongs to ScaiKey and the next `scaiwave sync` would undo
    a local change: deactivate them in ScaiKey, or pass --force-local to deactivate them here
    with an operator hold the sync respects. Refused for the tenant's last active tenant_admin
    and a shared workspace's last active owner (hand over first). Shows the plan and asks on a
    terminal; without one --yes is required (exit 2). Already inactive: "unchanged".

    \b
    Example: scaiwave admin deactivate-participant bob@acme.test --tenant acme --dry-run
    """
    _run(app, "deactivate", ref, tenant_ref, force_local, dry_run, yes)


@click.command(name="reactivate-participant")
@click.argument("ref", metavar="PARTICIPANT")
@options.tenant_option()
@click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")
@api.yes_option
@api.pass_app
def reactivate_participant(app, ref, tenant_ref, dry_run, yes):
    """Reactivate a participant and release an operator hold (audited).

    PARTICIPANT is an id, an e-mail (any case) or an FQID. For a ScaiKey-linked person the next
    `scaiwave sync` mirrors ScaiKey's status again (it deactivates them again if ScaiKey has
    them disabled). An erased participant is never reactivated (exit 1). Shows the plan and
    asks on a terminal; without one --yes is required (exit 2). Already active: "unchanged".

    \b
    Example: scaiwave admin reactivate-participant bob@acme.test --tenant acme --dry-run
    """
    _run(app, "reactivate", ref, tenant_ref, False, dry_run, yes)


COMMANDS = [deactivate_participant, reactivate_participant]
