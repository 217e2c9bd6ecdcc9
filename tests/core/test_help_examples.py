"""Every help example runs as written.

The test walks the root group (every installed command and sub-command, found the way `--help`
finds them), reads each `Example:` line (and the root's `Examples:` block), and runs it with bash
in a fresh copy of one seeded world: the embedded store with tenant acme, its people, workspaces,
a room, roles and federation keys, a fake ScaiKey on 127.0.0.1, the server's settings, and the
files the examples read (`room.zip`, `server.pub`). Each must exit 0, or the code its own line
names with a trailing shell comment `# exits N`.

A few commands need the world without something (the first federation key cannot be generated
where one exists): `VARIANTS` names them; every other example runs on the full world.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from scaiwave_cli.app import cli as root

EXAMPLE = re.compile(r"^\s*Example:\s*(?P<cmd>.+?)\s*$")
EXITS = re.compile(r"#\s*exits?\s+(?P<code>\d)\b")
KEK = "i1UjoKuFttEtMLwNUP7zPOmP1pmyW9twbtrAXtl0KXI="  # a Fernet key, for the examples only
SERVER = "wave.example.com"
# command path -> the world it runs in (default: "full")
VARIANTS = {("admin", "federation", "key", "generate"): "no-keys"}


def _walk(command, ctx, path=()):
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from _walk(sub, click.Context(sub, parent=ctx, info_name=name), (*path, name))


def collect_examples() -> list[tuple[tuple[str, ...], str]]:
    """``(command path, example)`` for every example of every installed command, once each."""
    seen, found = set(), []
    with click.Context(root, info_name="scaiwave") as ctx:
        for path, command, _ in _walk(root, ctx):
            lines = (command.help or "").splitlines()
            block = False
            for line in lines:
                match = EXAMPLE.match(line)
                text = match["cmd"] if match else None
                if line.strip() in ("Examples:", "Examples::"):
                    block = True
                    continue
                if block:
                    if line.strip().startswith("scaiwave "):
                        text = line.strip()
                    elif line.strip() and not line.startswith(" "):
                        block = False
                if text and text not in seen:
                    seen.add(text)
                    found.append((path, text))
    return found


EXAMPLES = collect_examples()


def _run(argv, env, cwd, input=None):
    return subprocess.run(
        argv, env=env, cwd=cwd, input=input, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def fake_scaikey():
    from scaiwave_sync.testing import FakeScaiKey

    server = FakeScaiKey(tenants=1, users_per_tenant=3, groups_per_tenant=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory, fake_scaikey):
    """``{variant: (home, env)}``: seeded homes that each example copies."""
    from scaiwave_sync.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    base = tmp_path_factory.mktemp("examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        SCAIWAVE_SERVER_NAME=SERVER,
        SCAIWAVE_KEY_ENCRYPTION_KEY=KEK,
        SCAIKEY_BASE_URL=fake_scaikey.url,
        SCAIKEY_CLIENT_ID=DEFAULT_CLIENT_ID,
        SCAIKEY_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        SCAIWAVE_SYNC_BACKOFF="0",
        COLUMNS="100",
    )
    out = {}
    for variant in ("no-keys", "full"):
        home = base / variant / "home"
        work = base / variant / "work"
        work.mkdir(parents=True)
        variant_env = dict(env, SCAIWAVE_HOME=str(home))
        _seed(variant_env, work, with_keys=variant == "full")
        out[variant] = (base / variant, variant_env)
    return out


SEED_ROWS = """
from scaiwave_cli import api
from scaiwave_cli.config import load_settings
from scaiwave_cli.store import open_store
from scaiwave_cli.testing_rows import Factory

store = open_store(load_settings())
f = Factory(store)
acme = f.tenant("acme", name="Acme")
people = {n: f.participant(acme, n, scaikey_user_id=None) for n in ("ada", "alice", "bob", "42")}
general = f.workspace(acme, "general", owner=people["ada"])
design = f.workspace(acme, "design", owner=people["ada"])
room = f.room(acme, general, name="Plans", members=[people["ada"], people["42"]], id="room-123")
for n in range(5):
    f.event(room, people["ada"], body=f"message {n}")
