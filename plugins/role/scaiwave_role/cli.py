"""The `scaiwave role` group. Imports only click, the core's light API and the command modules
(light too); a command imports its use case (``scaiwave_role.usecases.*``, heavy) when it runs.

One module per command family, named after it:

- ``roles.py``: ``role list|show|create|delete``
- ``permissions.py``: ``role permissions add|remove|reset``
- ``catalog.py``: ``role catalog``
- ``assignments.py``: ``role assign|unassign|assignments``
- ``check.py``: ``role check``
"""

from __future__ import annotations

import click

from scaiwave_role import assignments, catalog, check, permissions, roles

REQUIRES_API = "1.0"


@click.group(name="role")
def role():
    """Role management: roles, permissions, assignments, checks."""


for _module in (roles, permissions, catalog, assignments, check):
    for _command in _module.COMMANDS:
        role.add_command(_command)
