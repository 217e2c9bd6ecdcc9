"""The `scaiwave admin` group. Imports only click, the core's light API and the command
modules, one per command family (each holds its ``COMMANDS`` list):

- ``tenants.py``: list-tenants, create-tenant, show-tenant, update-tenant
- ``partners.py``: list-partners, create-partner
- ``participants.py``: list-participants, show-participant
- ``participant_export.py``: export-participant, verify-export
- ``participant_status.py``: deactivate-participant, reactivate-participant
- ``erasure.py``: erase-participant
- ``tenant_deletion.py``: delete-tenant
- ``workspaces.py``: list-workspaces, create-workspace
- ``federation.py``: federation key generate|rotate|list|revoke|prune, federation well-known
- ``audit.py``: audit
- ``media.py``: media purge-orphans

Below them (each layer imports only the ones under it): ``options.py`` (shared Click options),
``usecases/`` (the work, no Click; imported inside the commands), ``values.py`` (parsed option
values: limits, features, durations, times), ``adapters/`` (the SQL: ``db.py``,
``directory.py``), ``errors.py`` (the plugin's SW_* codes).
"""

from __future__ import annotations

import click

from scaiwave_admin import (
    audit,
    erasure,
    federation,
    media,
    participant_export,
    participant_status,
    participants,
    partners,
    tenant_deletion,
    tenants,
    workspaces,
)

REQUIRES_API = "1.2"


@click.group(name="admin")
def admin():
    """Tenants, partners, workspaces, participants, federation keys, audit log.

    Example: scaiwave admin list-tenants --status active --output json
    """


for _module in (
    tenants,
    tenant_deletion,
    partners,
    participants,
    participant_status,
    participant_export,
    erasure,
    workspaces,
    federation,
    audit,
    media,
):
    for _command in _module.COMMANDS:
        admin.add_command(_command)
