"""`role assign --from-file`: many assignments from a CSV file, all or nothing."""

from __future__ import annotations

import csv

from scaiwave_cli import api
from scaiwave_role import errors
from scaiwave_role.usecases import plan as plans
from scaiwave_role.usecases import resolve, tx

PLAN_COLUMNS = ["line", "participant", "role", "scope", "result"]
LINE_RULE = "each line: participant,role,scope (scope: tenant | workspace:<slug>)"


def read_assignment_file(stream) -> list[tuple]:
    """``participant,role,scope`` lines; a header line ``participant,role,scope`` is optional,
    ``#`` starts a comment line. scope: empty or ``tenant``; ``workspace:<slug>``; or a bare
    workspace slug. Returns [(line, participant, role, workspace slug or None)]."""
    items = []
    problems = []
    for number, fields in enumerate(csv.reader(stream), start=1):
        fields = [f.strip() for f in fields]
        if not fields or not any(fields) or fields[0].startswith("#"):
            continue
        if (
            not items
            and not problems
            and [f.lower() for f in fields[:2]] == ["participant", "role"]
        ):
            continue
        if len(fields) < 2 or len(fields) > 3 or not fields[0] or not fields[1]:
            problems.append(f"line {number}: expected participant,role[,scope], got {fields!r}")
            continue
        scope = fields[2] if len(fields) == 3 else ""
        if scope in ("", "tenant"):
            ws = None
        elif scope.startswith("workspace:"):
            ws = scope[len("workspace:") :].strip()
            if not ws:
                problems.append(f"line {number}: empty workspace slug in {scope!r}")
                continue
        else:
            ws = scope
        items.append((number, fields[0], fields[1], ws))
    if problems:
        raise api.DomainError(
            f"{len(problems)} unreadable line(s), nothing changed: "
            + "; ".join(problems[: plans.FILE_ERRORS_SHOWN]),
            code=errors.SW_ROLE_FILE_INVALID,
            hint=LINE_RULE,
            details={"errors": problems},
        )
    if not items:
        raise api.DomainError(
            "the file has no assignment lines", code=errors.SW_ROLE_FILE_INVALID, hint=LINE_RULE
        )
    return items


def assign_from_file(app, stream, tenant_slug, *, dry_run, yes=False) -> tuple[list[dict], str]:
    """All or nothing: every line is resolved and checked first; one problem and nothing is
    written (exit 1, every problem listed). ``dry_run`` prints the plan and rolls back. A plan
    that replaces workspace roles (bulk removals) is shown and confirmed first
    (``tx.planned``: a prompt on a terminal, else ``--yes``). Applying shows a progress bar on
    a terminal (``api.progress``). Returns the per-line rows and a summary ("" after a dry
    run: the plan was the summary)."""
    items = read_assignment_file(stream)

    def compute(session):
        tenant = resolve.tenant(app, session, tenant_slug)
        plan = plans.make(app, session, tenant, items)
        if plan.errors or plan.denied:
            raise plans.error(plan)
        return {"tenant": resolve.tenant_snapshot(tenant), "plan": plan, "changed": 0}

    def apply(session, work):
        tenant, plan = work["tenant"], work["plan"]
        label = f"assigning roles in {tenant.slug}"
        with api.progress(label, total=len(plan.rows), unit="lines") as bar:
            changed = plans.apply(
                app, session, tenant, plan, source="file", advance=lambda: bar.advance(1)
            )
        if changed:
            api.audit.record(
                session,
                app.actor,
                "role.assign_file",
                f"tenant:{tenant.slug}",
                tenant_id=tenant.id,
                details={"lines": len(plan.rows), "changed": changed},
            )
        work["changed"] = changed

    work, applied = tx.planned(
        app,
        compute,
        apply,
        describe=_describe,
        dry_run=dry_run,
        yes=yes,
        confirm=lambda work: bool(_replaced(work["plan"])),
    )
    rows = [{k: r[k] for k in PLAN_COLUMNS} for r in work["plan"].rows]
    changed = sum(1 for r in rows if r["result"] != "unchanged")
    if dry_run and changed:
        return rows, ""
    verb = "would change" if dry_run else "changed"
    summary = f"{len(rows)} line(s): {changed} {verb}, {len(rows) - changed} unchanged"
    return rows, summary + (" (dry run: nothing written)" if dry_run else "")


def _replaced(plan) -> list[dict]:
    """The lines that replace a workspace role (``changed from <role>``): the removals."""
    return [r for r in plan.rows if r["result"].startswith("changed from")]


def _describe(work) -> str | None:
    plan = work["plan"]
    would = sum(1 for r in plan.rows if r["result"] != "unchanged")
    if not would:
        return None
    text = (
        f"{len(plan.rows)} line(s) for tenant {work['tenant'].slug!r}: {would} would change, "
        f"{len(plan.rows) - would} unchanged"
    )
    replaced = _replaced(plan)
    if replaced:
        shown = ", ".join(
            f"{r['participant']} {r['previous']} -> {r['role']} in {r['workspace']}"
            for r in replaced[:10]
        )
        more = f" and {len(replaced) - 10} more" if len(replaced) > 10 else ""
        n = len(replaced)
        text += f"; replaces {n} workspace role{'s' if n != 1 else ''}: {shown}{more}"
    return text
