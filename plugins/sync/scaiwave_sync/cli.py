"""The `scaiwave sync` group. Imports only click and the core's light API; commands import
their heavy modules when they run."""

from __future__ import annotations

import click

REQUIRES_API = "1.0"


@click.group(name="sync")
def sync():
    """ScaiKey identity sync: register, status, full reconcile."""
