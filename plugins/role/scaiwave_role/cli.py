"""The `scaiwave role` group. Imports only click and the core's light API; commands import
their heavy modules when they run."""

from __future__ import annotations

import click

REQUIRES_API = "1.0"


@click.group(name="role")
def role():
    """Role management: roles, permissions, assignments, checks."""
