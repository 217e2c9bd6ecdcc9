"""The `scaiwave admin` group. Imports only click and the core's light API; each sub-module
below holds one family of commands (its ``COMMANDS`` list) and imports its heavy modules inside
the commands.

- ``tenants.py``: list-tenants, create-tenant, show-tenant, update-tenant
- ``partners.py``: list-partners, create-partner
- ``participants.py``: list-participants, show-participant
- ``workspaces.py``: list-workspaces, create-workspace
- ``federation.py``: federation key generate|rotate|list|revoke|prune, federation well-known
- ``audit.py``: audit
"""

from __future__ import annotations

import click

from scaiwave_admin import audit, federation, participants, partners, tenants, workspaces

REQUIRES_API = "1.0"


@click.group(name="admin")
def admin():
    """Tenants, partners, workspaces, participants, federation keys, audit log.

    Example: scaiwave admin list-tenants --status active --output json
    """


for _module in (tenants, partners, participants, workspaces, federation, audit):
    for _command in _module.COMMANDS:
        admin.add_command(_command)
