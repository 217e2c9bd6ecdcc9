"""`scaiwave plugins`: what is installed, from which distribution, and whether it loads."""

from __future__ import annotations

import click

from scaiwave_cli.context import pass_app


@click.command()
@click.option("--timings", is_flag=True, help="Import every plugin and show its import time.")
@pass_app
@click.pass_context
def plugins(ctx, app, timings):
    """List installed commands: name, distribution, version, entry point, status.

    Status is ok, broken (fails to import), incompatible (needs another API_VERSION) or
    conflict (another distribution claims the same name; this one wins).

    Example: scaiwave plugins --timings --output json
    """
    root = ctx.find_root().command
    rows = []
    for name in root.list_commands(ctx):
        spec = root.table.commands[name]
        status, reason = root.status(ctx, name)
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
    app.out.rows(rows, columns)
