"""What a database command pays for (issue 17, section 3; figures: ``bench/latency.py``).

The four commands of the latency bench run in a fresh interpreter on a seeded store; each must
answer as before and import neither Alembic (the schema check is one query on the version
table), nor the token module when no admin token is set, nor cattrs; the garbage collector is
paused for start-up and back on once the store is open. A MariaDB connection builds no TLS
context unless the URL configures TLS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_RUN = (
    "import json, sys\n"
    "from scaiwave_cli.app import main\n"
    "code = main(json.loads(sys.argv[1]))\n"
    "import gc\n"
    "sys.__stderr__.write(f'\\nGC {gc.isenabled()} {gc.get_freeze_count() > 0}\\n')\n"
    "sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    "sys.exit(code)\n"
)

COMMANDS = [  # what each prints
    (["admin", "list-tenants"], "acme"),
    (["admin", "show-tenant", "acme"], "tnt_acme"),
    (["room", "list", "--tenant", "acme"], "Lobby"),
    (
        [
            "role",
            "check",
            "ada@acme.test",
            "create_note",
            "--tenant",
            "acme",
            "--workspace",
            "design",
        ],
        "ALLOWED",
    ),
]

NOT_NEEDED = ("alembic", "scaiwave_cli.tokens", "cattrs", "jwt", "httpx")


def _run(argv, db_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = os.environ["SCAIWAVE_HOME"]
    env["SCAIWAVE_DB_URL"] = db_url
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    marker = done.stderr.rfind("MODULES ")
    assert marker >= 0, done.stderr
    modules = set(json.loads(done.stderr[marker + len("MODULES ") :].splitlines()[0]))
    return done, modules


@pytest.fixture
def world(factory):
    acme = factory.tenant("acme")
    ada = factory.participant(acme, "ada")
    design = factory.workspace(acme, "design", owner=ada)
    factory.room(acme, design, name="Lobby", members=[ada])
    return acme


@pytest.mark.parametrize(("argv", "shown"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_a_database_command_imports_only_what_it_uses(argv, shown, world, db_url):
    done, modules = _run(argv, db_url)
    assert done.returncode == 0, done.stderr
    assert shown in done.stdout, done.stdout
    paid = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED))
    assert not paid, f"`scaiwave {' '.join(argv)}` imported {paid}"
    # the collector was paused for start-up, resumed once the store was open, and everything
    # frozen before exit (app.main, context.pause_collector)
    assert "\nGC True True\n" in done.stderr


def test_the_schema_check_is_one_statement(store):
    from sqlalchemy import event

    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    assert store.revision() == "0004"
    queries = [s for s in statements if s != "BEGIN"]  # SQLite's plain BEGIN of a reader
    assert queries == ["SELECT version_num FROM alembic_version"]


def test_an_empty_database_has_no_revision(tmp_path):
    from scaiwave_cli.store import Store, make_engine

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    empty = Store(make_engine(url), url=url)
    try:
        assert empty.revision() is None
    finally:
        empty.close()


def _connect_params(url):
    """The keyword arguments the store's engine would hand PyMySQL (no server needed)."""
    from sqlalchemy import event

    from scaiwave_cli.store import make_engine

    engine = make_engine(url)
    seen = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect, record, cargs, cparams):
        seen.update(cparams)
        raise RuntimeError("captured")

    with pytest.raises(Exception, match="captured"):
        engine.connect()
    engine.dispose()
    return seen


def test_mariadb_without_tls_options_builds_no_tls_context():
    params = _connect_params("mysql+pymysql://u:p@127.0.0.1:1/db")
    assert params["ssl_disabled"] is True


def test_mariadb_tls_options_are_passed_on():
    params = _connect_params("mysql+pymysql://u:p@127.0.0.1:1/db?ssl_ca=/etc/ca.pem")
    assert "ssl_disabled" not in params
    assert params["ssl"] == {"ca": "/etc/ca.pem"}


def test_a_mariadb_connection_is_plain_unless_configured(store):
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if store.dialect != "mysql":
            return  # SQLite: nothing to negotiate
        assert raw.ssl is False and not hasattr(raw, "ctx")
