"""Room state ``deleting`` (issue 15): the marker of a `room delete` under way. Widens the CHECK
constraint ``ck_rooms_state``; no row changes.

How, on each engine: ``store/migrations/checks.py`` (``widen_check``; SQLite's table rebuild
would cascade the implicit ``DELETE FROM rooms`` to every event).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from scaiwave_cli.store.migrations.checks import widen_check

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = "state IN ('open', 'archived', 'closed')"
NEW = "state IN ('open', 'archived', 'closed', 'deleting')"


def upgrade() -> None:
    widen_check(op, "rooms", "ck_rooms_state", OLD, NEW)


def downgrade() -> None:
    # Forward-only and additive, as ScaiWave runs its migrations.
    raise NotImplementedError("scaiwave migrations are forward-only")
