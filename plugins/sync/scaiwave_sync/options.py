"""The sync's shared Click options, declared once (each command gives its own help text)."""

from __future__ import annotations

import click


def tenant_option(help_text: str):
    """``--tenant SLUG``: the tenant a command is about."""
    return click.option("--tenant", metavar="SLUG", help=help_text)
