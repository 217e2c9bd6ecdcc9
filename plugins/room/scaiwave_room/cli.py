"""The `scaiwave room` group. Imports only click and the core's light API; commands import
their heavy modules when they run."""

from __future__ import annotations

import click

REQUIRES_API = "1.0"


@click.group(name="room")
def room():
    """Room export and import as verified ZIP bundles."""
