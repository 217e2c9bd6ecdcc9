"""The `scaiwave admin` group. Imports only click and the core's light API; each sub-module
below holds one family of commands and imports its heavy modules inside the commands."""

from __future__ import annotations

import click

REQUIRES_API = "1.0"


@click.group(name="admin")
def admin():
    """Tenant and partner administration, federation keys, audit log."""
