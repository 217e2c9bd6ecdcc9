"""Room state ``deleting`` (issue 15): the marker of a `room delete` under way. Widens the CHECK
constraint ``ck_rooms_state``; no row changes.

MariaDB drops and re-adds the constraint. SQLite cannot alter a CHECK constraint, and the usual
table rebuild would run the implicit ``DELETE FROM rooms`` of ``DROP TABLE`` with foreign keys
on (cascading to every event); instead the table's stored SQL is edited under
``writable_schema``, the procedure SQLite documents for changing a CHECK constraint (the stored
data is not touched, and every existing row satisfies the wider constraint).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD = "state IN ('open', 'archived', 'closed')"
NEW = "state IN ('open', 'archived', 'closed', 'deleting')"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rooms'"
        ).scalar()
        if OLD not in sql:
            raise RuntimeError("rooms: the state CHECK constraint is not the one expected")
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'rooms'",
            (sql.replace(OLD, NEW),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    op.drop_constraint(op.f("ck_rooms_state"), "rooms", type_="check")
    op.create_check_constraint(op.f("ck_rooms_state"), "rooms", NEW)


def downgrade() -> None:
    # Forward-only and additive, as ScaiWave runs its migrations.
    raise NotImplementedError("scaiwave migrations are forward-only")
