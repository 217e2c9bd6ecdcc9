"""Alembic, configured in code: no alembic.ini for operators to find.

``upgrade(engine)``, ``current(engine)``, ``head()`` and ``diff(engine)`` (models vs database,
the ``alembic check`` comparison) are what ``scaiwave db …`` and the tests use.
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")


def config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def upgrade(engine, revision: str = "head", *, sql: bool = False) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(config(conn), revision)


def current(engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def diff(engine) -> list:
    """Differences between the models and the database schema (empty: they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from scaiwave_cli.store.models import Base

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=compare_options())
        return compare_metadata(ctx, Base.metadata)


def compare_options() -> dict:
    return {"compare_type": True, "render_as_batch": True, "include_object": _include_object}


def _include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "alembic_version")
