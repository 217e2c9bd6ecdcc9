"""The Click options several `scaiwave admin` commands share, declared once.

Light module: click only (the command modules import it at module level).
"""

from __future__ import annotations

import click


def tenant_option(help: str = "Tenant slug.", *, required: bool = True, metavar=None):
    """``--tenant`` (parameter ``tenant_ref``): the tenant a command works in (slug or id)."""
    return click.option("--tenant", "tenant_ref", required=required, metavar=metavar, help=help)


def partner_option(flag: str, help: str):
    """``--partner`` / ``--partner-id`` PARTNER (parameter ``partner_ref``): id, slug or
    ScaiKey partner id."""
    return click.option(flag, "partner_ref", metavar="PARTNER", help=help)


def new_slug_option(help: str = "Unique slug (3-63: a-z, 0-9, hyphens)."):
    """``--slug`` of a row a ``create-*`` command makes (required)."""
    return click.option("--slug", required=True, help=help)


def display_name_option(help: str = "Display name.", *, required: bool = True):
    """``--name``: a display name (1-200 characters once trimmed)."""
    return click.option("--name", required=required, help=help)
