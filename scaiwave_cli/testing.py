"""Pytest fixtures for scaiwave and its plugins (the ``pytest11`` plugin ``scaiwave``).

- ``scaiwave_env``: an isolated environment: no ``SCAIWAVE_*``/``SCAIKEY_*`` variables from the
  outside, ``SCAIWAVE_HOME`` in a temporary directory, the working directory there (so no stray
  ``.env`` is read). Returns the home ``Path``.
- ``cli``: a ``CliHarness`` to run ``scaiwave`` in-process (Click's ``CliRunner``) and to register
  an extra plugin without installing it::

      def test_greets(cli):
          cli.register("hello", "my_plugin.cli:hello")
          result = cli.invoke("--output", "json", "hello", "greet")
          assert result.exit_code == 0, result.output

- Database fixtures (``db_url``, ``store``, ``mariadb_server``) come from
  ``scaiwave_cli.store.testing``: ``db_url`` is SQLite alone unless ``SCAIWAVE_TEST_DATABASES``
  names ``mariadb`` (``sqlite,mariadb``: both; the project's own ``make test`` runs both).
- ``factory``: rows in the test store (partners, tenants, participants, workspaces, rooms, events).
- ``admin_token``: signed ScaiKey admin tokens of any scope, verified with no network at all.
- ``unusable_db_url``: a database URL that the CLI must refuse with exit 2, and the code it gives.
- ``assert_help_is_light(*argv)``: ``scaiwave ARGV --help`` in a fresh interpreter imports no
  heavy library.
- Queue fixtures (``redis_url``, ``redis_server``, ``arq_workers``) come from
  ``scaiwave_cli.testing_queue``: a real ``redis-server`` and ``scaiwave worker`` processes.

Crash tests (kill points, ``api.pause_at``: the FIRST process reaching a point parks, writes its
pid into the marker file, and waits to be killed; any later one goes on):

- ``cli.kill_at(VAR, point, *args, marker_dir=...)``: run ``scaiwave ARGS`` in a child process,
  wait until it parks at ``point``, SIGKILL it (the command itself).
- ``cli.kill_at(..., kill="marker")``: SIGKILL the pid in the marker instead (a worker process
  the command started: ``--workers N``), then wait for the command to finish and return its
  ``subprocess.CompletedProcess`` (text stdout/stderr); with ``wait=False`` return the
  still-running command's ``Popen`` (text pipes) for the test to ``communicate()`` with.
- ``cli.popen(*args)``: ``scaiwave ARGS`` started in the background (text pipes), e.g. a
  coordinator while a test kills an ``arq_workers`` worker (``arq_workers.kill_at_marker``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scaiwave_cli import discovery, errors
from scaiwave_cli.app import cli as root_cli
from scaiwave_cli.store.testing import (  # noqa: F401  (re-exported fixtures)
    db_url,
    mariadb_server,
    store,
)
from scaiwave_cli.testing_queue import (  # noqa: F401  (re-exported fixtures)
    arq_workers,
    redis_server,
    redis_url,
)
from scaiwave_cli.testing_rows import Factory

HEAVY = ("sqlalchemy", "httpx", "rich", "cryptography", "jwt", "attrs", "cattrs", "alembic")
JWKS_URL = "https://scaikey.test/api/v1/platform/.well-known/jwks.json"


class CliHarness:
    """Runs the root group in-process with an isolated environment."""

    def __init__(self, home: Path):
        self.home = home
        self.env: dict[str, str] = {}

    def register(self, name: str, target, *, alias: bool = False, dist: str = "test-plugin"):
        """Make ``name`` a command as if a distribution had declared the entry point."""
        discovery.register_extra(name, target, dist=dist, alias=alias)
        root_cli.reset()

    def invoke(self, *args, input=None, env: dict | None = None, **kwargs) -> Result:
        root_cli.reset()
        runner = CliRunner()
        merged = dict(self.env, **(env or {}))
        result = runner.invoke(
            root_cli, list(args), input=input, env=merged, prog_name="scaiwave", **kwargs
        )
        return result

    def popen(self, *args: str, env: dict | None = None, stdout=subprocess.PIPE):
        """``scaiwave ARGS`` in a child process with this harness's environment (text pipes)."""
        run_env = {**os.environ, **self.env, **(env or {})}
        run_env["SCAIWAVE_HOME"] = str(self.home)
        return subprocess.Popen(
            [sys.executable, "-m", "scaiwave_cli", *args],
            env=run_env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kill_at(
        self,
        variable: str,
        point: str,
        *args: str,
        marker_dir,
        timeout=180,
        kill: str = "command",
        wait: bool = True,
    ):
        """Run ``scaiwave ARGS`` in a child process with ``variable`` (a plugin's kill-point
        variable, see ``api.pause_at``) set to ``point``, wait until a process parks there and
        SIGKILL it: the command (``kill="command"``, returns None), or the process whose pid is
        in the marker (``kill="marker"``: a worker of the command), then return the command's
        ``CompletedProcess`` once it ends, or its running ``Popen`` with ``wait=False``."""
        import signal

        assert kill in ("command", "marker"), kill
        marker = Path(marker_dir) / f"reached-{point}"
        stdout = subprocess.PIPE if kill == "marker" else subprocess.DEVNULL
        proc = self.popen(*args, env={variable: f"{point}:{marker}"}, stdout=stdout)
        try:
            deadline = time.monotonic() + timeout
            while not (marker.exists() and marker.read_text().strip()):
                if proc.poll() is not None:
                    out, err = proc.communicate()
                    raise AssertionError(f"`{' '.join(args)}` ended first:\n{out or ''}{err}")
                assert time.monotonic() < deadline, f"`{' '.join(args)}` never reached {point}"
                time.sleep(0.02)
            pid = int(marker.read_text())
            if kill == "marker":
                assert pid != proc.pid, f"the command itself parked at {point}"
            if kill == "command":
                # wait for the process alone: a child it left behind may still hold its pipes
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                proc.stderr.close()
                assert proc.returncode == -signal.SIGKILL
                return None
            os.kill(pid, signal.SIGKILL)
            if not wait:
                return proc
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            proc.kill()
            proc.wait(timeout=60)
            raise
        return subprocess.CompletedProcess(list(args), proc.returncode, out, err)

    def json(self, *args, **kwargs):
        """Invoke with ``--output json`` and parse stdout (asserting exit 0)."""
        result = self.invoke("--output", "json", *args, **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def scaiwave_env(tmp_path, monkeypatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("SCAIWAVE_", "SCAIKEY_")):
            monkeypatch.delenv(name)
    home = tmp_path / "scaiwave-home"
    home.mkdir()
    monkeypatch.setenv("SCAIWAVE_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def cli(scaiwave_env):
    discovery.clear_extra()
    root_cli.reset()
    harness = CliHarness(scaiwave_env)
    yield harness
    discovery.clear_extra()
    root_cli.reset()


@pytest.fixture
def factory(store) -> Factory:  # noqa: F811 - the re-exported fixture
    """Rows in the test store, each call one committed row, returned as the ORM object::

    acme = factory.tenant("acme")                    # id tnt-acme, ScaiKey id tnt_acme
    ada = factory.participant(acme, "ada")           # id prt-ada, ada@acme.test
    ws = factory.workspace(acme, "design", owner=ada)
    room = factory.room(acme, ws, name="Plans", members=[ada])
    factory.event(room, ada, body="hello")
    """
    return Factory(store)


class Signer:
    """A stand-in for ScaiKey's signing key: an EC P-256 key, its JWK, tokens signed with it."""

    def __init__(self, kid: str = "scaiwave-test"):
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec

        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid=kid, use="sig", alg="ES256")

    def sign(self, claims: dict, *, key=None, algorithm: str = "ES256", headers=None) -> str:
        """Exactly ``claims``, signed (by another ``key`` or ``algorithm`` for hostile tests)."""
        import jwt

        return jwt.encode(
            claims,
            self.private if key is None else key,
            algorithm=algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )


class AdminTokens:
    """``admin_token(role=..., tenant_id=..., partner_id=..., **claims)`` -> a signed JWT."""

    def __init__(self, signer: Signer, home: Path, jwks_url: str):
        self.signer = signer
        self.jwks_url = jwks_url
        self.home = home

    def __call__(
        self,
        role: str = "super_admin",
        *,
        tenant_id: str | None = None,
        partner_id: str | None = None,
        ttl: int = 600,
        **claims,
    ) -> str:
        now = int(time.time())
        body = {"sub": "usr_admin", "iat": now, "exp": now + ttl, "role": role}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        if partner_id is not None:
            body["partner_id"] = partner_id
        body.update(claims)
        return self.signer.sign(body)

    def env(self, *args, **kwargs) -> dict[str, str]:
        """``{"SCAIWAVE_ADMIN_TOKEN": token}`` for ``cli.invoke(..., env=...)``."""
        return {"SCAIWAVE_ADMIN_TOKEN": self(*args, **kwargs), "SCAIKEY_JWKS_URL": self.jwks_url}

    def seed_jwks(self, keys: list[dict] | None = None) -> Path:
        """(Re)write the CLI's on-disk JWKS cache with ``keys`` (default: the signer's key)."""
        digest = hashlib.sha256(self.jwks_url.encode()).hexdigest()[:16]
        path = self.home / "cache" / f"jwks-{digest}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        jwks = {"keys": [self.signer.jwk] if keys is None else keys}
        path.write_text(json.dumps({"url": self.jwks_url, "fetched_at": time.time(), "jwks": jwks}))
        return path


@pytest.fixture(scope="session")
def _admin_signer() -> Signer:
    return Signer()


@pytest.fixture
def admin_token(scaiwave_env, monkeypatch, _admin_signer) -> AdminTokens:
    """Signed ScaiKey admin tokens of any scope, verified by the real code with no network.

    The signer's key set is written into the CLI's JWKS cache under ``SCAIWAVE_HOME`` and
    ``SCAIKEY_JWKS_URL`` points at it, so verification never fetches::

        def test_tenant_admin_is_scoped(cli, admin_token):
            env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
            result = cli.invoke("admin", "list-tenants", env=env)

    ``admin_token.signer`` (``.private``, ``.jwk``, ``.kid``, ``.sign(claims, key=, algorithm=)``)
    makes odd tokens; ``admin_token.seed_jwks(keys)`` changes the published key set.
    """
    monkeypatch.setenv("SCAIKEY_JWKS_URL", JWKS_URL)
    tokens = AdminTokens(_admin_signer, scaiwave_env, JWKS_URL)
    tokens.seed_jwks()
    return tokens


@pytest.fixture
def unusable_db_url(db_url, tmp_path):  # noqa: F811 - the re-exported fixture
    """A callable -> ``(url, code)``: a database the CLI must refuse with exit 2 on the same
    engine as ``db_url``: SQLite, an empty file never migrated (``SW_DB_SCHEMA_BEHIND``);
    MariaDB, a port on 127.0.0.1 where nothing listens (``SW_DB_UNREACHABLE``)."""

    def make() -> tuple[str, str]:
        if db_url.startswith("sqlite"):
            empty = tmp_path / "not-migrated.db"
            empty.write_bytes(b"")
            return f"sqlite:///{empty}", errors.SW_DB_SCHEMA_BEHIND
        import socket

        with socket.socket() as sock:  # bound, never listening, then closed: refused
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"mysql+pymysql://scaiwave:secret-pw@127.0.0.1:{port}/scaiwave"
        return url, errors.SW_DB_UNREACHABLE

    return make


def assert_help_is_light(*argv: str, forbidden=HEAVY, env: dict | None = None) -> set[str]:
    """Run ``scaiwave ARGV --help`` in a fresh interpreter and fail naming every ``forbidden``
    top-level package it imported; return the modules imported (for further checks)."""
    code = (
        "import json, sys\n"
        "from scaiwave_cli.app import main\n"
        "try:\n"
        f"    main({[*argv, '--help']!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    if os.environ.get("SCAIWAVE_HOME"):  # the test's own home (scaiwave_env), never the user's
        run_env["SCAIWAVE_HOME"] = os.environ["SCAIWAVE_HOME"]
    run_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", code], env=run_env, capture_output=True, text=True, timeout=120
    )
    marker = result.stderr.rfind("MODULES ")
    assert marker >= 0, result.stderr
    modules = set(json.loads(result.stderr[marker + len("MODULES ") :].splitlines()[0]))
    assert "Usage:" in result.stdout, result.stdout + result.stderr
    heavy = sorted(m for m in modules if m.split(".")[0] in forbidden)
    assert not heavy, f"`scaiwave {' '.join(argv)} --help` imported {heavy}"
    return modules