# a suspended tenant with a room: what `admin delete-tenant` deletes
initech = f.tenant("initech", name="Initech", status="suspended")
milton = f.participant(initech, "milton", scaikey_user_id=None)
office = f.workspace(initech, "office", owner=milton)
f.event(f.room(initech, office, name="Staplers", members=[milton], id="room-initech"), milton)
store.close()
"""

SEED_COMMANDS = [
    "scaiwave role create moderator --tenant acme --from editor",
    "scaiwave role assign alice@acme.test editor --tenant acme --workspace design",
    "scaiwave role assign bob@acme.test editor --tenant acme --workspace design",
    "scaiwave role assign prt-42 editor --tenant acme --workspace general",
    "scaiwave admin export-participant ada@acme.test --tenant acme --to ada.zip",
    "scaiwave room export-all --tenant acme --to acme-export",
]

SEED_KEYS = [
    # a previous key with the id the revoke example names, then the active one
    "scaiwave admin federation key generate",
    "scaiwave admin federation key rotate --overlap 30d",
    "scaiwave room export room-123 --tenant acme --sign --to room.zip",
    'scaiwave -o json admin federation well-known | python -c "$PUBLIC_KEY" > server.pub',
]


# the active key's public key from the well-known document (for `room verify --public-key`)
PUBLIC_KEY = (
    "import json, sys; doc = json.load(sys.stdin); "
    "print(next(iter(doc['verify_keys'].values()))['key'])"
)


def _seed(env, work, *, with_keys):
    result = _run([sys.executable, "-c", SEED_ROWS], env, work)
    assert result.returncode == 0, result.stderr
    steps = SEED_COMMANDS + (SEED_KEYS if with_keys else [])
    for step in steps:
        step_env = dict(env, PUBLIC_KEY=PUBLIC_KEY)
        result = _run(["bash", "-c", f"set -o pipefail; {step}"], step_env, work)
        assert result.returncode == 0, f"seed step failed: {step}\n{result.stdout}{result.stderr}"
    if with_keys:
        _rename_previous_key(env, work)


def _rename_previous_key(env, work):
    """The revoke example names `ed25519:abcd1234`: give the previous key that id."""
    code = (
        "from sqlalchemy import update\n"
        "from scaiwave_cli.config import load_settings\n"
        "from scaiwave_cli.store import open_store, models as m\n"
        "store = open_store(load_settings())\n"
        "with store.transaction() as s:\n"
        "    s.execute(update(m.FederationKey).where(m.FederationKey.active_slot.is_(None))"
        ".values(id='ed25519:abcd1234'))\n"
        "store.close()\n"
    )
    result = _run([sys.executable, "-c", code], env, work)
    assert result.returncode == 0, result.stderr


def test_every_installed_command_has_an_example():
    """Each leaf command teaches with one example (groups may rely on their commands')."""
    with click.Context(root, info_name="scaiwave") as ctx:
        missing = [
            " ".join(path)
            for path, command, _ in _walk(root, ctx)
            if path and not isinstance(command, click.Group)
            and not any(EXAMPLE.match(line) for line in (command.help or "").splitlines())
        ]  # fmt: skip
    assert not missing, f"commands without an Example: line: {missing}"


@pytest.mark.parametrize("path, example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_help_example_runs_as_written(worlds, tmp_path, path, example):
    variant = next((v for p, v in VARIANTS.items() if path[: len(p)] == p), "full")
    source, env = worlds[variant]
    shutil.copytree(source, tmp_path / "w")
    env = dict(env, SCAIWAVE_HOME=str(tmp_path / "w" / "home"))
    expected = int(m["code"]) if (m := EXITS.search(example)) else 0
    result = _run(["bash", "-c", example], env, tmp_path / "w" / "work", input="")
    assert result.returncode == expected, (
        f"`{example}` (help of `scaiwave {' '.join(path)}`) exited {result.returncode}, "
        f"expected {expected}\n--- stdout\n{result.stdout[-2000:]}"
        f"\n--- stderr\n{result.stderr[-2000:]}"
    )
