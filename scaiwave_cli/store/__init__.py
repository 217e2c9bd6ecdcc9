"""The ScaiWave database: schema (``models``), engine, migrations and media store.

Imported only when a command needs the database (``AppContext.store``); ``scaiwave --help``
never loads it. Plugins reach it as ``scaiwave_cli.api.store``::

    from scaiwave_cli import api

    m = api.store.models
    with app.store.transaction() as s:                  # one transaction (commit/rollback)
        tenant = s.scalar(select(m.Tenant).where(m.Tenant.slug == "acme"))
    with app.store.read_session() as s:                  # long reads: no SQLite write lock
        for row in api.store.stream(s, select(m.Event.id).where(...), batch_size=2000):
            ...                                          # a server-side cursor on MariaDB
    api.store.insert_batches(s, m.Event, rows)           # executemany in chunks

URLs
----
``SCAIWAVE_DB_URL`` is the server's own variable; its async drivers are rewritten to sync ones
(``mysql+aiomysql``/``mysql+asyncmy`` -> ``mysql+pymysql``, ``sqlite+aiosqlite`` -> ``sqlite``),
which ``--debug`` reports. With no URL the embedded default is ``$SCAIWAVE_HOME/scaiwave.db``
(SQLite, WAL, foreign keys on), created and migrated on first use. A database named by a URL is
never migrated implicitly: a schema behind the CLI's exits 2 naming ``scaiwave db upgrade``.

Streaming on MariaDB
--------------------
``stream`` uses an unbuffered server-side cursor. While it is open, do not run another statement
on the same session: finish (or fully read) the stream first, or use a second session.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from scaiwave_cli.errors import (
    SW_DB_AUTH_FAILED,
    SW_DB_DRIVER_UNKNOWN,
    SW_DB_NOT_FOUND,
    SW_DB_SCHEMA_AHEAD,
    SW_DB_SCHEMA_BEHIND,
    SW_DB_SCHEMA_DRIFT,
    SW_DB_UNREACHABLE,
    SW_DB_URL_INVALID,
    SW_SLUG_INVALID,
    BackendUnavailable,
    ConfigError,
)
from scaiwave_cli.store import media, models
from scaiwave_cli.store.models import new_id, utcnow

__all__ = [
    "HEAD_REVISION",
    "Store",
    "default_url",
    "insert_batches",
    "media",
    "models",
    "new_id",
    "next_stream_positions",
    "normalize_url",
    "open_store",
    "stream",
    "utcnow",
    "validate_slug",
]

# The newest migration (``store/migrations/versions``); a test keeps it equal to Alembic's head,
# so opening a store can compare revisions without loading Alembic.
HEAD_REVISION = "0001"

_ASYNC_DRIVERS = {
    "mysql+aiomysql": "mysql+pymysql",
    "mysql+asyncmy": "mysql+pymysql",
    "mariadb+aiomysql": "mysql+pymysql",
    "mariadb+asyncmy": "mysql+pymysql",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}
SUPPORTED = ("sqlite", "mysql+pymysql")


def default_url(settings) -> str:
    return f"sqlite:///{Path(settings.home) / 'scaiwave.db'}"


def normalize_url(url: str) -> tuple[str, str | None]:
    """The sync URL for ``url`` and a note when the driver was rewritten. ConfigError (exit 2) for
    a driver the CLI cannot use."""
    from scaiwave_cli.config import mask_url

    match = re.match(r"^([A-Za-z0-9+_.-]+)://", url or "")
    if not match:
        raise ConfigError(
            f"SCAIWAVE_DB_URL is not a database URL: {mask_url(url)!s}",
            code=SW_DB_URL_INVALID,
            hint="expected e.g. mysql+pymysql://user:pass@db-host/scaiwave or sqlite:///path.db",
        )
    scheme = match.group(1).lower()
    target = _ASYNC_DRIVERS.get(scheme, scheme)
    if target not in SUPPORTED:
        raise ConfigError(
            f"unsupported database driver {scheme!r} in {mask_url(url)}",
            code=SW_DB_DRIVER_UNKNOWN,
            hint="use mysql+pymysql:// (MariaDB/MySQL) or sqlite:///",
        )
    if target == scheme:
        return url, None
    return target + url[len(scheme) :], f"database driver {scheme} rewritten to {target}"


class Store:
    """An engine, a session factory and the media store. Made by ``open_store``."""

    def __init__(self, engine, *, url: str, settings=None, embedded: bool = False):
        from sqlalchemy.orm import sessionmaker

        self.engine = engine
        self.url = url
        self.settings = settings
        self.embedded = embedded
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        # Same pool; on SQLite its transactions start with a plain BEGIN (no write lock).
        self._readers = sessionmaker(
            bind=engine.execution_options(scaiwave_readonly=True), expire_on_commit=False
        )
        root = settings.media_path if settings is not None else Path(".") / "media"
        self.media = media.LocalMediaStore(root)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``mysql`` (MariaDB)."""
        return self.engine.dialect.name

    @property
    def masked_url(self) -> str:
        from scaiwave_cli.config import mask_url

        return mask_url(self.url)

    def session(self):
        """A new ORM session (``with store.session() as s, s.begin(): ...``)."""
        return self._sessions()

    def read_session(self):
        """A session for reading only. On SQLite it does not take the write lock, so a long
        read (an export, a jsonl listing) never blocks writers; writing through it may fail
        with "database is locked" under concurrency. On MariaDB it is a normal session."""
        return self._readers()

    @contextlib.contextmanager
    def transaction(self):
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def revision(self) -> str | None:
        """The Alembic revision the database is at (None: not a ScaiWave schema yet)."""
        from sqlalchemy import inspect, text

        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str):
    """A SQLAlchemy engine with the pragmas/options the CLI relies on."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and "?" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error message never shows bound values (they may be secrets).
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # BEGIN IMMEDIATE: a writer takes the lock up front instead of failing at commit;
            # read_session() sessions begin without it.
            if conn.get_execution_options().get("scaiwave_readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=3600,
        hide_parameters=True,
        connect_args={"charset": "utf8mb4", "connect_timeout": 10},
    )


def open_store(settings, *, debug: bool = False, log=None, check_schema: bool = True) -> Store:
    """Open the database ``settings`` names (or the embedded default) and check its schema.

    Unreachable server, bad credentials, unknown driver: exit 2 with the URL masked. A server
    schema behind the CLI's: exit 2 naming ``scaiwave db upgrade``. The embedded default is
    created and migrated here.
    """
    log = log or (lambda _m: None)
    embedded = not settings.db_url
    if embedded:
        url = default_url(settings)
        log(f"database: embedded SQLite {url}")
    else:
        url, note = normalize_url(settings.db_url)
        if note:
            log(note)
    store = Store(make_engine(url), url=url, settings=settings, embedded=embedded)
    log(f"database: {store.masked_url}")
    try:
        revision = store.revision()
    except Exception as exc:
        store.close()
        raise unreachable(exc, url) from exc
    if embedded and (revision is None or revision < HEAD_REVISION):
        from scaiwave_cli.store.migrate import upgrade

        log(f"database: migrating embedded store from {revision or 'empty'} to {HEAD_REVISION}")
        upgrade(store.engine)
    elif check_schema:
        require_current(revision, url)
    return store


def require_current(revision: str | None, url: str) -> None:
    from scaiwave_cli.config import mask_url

    if revision == HEAD_REVISION:
        return
    if revision is None or revision < HEAD_REVISION:
        raise ConfigError(
            f"the database at {mask_url(url)} is at schema {revision or 'none'}, "
            f"this scaiwave needs {HEAD_REVISION}",
            code=SW_DB_SCHEMA_BEHIND,
            hint="run: scaiwave db upgrade",
        )
    raise ConfigError(
        f"the database at {mask_url(url)} is at schema {revision}, newer than this scaiwave "
        f"knows ({HEAD_REVISION})",
        code=SW_DB_SCHEMA_AHEAD,
        hint="upgrade scaiwave-cli and its plugins to the server's version",
    )


def unreachable(exc: BaseException, url: str) -> ConfigError:
    """The exit-2 error for a database that cannot be used, URL masked, cause in one line."""
    from scaiwave_cli.config import mask_url

    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None
    reason = str(args[1]) if errno is not None and len(args) > 1 else str(orig).splitlines()[0]
    if errno in (1044, 1045, 1698):
        return ConfigError(
            f"the database at {mask_url(url)} refused the credentials: {reason}",
            code=SW_DB_AUTH_FAILED,
            hint="check the user and password in SCAIWAVE_DB_URL",
        )
    if errno == 1049:
        return ConfigError(
            f"the database at {mask_url(url)} does not exist: {reason}",
            code=SW_DB_NOT_FOUND,
            hint="create it on the server, then run: scaiwave db upgrade",
        )
    return BackendUnavailable(
        f"cannot reach the database at {mask_url(url)}: {reason}",
        code=SW_DB_UNREACHABLE,
        hint="check that the server is running and SCAIWAVE_DB_URL is right",
    )


def stream(session, stmt, *, batch_size: int = 1000) -> Iterator:
    """Rows of ``stmt`` read ``batch_size`` at a time (a server-side cursor on MariaDB), so a
    million rows never sit in memory. Do not use the session for anything else until done."""
    result = session.execute(stmt, execution_options={"yield_per": batch_size})
    try:
        for partition in result.partitions():
            yield from partition
    finally:
        result.close()


def insert_batches(session, target, rows: Iterable[dict], *, batch_size: int = 1000) -> int:
    """INSERT ``rows`` (dicts) into ``target`` (a model or Table) as executemany chunks of
    ``batch_size``, through the session's connection and transaction. Returns the row count."""
    table = getattr(target, "__table__", target)
    conn = session.connection()
    stmt = table.insert()
    total = 0
    it = iter(rows)
    while chunk := list(islice(it, batch_size)):
        conn.execute(stmt, chunk)
        total += len(chunk)
    return total


