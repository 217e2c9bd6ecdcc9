"""One DDL step the migrations share: widening a CHECK constraint on both engines.

MariaDB drops and re-adds the constraint. SQLite cannot alter a CHECK constraint, and the usual
table rebuild would run the implicit ``DELETE FROM <table>`` of ``DROP TABLE`` with foreign keys
on (cascading to every child row); instead the table's stored SQL is edited under
``writable_schema``, the procedure SQLite documents for changing a CHECK constraint (the stored
data is not touched, and every existing row satisfies the wider constraint).
"""

from __future__ import annotations


def widen_check(op, table: str, constraint: str, old: str, new: str) -> None:
    """Replace the CHECK ``old`` of ``table`` (named ``constraint``) by the wider ``new``."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar()
        if old not in sql:
            raise RuntimeError(f"{table}: the CHECK constraint {constraint} is not as expected")
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(old, new), table),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    op.drop_constraint(op.f(constraint), table, type_="check")
    op.create_check_constraint(op.f(constraint), table, new)
