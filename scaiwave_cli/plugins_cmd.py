"""`scaiwave plugins`: what is installed, from which distribution, and whether it loads."""

from __future__ import annotations

import click

from scaiwave_cli.context import pass_app
from scaiwave_cli.discovery import LOAD_PLUGINS_VAR


@click.command()
@click.option("--timings", is_flag=True, help="Import every plugin and show its import time.")
@pass_app
@click.pass_context
def plugins(ctx, app, timings):
    """List installed commands: name, distribution, version, entry point, status.

    Status is ok, broken (fails to import), incompatible (needs another API_VERSION),
    conflict (another distribution claims the same name; this one wins) or disabled (left out
    by SCAIWAVE_LOAD_PLUGINS, not imported).

    Example: scaiwave plugins --timings --output json
    """
    root = ctx.find_root().command
    table = root.table
    disabled_reason = f"not named in {LOAD_PLUGINS_VAR}"
    rows = []
    for name in sorted([*table.commands, *table.disabled]):
        if name in table.commands:
            spec = table.commands[name]
            status, reason = root.status(ctx, name)
        else:
            spec = table.disabled[name]
            status, reason = "disabled", disabled_reason
        row = {
            "name": name,
            "distribution": spec["dist"],
            "version": spec["version"],
            "entry_point": spec.get("value") or "<in-process>",
            "kind": "alias" if spec["alias"] else "command",
            "status": status,
            "reason": reason,
        }
        if timings:
            row["import_ms"] = round(root.timing(name) * 1000, 1)
        rows.append(row)
    columns = ["name", "distribution", "version", "entry_point", "kind", "status"]
    if timings:
        columns.append("import_ms")
    columns.append("reason")
    if table.wanted is not None:
        app.out.info(
            f"{table.describe_filter()}: {len(table.commands)} of "
            f"{len(table.commands) + len(table.disabled)} commands loaded"
        )
    app.out.rows(rows, columns)
