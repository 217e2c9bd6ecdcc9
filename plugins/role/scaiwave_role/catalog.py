"""`scaiwave role catalog`: the permission catalog (the core's ``api.permissions``).

Light module: ``api.permissions`` is imported when the command runs.
"""

from __future__ import annotations

import click

from scaiwave_cli import api


@click.command(name="catalog")
@api.pass_app
def catalog(app):
    """List the permission catalog: every permission a role can carry.

    Example: scaiwave --output json role catalog
    """
    perms = api.permissions

    def rows():
        for name, description in perms.CATALOG.items():
            held_by = [r for r, shipped in perms.SHIPPED_PERMISSIONS.items() if name in shipped]
            yield {"permission": name, "description": description, "shipped_in": held_by}

    app.out.rows(rows(), ["permission", "description", "shipped_in"], title="Permissions")


COMMANDS = [catalog]
