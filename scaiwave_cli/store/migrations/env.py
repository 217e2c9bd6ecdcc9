"""Alembic environment: runs on the connection ``store.migrate`` hands over (or a URL)."""

from __future__ import annotations


def _run() -> None:
    from alembic import context

    from scaiwave_cli.store.migrate import compare_options
    from scaiwave_cli.store.models import Base

    connection = context.config.attributes.get("connection")
    if connection is None:  # plain `alembic` with sqlalchemy.url (developer use)
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            context.configure(
                connection=connection, target_metadata=Base.metadata, **compare_options()
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=Base.metadata, **compare_options())
    with context.begin_transaction():
        context.run_migrations()


_run()
