"""Database fixtures: every database test runs on SQLite and on a real MariaDB server.

- ``mariadb_server`` (session): a MariaDB server from Debian's ``mariadb-server`` package,
  started once per test session in a temporary data directory, listening on 127.0.0.1 on a free
  port, with a password user ``scaiwave``; stopped at the end. ``SCAIWAVE_TEST_MARIADB_URL``
  (a URL of a user allowed to create databases) uses an existing server instead. If the server
  cannot start the tests fail loudly: they never skip MariaDB silently.
  Only started when ``SCAIWAVE_TEST_DATABASES`` names ``mariadb``.
- ``db_url`` (parametrized ``sqlite`` / ``mariadb``; SQLite alone unless
  ``SCAIWAVE_TEST_DATABASES`` names ``mariadb``, as the project's ``make test`` does): the URL
  of an empty, migrated ScaiWave database, also exported as ``SCAIWAVE_DB_URL`` for CLI
  invocations. SQLite: a copy of a template migrated once per session. MariaDB: one database
  migrated once per session, every table emptied before each test.
- ``store``: a ``Store`` opened on ``db_url`` (closed after the test).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ENGINES = ("sqlite", "mariadb")


def _engines() -> tuple[str, ...]:
    """SQLite alone unless ``SCAIWAVE_TEST_DATABASES`` names more (``sqlite,mariadb``): a third
    party's plugin tests run on a machine without MariaDB with no setting at all."""
    wanted = os.environ.get("SCAIWAVE_TEST_DATABASES")
    if not wanted:
        return ("sqlite",)
    return tuple(e for e in ENGINES if e in wanted.split(","))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None
        )
        if found:
            return found
    return None


class MariaDBServer:
    """A throwaway mariadbd: ``url(database)`` gives a PyMySQL URL for the test user."""

    def __init__(self, base: Path):
        self.base = base
        self.datadir = base / "data"
        self.socket = base / "mariadb.sock"
        self.port = _free_port()
        self.user = "scaiwave"
        self.password = "pw-" + secrets.token_hex(8)
        self.proc: subprocess.Popen | None = None
        self.external: str | None = None

    def url(self, database: str = "") -> str:
        if self.external:
            return self.external.rstrip("/").rsplit("/", 1)[0] + f"/{database}"
        return f"mysql+pymysql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        install = _binary("mariadb-install-db", "mysql_install_db")
        server = _binary("mariadbd", "mysqld")
        if not (install and server):
            raise RuntimeError(
                "MariaDB is not installed: apt-get install mariadb-server (.ci/run does), "
                "or set SCAIWAVE_TEST_DATABASES=sqlite to run the SQLite half only"
            )
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        self.datadir.mkdir(parents=True)
        log = self.base / "error.log"
        subprocess.run(
            [install, "--no-defaults", f"--datadir={self.datadir}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *as_root],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.proc = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--log-error={log}",
             f"--pid-file={self.base / 'mariadb.pid'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=2",
             "--innodb-doublewrite=0", "--max-connections=200", *as_root],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        import pymysql

        deadline = time.monotonic() + 60
        while True:
            try:
                conn = pymysql.connect(unix_socket=str(self.socket), user="root")
                break
            except pymysql.err.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"mariadbd did not start:\n{tail}") from None
                time.sleep(0.1)
        with conn.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"CREATE USER '{self.user}'@'{host}' IDENTIFIED BY '{self.password}'")
                cur.execute(f"GRANT ALL ON *.* TO '{self.user}'@'{host}'")
        conn.close()

    def execute(self, sql: str) -> None:
        import pymysql
        from sqlalchemy.engine import make_url

        u = make_url(self.url())
        conn = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username,
                               password=u.password, autocommit=True)  # fmt: skip
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        self.execute(f"DROP DATABASE IF EXISTS `{name}`")
        self.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    """A running MariaDB server for this test session (see the module docstring)."""
    server = MariaDBServer(tmp_path_factory.mktemp("mariadb"))
    external = os.environ.get("SCAIWAVE_TEST_MARIADB_URL")
    if external:
        server.external = external
    else:
        server.start()
    yield server
    server.stop()


# Per engine, made on first use in this process: a migrated SQLite file / MariaDB database.
_TEMPLATES: dict[str, str] = {}


def _migrate(url: str) -> None:
    from scaiwave_cli.store import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _empty_mariadb(url: str) -> None:
    """Delete every row (the schema stays), and reset the stream counter."""
    from sqlalchemy import text

    from scaiwave_cli.store import make_engine
    from scaiwave_cli.store.models import Base

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for table in Base.metadata.sorted_tables:
                conn.execute(text(f"DELETE FROM `{table.name}`"))
            conn.execute(text("INSERT INTO stream_counter (id, value) VALUES (1, 0)"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    finally:
        engine.dispose()


@pytest.fixture(params=_engines())
def db_url(request, scaiwave_env, monkeypatch, tmp_path_factory) -> str:
    """An empty, migrated ScaiWave database on each engine; also set as ``SCAIWAVE_DB_URL``."""
    engine = request.param
    if engine == "sqlite":
        template = _TEMPLATES.get("sqlite")
        if template is None:
            template = str(tmp_path_factory.mktemp("sqlite-template") / "template.db")
            _migrate(f"sqlite:///{template}")
            _TEMPLATES["sqlite"] = template
        target = scaiwave_env / "test.db"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
    else:
        server = request.getfixturevalue("mariadb_server")
        url = _TEMPLATES.get("mariadb")
        if url is None:
            url = server.create_database("scaiwave_test")
            _migrate(url)
            _TEMPLATES["mariadb"] = url
        else:
            _empty_mariadb(url)
    monkeypatch.setenv("SCAIWAVE_DB_URL", url)
    return url


@pytest.fixture
def store(db_url, scaiwave_env):
    """A ``Store`` on ``db_url``'s database (same settings a CLI run in this test gets)."""
    from scaiwave_cli.config import load_settings
    from scaiwave_cli.store import open_store

    opened = open_store(load_settings({}))
    yield opened
    opened.close()
