"""The Click options shared by the `scaiwave role` commands, declared once, and the one printer
two command families share (a role record).

Light module: click and ``scaiwave_cli.api`` only.
"""

from __future__ import annotations

import click

TENANT_HELP = "tenant slug (custom roles belong to one tenant)"


def tenant_option(help: str = "tenant slug", *, required: bool = False):
    """``--tenant SLUG`` (parameter ``tenant_slug``)."""
    return click.option("--tenant", "tenant_slug", metavar="SLUG", required=required, help=help)


def workspace_option(help: str):
    """``--workspace SLUG`` (parameter ``workspace_slug``)."""
    return click.option("--workspace", "workspace_slug", metavar="SLUG", help=help)


def print_role(app, record: dict) -> None:
    """A role record (``role show|create`` and ``role permissions …``): lists joined for the
    table view, as they are for JSON / CSV."""
    if app.out.format == "table":
        shown = dict(record)
        shown["permissions"] = ", ".join(record["permissions"]) or "(none)"
        for key in ("added", "removed", "granted", "revoked"):
            if key in shown:
                shown[key] = ", ".join(shown[key]) or "-"
        if "override" in shown:  # a built-in's override in one tenant
            added, removed = shown["override"]["added"], shown["override"]["removed"]
            shown["override"] = (
                "; ".join(
                    [f"+{', '.join(added)}"] * bool(added)
                    + [f"-{', '.join(removed)}"] * bool(removed)
                )
                or "none (the global set)"
            )
        app.out.record(shown, title=f"Role {record['name']}")
    else:
        app.out.record(record)
