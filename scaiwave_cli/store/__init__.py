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
A MariaDB connection uses TLS when the URL configures it (``?ssl_ca=/path/ca.pem`` and the other
``ssl_*`` options of PyMySQL, ``tls_args``); without them it is plain, with no TLS context built.
A SQLite file the CLI creates is 0600 in a 0700 directory (its -wal/-shm follow the file's mode);
creating the embedded one is said on stderr, and an existing embedded one readable by others
gets one warning with the chmod to run (``check_private``): never a silent chmod.

Concurrency
-----------
Creating and migrating the embedded store happens under an exclusive ``flock`` on its sibling
``scaiwave.db.lock``, so two first uses at once create and migrate it once. A writer waits up to
``SCAIWAVE_DB_BUSY_TIMEOUT`` seconds (default 30) for another writer's lock; then the command
exits 2 with ``SW_DB_BUSY`` (``is_busy``; a MariaDB lock wait timeout or deadlock too), never
``SW_DB_UNREACHABLE``. A constraint violation nobody planned for is ``SW_DB_CONFLICT`` (exit 1,
``conflict_error``): the constraint, never the statement or its parameters.

Streaming on MariaDB
--------------------
``stream`` uses an unbuffered server-side cursor. While it is open, do not run another statement
on the same session: finish (or fully read) the stream first, or use a second session.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from scaiwave_cli.errors import (
    SW_DB_AUTH_FAILED,
    SW_DB_NOT_FOUND,
    SW_DB_SCHEMA_AHEAD,
    SW_DB_SCHEMA_BEHIND,
    SW_DB_SCHEMA_DRIFT,
    SW_DB_UNREACHABLE,
    SW_SLUG_INVALID,
    BackendUnavailable,
    ConfigError,
)
from scaiwave_cli.store import media, models
from scaiwave_cli.store.locks import (
    DEFAULT_BUSY_TIMEOUT,
    busy_error,
    busy_timeout_of,
    conflict_error,
    conflict_reason,
    first_use_lock,
    is_busy,
)
from scaiwave_cli.store.models import new_id, utcnow

__all__ = [
    "HEAD_REVISION",
    "Store",
    "default_url",
    "busy_error",
    "conflict_error",
    "conflict_reason",
    "insert_batches",
    "is_busy",
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
HEAD_REVISION = "0004"


def default_url(settings) -> str:
    """The embedded SQLite default, ``sqlite:///$SCAIWAVE_HOME/scaiwave.db``."""
    from scaiwave_cli.config import embedded_db_url

    return embedded_db_url(settings.home)


def normalize_url(url: str) -> tuple[str, str | None]:
    """The sync URL for ``url`` and a note when the driver was rewritten. ConfigError (exit 2) for
    a driver the CLI cannot use. (The rules live in ``config``, which ``show-config`` uses too.)"""
    from scaiwave_cli.config import normalize_db_url

    return normalize_db_url(url)


class Store:
    """An engine, a session factory and the media store. Made by ``open_store``."""

    def __init__(self, engine, *, url: str, settings=None, embedded: bool = False):
        from sqlalchemy.orm import sessionmaker

        self.engine = engine
        self.url = url
        self.revision_seen: str | None = None  # set by open_store
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
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        # a plain BEGIN on SQLite: reading the revision never waits for another writer's lock
        engine = self.engine.execution_options(scaiwave_readonly=True)
        # One statement on the usual path (no reflection); only when it fails (no version
        # table yet, or a real error, which the second attempt raises again) ask the catalogue.
        with engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError:
                pass
        from sqlalchemy import inspect

        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
    """A SQLAlchemy engine with the pragmas/options the CLI relies on."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            create_private(path)
        # hide_parameters: an error message never shows bound values (they may be secrets).
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, hide_parameters=True)
        busy_ms = int(busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
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
        connect_args={"charset": "utf8mb4", "connect_timeout": 10, **tls_args(url)},
    )


def tls_args(url: str) -> dict:
    """TLS to a MariaDB server only when the URL configures it (``?ssl_ca=…``, ``ssl_cert``,
    ``ssl_key``, ``ssl_capath``, ``ssl_cipher``, ``ssl_check_hostname``, ``ssl_verify_cert``,
    ``ssl_verify_identity``, ``ssl_disabled``: PyMySQL's options, passed on as they are).
    Without one, PyMySQL would build a TLS context (the system's CA bundle) for every
    connection and use it unverified if the server offers TLS: the CLI disables that instead."""
    from sqlalchemy.engine import make_url

    if any(key.startswith("ssl") for key in make_url(url).query):
        return {}
    return {"ssl_disabled": True}


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None: in memory, a URI with parameters, not SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:" or "?" in path or "://" in path:
        return None
    return Path(path)


def create_private(path: Path) -> bool:
    """Make the SQLite file ``path`` 0600 in a 0700 directory before SQLite opens it (SQLite
    gives its -wal and -shm the database file's mode). True when it was created now; an
    existing file is left as it is."""
    from scaiwave_cli.files import private_dir

    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


_warned: set[str] = set()


def _say(message: str) -> None:
    """One line on stderr, secrets masked (not a debug message: every user sees it)."""
    import click

    from scaiwave_cli.errors import redact

    click.echo(redact(message), err=True)


def check_private(path: Path) -> None:
    """Warn once per process when the embedded store (or its directory) can be read by other
    users, with the chmod to run; nothing is changed."""
    import shlex
    import stat

    if str(path) in _warned:
        return
    loose_files, loose_dirs = [], []
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), path.parent):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            (loose_dirs if candidate == path.parent else loose_files).append((candidate, mode))
    if not loose_files and not loose_dirs:
        return
    _warned.add(str(path))
    shown = ", ".join(f"{p} (mode {m:04o})" for p, m in loose_files + loose_dirs)
    fixes = []
    if loose_files:
        fixes.append("chmod 600 " + " ".join(shlex.quote(str(p)) for p, _ in loose_files))
    if loose_dirs:
        fixes.append("chmod 700 " + " ".join(shlex.quote(str(p)) for p, _ in loose_dirs))
    _say(
        f"warning: other users can read {shown}, which holds private keys, participants and "
        f"messages; run: {' && '.join(fixes)}"
    )


def open_store(settings, *, debug: bool = False, log=None, check_schema: bool = True) -> Store:
    """Open the database ``settings`` names (or the embedded default) and check its schema.

    Unreachable server, bad credentials, unknown driver: exit 2 with the URL masked. A server
    schema behind the CLI's: exit 2 naming ``scaiwave db upgrade``. The embedded default is
    created (0600, in a 0700 directory, said on stderr in one line) and migrated here; an
    existing one readable by other users gets one warning naming the chmod to run.
    """
    log = log or (lambda _m: None)
    embedded = not settings.db_url
    timeout = busy_timeout_of(settings)
    if not embedded:
        url, note = normalize_url(settings.db_url)
        if note:
            log(note)
        store = _open(url, settings, timeout, embedded=False, log=log)
        if check_schema:
            require_current(store.revision_seen, url)
        return store
    url = default_url(settings)
    log(f"database: embedded SQLite {url}")
    path = sqlite_path(url)
    # One process at a time creates and migrates it: two first uses at once do it once.
    with first_use_lock(path):
        if create_private(path):
            _say(f"created the embedded store {path} (set SCAIWAVE_DB_URL to use a server)")
        else:
            check_private(path)
        store = _open(url, settings, timeout, embedded=True, log=log)
        revision = store.revision_seen
        if revision is None or revision < HEAD_REVISION:
            from scaiwave_cli.store.migrate import upgrade

            log(f"database: migrating embedded store from {revision or 'empty'} to {HEAD_REVISION}")
            try:
                upgrade(store.engine)
            except Exception as exc:
                if not is_busy(exc):
                    raise
                store.close()
                raise unreachable(exc, url) from exc
    return store


def _open(url: str, settings, timeout: float, *, embedded: bool, log) -> Store:
    store = Store(
        make_engine(url, busy_timeout=timeout), url=url, settings=settings, embedded=embedded
    )
    log(f"database: {store.masked_url}")
    try:
        store.revision_seen = store.revision()
    except Exception as exc:
        store.close()
        raise unreachable(exc, url) from exc
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

    if is_busy(exc):
        return busy_error(url)
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