def next_stream_positions(session, *, block: int = 1000) -> Iterator[int]:
    """An endless iterator of fresh, increasing stream positions for new events, reserved from
    the ``stream_counter`` row ``block`` at a time inside the caller's transaction (which holds
    the row lock until it ends, so concurrent writers never share a position; an unused rest of
    a block is a harmless gap). Starts above every existing event even if another writer filled
    ``events`` without the counter."""
    from sqlalchemy import func, select, update

    sc = models.StreamCounter
    first = True
    while True:
        session.execute(update(sc).where(sc.id == 1).values(value=sc.value + block))
        top = session.scalar(select(sc.value).where(sc.id == 1))
        if top is None:
            raise ConfigError(
                "the stream_counter row is missing",
                code=SW_DB_SCHEMA_DRIFT,
                hint="run: scaiwave db check",
            )
        if first:
            first = False
            highest = session.scalar(select(func.max(models.Event.stream_position))) or 0
            if top - block < highest:
                top = highest + block
                session.execute(update(sc).where(sc.id == 1).values(value=top))
        yield from range(top - block + 1, top + 1)


SLUG_RULE = (
    "3-63 characters: lowercase letters, digits and hyphens, starting with a letter or digit"
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")


def validate_slug(slug: str, *, what: str = "tenant slug") -> str:
    """``slug`` if it follows ScaiWave's rule, else ``SW_SLUG_INVALID`` (exit 1)."""
    from scaiwave_cli.errors import DomainError

    if not isinstance(slug, str) or not _SLUG.match(slug) or slug.endswith("-"):
        raise DomainError(
            f"invalid {what} {slug!r}: {SLUG_RULE}, not ending with a hyphen",
            code=SW_SLUG_INVALID,
            hint="e.g. acme or acme-eu-1",
        )
    return slug
