"""The `scaiwave role` group. Imports only click and the core's light API; commands import
their heavy modules (``scaiwave_role.ops``, ``scaiwave_role.adapters.db``) when they run.

- ``roles.py``: ``role list|show|create|delete`` and ``role permissions add|remove|reset``
- ``assignments.py``: ``role assign|unassign|assignments|check``
"""

from __future__ import annotations

import click

from scaiwave_role import assignments, roles

REQUIRES_API = "1.0"


@click.group(name="role")
def role():
    """Role management: roles, permissions, assignments, checks."""


for _module in (roles, assignments):
    for _command in _module.COMMANDS:
        role.add_command(_command)
