"""Participant and tenant lifecycle (issue 16). Additive only:

- ``participants.operator_hold``: an operator deactivated this ScaiKey-linked participant with
  ``admin deactivate-participant --force-local``; the sync keeps it inactive until
  ``admin reactivate-participant`` clears the hold.
- ``participants.erased_at``: set by ``admin erase-participant`` on the tombstone it leaves.
- tenant status ``deleting``: the marker of an ``admin delete-tenant`` under way (widens the CHECK
  constraint ``ck_tenants_status`` the way 0003 widened the rooms' one: ``migrations.checks``).
- indexes ``events (sender_id, stream_position)`` and ``media (tenant_id, uploader_id)``: one
  person's events and uploads, read by the participant export and the erasure.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import scaiwave_cli.store.models
from scaiwave_cli.store.migrations.checks import widen_check

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD = "status IN ('active', 'suspended')"
NEW = "status IN ('active', 'suspended', 'deleting')"


def upgrade() -> None:
    widen_check(op, "tenants", "ck_tenants_status", OLD, NEW)
    op.add_column(
        "participants",
        sa.Column("operator_hold", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "participants",
        sa.Column("erased_at", scaiwave_cli.store.models.UTCDateTime(), nullable=True),
    )
    op.create_index(
        op.f("ix_events_sender_id_stream_position"), "events", ["sender_id", "stream_position"]
    )
    op.create_index(op.f("ix_media_tenant_id_uploader_id"), "media", ["tenant_id", "uploader_id"])


def downgrade() -> None:
    # Forward-only and additive, as ScaiWave runs its migrations.
    raise NotImplementedError("scaiwave migrations are forward-only")
