"""`scaiwave db`: the schema of the ScaiWave database (upgrade, current, check).

It lives in the core, beside the schema it migrates, rather than in a plugin: every plugin reads
that schema, and DESIGN.md's arrows let plugins import the core but not each other, so the only
place all of them can rely on is the core. It is an entry point (``db`` in the core's
``scaiwave.commands``) like any plugin's group, and sits outside ``scaiwave_cli/store/`` so that
loading it (for its help) does not import SQLAlchemy: the store is imported inside the commands.
"""

from __future__ import annotations

import click

from scaiwave_cli.context import pass_app


@click.group(name="db")
def db():
    """The ScaiWave database schema: upgrade, current, check.

    A server database (SCAIWAVE_DB_URL) is never migrated implicitly; the embedded SQLite
    default is migrated on first use.

    On a server: SCAIWAVE_DB_URL=mysql+pymysql://USER:PASSWORD@HOST/scaiwave scaiwave db upgrade

    Example: scaiwave db current
    """


def _open(app):
    from scaiwave_cli.store import open_store

    return open_store(app.settings, debug=app.debug, log=app.log, check_schema=False)


def _status(revision, head) -> str:
    if revision == head:
        return "up-to-date"
    if revision is None or revision < head:
        return "behind"
    return "ahead"


@db.command()
@click.option("--dry-run", is_flag=True, help="Show what would be applied; change nothing.")
@pass_app
def upgrade(app, dry_run):
    """Apply the migrations the database is missing (forward-only, additive).

    Example: scaiwave db upgrade --dry-run
    """
    from scaiwave_cli.store import HEAD_REVISION, migrate

    store = _open(app)
    before = store.revision()
    status = _status(before, HEAD_REVISION)
    if status == "ahead":
        from scaiwave_cli.store import require_current

        require_current(before, store.url)
    if status == "behind" and not dry_run:
        migrate.upgrade(store.engine)
    after = before if dry_run else store.revision()
    app.out.record(
        {
            "database": store.masked_url,
            "from": before,
            "to": HEAD_REVISION,
            "result": "unchanged"
            if status == "up-to-date"
            else ("would upgrade" if dry_run else "upgraded"),
            "revision": after,
        }
    )


@db.command()
@pass_app
def current(app):
    """Show the database's schema revision and the one this scaiwave needs.

    Example: scaiwave --output json db current
    """
    from scaiwave_cli.store import HEAD_REVISION

    store = _open(app)
    revision = store.revision()
    app.out.record(
        {
            "database": store.masked_url,
            "dialect": store.dialect,
            "revision": revision,
            "head": HEAD_REVISION,
            "status": _status(revision, HEAD_REVISION),
        }
    )


@db.command()
@pass_app
def check(app):
    """Check that the schema is current and matches the models (for monitoring and CI).

    Exit 0 when it does, 2 when the database is behind (run `scaiwave db upgrade`), 1 when the
    tables differ from what this scaiwave expects (the differences are listed).

    Example: scaiwave db check && echo schema ok
    """
    from scaiwave_cli.errors import SW_DB_SCHEMA_DRIFT, DomainError
    from scaiwave_cli.store import HEAD_REVISION, migrate, require_current

    store = _open(app)
    revision = store.revision()
    require_current(revision, store.url)
    differences = [_describe(d) for d in migrate.diff(store.engine)]
    if differences:
        raise DomainError(
            f"the schema of {store.masked_url} differs from this scaiwave's models "
            f"({len(differences)} differences)",
            code=SW_DB_SCHEMA_DRIFT,
            hint="; ".join(differences[:10]),
            details={"differences": differences},
        )
    app.out.record(
        {"database": store.masked_url, "revision": revision, "head": HEAD_REVISION,
         "status": "ok"}
    )  # fmt: skip


def _describe(diff) -> str:
    if isinstance(diff, list):  # column-level changes come as lists of tuples
        return ", ".join(_describe(d) for d in diff)
    op, *args = diff
    names = []
    for arg in args:
        name = getattr(arg, "name", None)
        table = getattr(getattr(arg, "table", None), "name", None)
        if name:
            names.append(f"{table}.{name}" if table else str(name))
        elif isinstance(arg, str):
            names.append(arg)
    return f"{op} {' '.join(names)}".strip()
