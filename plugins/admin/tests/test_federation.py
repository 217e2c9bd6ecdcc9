"""`scaiwave admin federation key generate|rotate|list|revoke|prune` and `federation well-known`
on SQLite and MariaDB: rows, states, audit, encryption at rest, scope, exit codes, the race of
two rotations on the unique ``active_slot``, and no private key material in any output."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from scaiwave_cli import api

m = api.store.models
KEY = ["admin", "federation", "key"]
# Issue 13: keys need a server name and, without SCAIWAVE_KEY_ENCRYPTION_KEY, the plaintext opt-in
# (test_federation_safety.py tests both refusals); harmless where the encryption key is set.
GENERATE = [*KEY, "generate", "--allow-unencrypted"]
ROTATE = [*KEY, "rotate", "--allow-unencrypted"]


@pytest.fixture(autouse=True)
def _server_name(scaiwave_env, monkeypatch):
    """In the environment (not only cli.env): the subprocess rotations see it too."""
    monkeypatch.setenv("SCAIWAVE_SERVER_NAME", "wave.test")


def _keys(store):
    with store.session() as s:
        return list(s.scalars(select(m.FederationKey).order_by(m.FederationKey.created_at)))


def _audit(store, prefix="federation."):
    with store.session() as s:
        q = select(m.AuditEntry).where(m.AuditEntry.action.like(prefix + "%"))
        return list(s.scalars(q.order_by(m.AuditEntry.id)))


def _error(result) -> dict:
    """The JSON error object (the last stderr line; warnings may come before it)."""
    return json.loads(result.stderr.splitlines()[-1])["error"]


def _settings(cli, **env):
    environ = {"SCAIWAVE_HOME": str(cli.home), **env}
    return api.load_settings({}, environ=environ)


def _watch_database(store, key_watch, cli, **env):
    """Add every stored key's material and every audit row's text to the watch."""
    for row in _keys(store):
        key_watch.add_key(row, _settings(cli, **env))
    key_watch.add_output(json.dumps([[e.action, e.target, e.details] for e in _audit(store, "")]))


# -- generate -------------------------------------------------------------------------------------


def test_generate_first_key_unencrypted_warns(cli, store, key_watch):
    result = cli.invoke("--output", "json", "--debug", *GENERATE)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert re.fullmatch(r"ed25519:[a-z2-7]{8}", out["id"])
    assert out["state"] == "active" and out["encrypted"] is False and out["result"] == "generated"
    assert "SCAIWAVE_KEY_ENCRYPTION_KEY is not set" in result.stderr
    assert "private_key" not in result.stdout
    [row] = _keys(store)
    assert (row.id, row.public_key, row.active_slot, row.encrypted) == (
        out["id"], out["public_key"], 1, False,
    )  # fmt: skip
    assert row.id == api.fedkeys.key_id_for(api.fedkeys.unb64(row.public_key))
    private = api.fedkeys.private_key(row, _settings(cli))
    api.fedkeys.public_key(row).verify(private.sign(b"event"), b"event")  # a working pair
    [entry] = _audit(store)
    assert (entry.action, entry.target, entry.tenant_id) == (
        "federation.key.generate", f"federation_key:{row.id}", None,
    )  # fmt: skip
    assert entry.details["after"] == {
        "active": row.id, "public_key": row.public_key, "encrypted": False,
    }  # fmt: skip
    _watch_database(store, key_watch, cli)

    again = cli.invoke("--output", "json", *GENERATE)
    assert again.exit_code == 1
    error = _error(again)
    assert error["code"] == "SW_FEDERATION_KEY_EXISTS" and "rotate" in error["hint"]
    assert error["details"] == {"active": row.id}
    assert len(_keys(store)) == 1 and len(_audit(store)) == 1


def test_generate_and_rotate_encrypt_with_fernet_key(cli, store, key_watch):
    fernet_key = Fernet.generate_key().decode()
    env = {"SCAIWAVE_KEY_ENCRYPTION_KEY": fernet_key}
    key_watch.secrets.add(fernet_key)
    first = cli.invoke("--output", "json", "--debug", *GENERATE, env=env)
    assert first.exit_code == 0 and "not set" not in first.stderr
    assert json.loads(first.stdout)["encrypted"] is True
    rotated = cli.json(*ROTATE, env=env)
    assert rotated["encrypted"] is True
    for row in _keys(store):
        assert row.encrypted and row.private_key.startswith("gAAAA")  # a Fernet token
        private = api.fedkeys.private_key(row, _settings(cli, **env))
        api.fedkeys.public_key(row).verify(private.sign(b"x"), b"x")
    _watch_database(store, key_watch, cli, **env)

    wrong = cli.invoke("--output", "json", *ROTATE,
                       env={"SCAIWAVE_KEY_ENCRYPTION_KEY": "not-a-fernet-key"})  # fmt: skip
    assert wrong.exit_code == 2 and "SW_CONFIG_INVALID" in wrong.stderr
    assert len(_keys(store)) == 2


# -- rotate ---------------------------------------------------------------------------------------


def test_rotate_keeps_previous_published_for_the_overlap(cli, store):
    first = cli.json(*GENERATE)
    before = api.store.utcnow()
    second = cli.json(*ROTATE)
    assert second["previous"] == first["id"] and second["id"] != first["id"]
    old, new = _keys(store)
    assert (old.id, old.active_slot, new.id, new.active_slot) == (
        first["id"],
        None,
        second["id"],
        1,
    )
    assert abs(old.expires_at - (before + dt.timedelta(days=30))) < dt.timedelta(minutes=5)
    assert new.expires_at is None and old.revoked_at is None
    [_, entry] = _audit(store)
    assert entry.action == "federation.key.rotate"
    assert entry.details["before"] == {"active": first["id"]}
    assert entry.details["after"]["previous"] == first["id"]

    third = cli.json(*ROTATE, "--overlap", "7d", "--expect-active", second["id"])
    row = {k.id: k for k in _keys(store)}[second["id"]]
    assert abs(row.expires_at - (before + dt.timedelta(days=7))) < dt.timedelta(minutes=5)
    states = {r["id"]: r["state"] for r in cli.json(*KEY, "list")}
    assert states == {first["id"]: "previous", second["id"]: "previous", third["id"]: "active"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--overlap", "soon"], "SW_DURATION_INVALID"),
        (["--expect-active", "ed25519:zzzzzzzz"], "SW_FEDERATION_ROTATE_CONFLICT"),
    ],
)
def test_rotate_rejects(cli, store, args, code):
    cli.json(*GENERATE)
    result = cli.invoke("--output", "json", *ROTATE, *args)
    assert result.exit_code == 1 and _error(result)["code"] == code
    assert len(_keys(store)) == 1 and len(_audit(store)) == 1


def test_rotate_without_a_key_names_generate(cli, store):
    result = cli.invoke(*ROTATE)
    assert result.exit_code == 1 and "SW_FEDERATION_KEY_MISSING" in result.stderr
    assert "key generate" in result.stderr and _keys(store) == []


def test_rotation_that_lost_the_race_hits_the_unique_active_slot(cli, store, monkeypatch):
    """A rotation that read key A as active after another rotation already replaced A: its
    INSERT collides on ``active_slot`` and everything it did is rolled back (both engines)."""
    from scaiwave_admin.adapters import db

    a = cli.json(*GENERATE)["id"]
    with store.session() as s:
        stale = db.active_key_row(s)
    b = cli.json(*ROTATE)["id"]
    expires_before = {k.id: k.expires_at for k in _keys(store)}
    monkeypatch.setattr(db, "active_key_row", lambda session: stale)
    result = cli.invoke("--output", "json", *ROTATE)
    assert result.exit_code == 1, result.output
    assert _error(result)["code"] == "SW_FEDERATION_ROTATE_CONFLICT"
    keys = _keys(store)
    assert [k.id for k in keys] == [a, b] and [k.active_slot for k in keys] == [None, 1]
    assert {k.id: k.expires_at for k in keys} == expires_before  # A's expiry rolled back too
    assert len(_audit(store)) == 2
    # the same for a generate that missed the active key
    monkeypatch.setattr(db, "active_key_row", lambda session: None)
    result = cli.invoke(*GENERATE)
    assert result.exit_code == 1 and "SW_FEDERATION_KEY_EXISTS" in result.stderr
    assert len(_keys(store)) == 2


def _spawn(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "scaiwave_cli", "--output", "json", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip


def _outcomes(procs, key_watch):
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        key_watch.add_output(out)
        key_watch.add_output(err)
        code = json.loads(err.splitlines()[-1])["error"]["code"] if proc.returncode else None
        results.append((proc.returncode, code))
    return sorted(results, key=lambda r: r[0])


def test_two_concurrent_rotations_exactly_one_wins(cli, store, key_watch):
    a = cli.json(*GENERATE)["id"]
    procs = [_spawn(*ROTATE, "--expect-active", a) for _ in range(2)]
    assert _outcomes(procs, key_watch) == [(0, None), (1, "SW_FEDERATION_ROTATE_CONFLICT")]
    keys = _keys(store)
    assert len(keys) == 2 and sum(k.active_slot == 1 for k in keys) == 1
    assert len(_audit(store, "federation.key.rotate")) == 1
    _watch_database(store, key_watch, cli)


def test_two_concurrent_generates_exactly_one_wins(cli, store, key_watch):
    procs = [_spawn(*GENERATE) for _ in range(2)]
    assert _outcomes(procs, key_watch) == [(0, None), (1, "SW_FEDERATION_KEY_EXISTS")]
    assert [k.active_slot for k in _keys(store)] == [1]
    _watch_database(store, key_watch, cli)


def test_rotations_blocked_together_then_released_race_on_the_constraint(
    cli, db_url, store, key_watch
):
    """MariaDB, truly concurrent: both rotations read key A, then wait on A's row lock (held
    here); released, one commits and the other's INSERT fails on the unique active_slot.
    (SQLite serializes writers with BEGIN IMMEDIATE: the stale-read test above covers it.)"""
    if not db_url.startswith("mysql"):
        pytest.skip("needs concurrent writers (MariaDB); SQLite is covered by the stale-read test")
    a = cli.json(*GENERATE)["id"]
    holder = store.engine.connect()
    trx = holder.begin()
    holder.execute(text("SELECT id FROM federation_keys WHERE id = :id FOR UPDATE"), {"id": a})
    procs = [_spawn(*ROTATE) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        with store.engine.connect() as probe:
            while True:
                # While we hold A's lock, an UPDATE of federation_keys can only be waiting.
                waiting = probe.execute(
                    text("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                         "WHERE INFO LIKE 'UPDATE federation_keys%'")
                ).scalar()  # fmt: skip
                probe.commit()
                if waiting == 2:
                    break
                assert all(p.poll() is None for p in procs), "a rotation ended before the race"
                assert time.monotonic() < deadline, "the rotations never reached the lock"
                time.sleep(0.02)
    finally:
        trx.rollback()
        holder.close()
    assert _outcomes(procs, key_watch) == [(0, None), (1, "SW_FEDERATION_ROTATE_CONFLICT")]
    keys = _keys(store)
    assert len(keys) == 2 and [k.active_slot for k in keys] == [None, 1]
    _watch_database(store, key_watch, cli)


# -- list, revoke, prune ------------------------------------------------------------------------


def test_list_shows_every_state(cli, store):
    a = cli.json(*GENERATE)["id"]
    b = cli.json(*ROTATE, "--overlap", "0s")["id"]  # a expires at once
    c = cli.json(*ROTATE)["id"]
    d = cli.json(*ROTATE)["id"]
    cli.json(*KEY, "revoke", b, "--yes")
    rows = cli.json(*KEY, "list")
    assert [(r["id"], r["state"]) for r in rows] == [
        (a, "expired"), (b, "revoked"), (c, "previous"), (d, "active"),
    ]  # fmt: skip
    assert all(set(r) == {"id", "state", "created_at", "expires_at", "revoked_at", "encrypted",
                          "public_key"} for r in rows)  # fmt: skip
    table = cli.invoke(*KEY, "list")
    assert table.exit_code == 0 and "previous" in table.stdout and "private" not in table.stdout
    csv = cli.invoke("--output", "csv", *KEY, "list")
    assert csv.stdout.splitlines()[0].startswith("id,state,created_at")


def test_revoke_needs_yes_and_is_audited(cli, store):
    a = cli.json(*GENERATE)["id"]
    b = cli.json(*ROTATE)["id"]
    refused = cli.invoke("--output", "json", *KEY, "revoke", a)
    assert refused.exit_code == 2  # issue 13: api.confirm (was 1 with its own --yes)
    assert _error(refused)["code"] == "SW_CONFIRMATION_REQUIRED"
    assert all(k.revoked_at is None for k in _keys(store)) and len(_audit(store)) == 2

    done = cli.json(*KEY, "revoke", a, "--yes", "--reason", "laptop stolen")
    assert done["result"] == "revoked" and done["state"] == "revoked"
    row = {k.id: k for k in _keys(store)}[a]
    assert row.revoked_at is not None and row.active_slot is None
    entry = _audit(store)[-1]
    assert (entry.action, entry.target) == ("federation.key.revoke", f"federation_key:{a}")
    assert entry.details == {
        "before": {"state": "previous"}, "after": {"state": "revoked"}, "reason": "laptop stolen",
    }  # fmt: skip
    well_known = cli.json("admin", "federation", "well-known")
    assert a not in well_known["verify_keys"]  # removed from publication at once

    again = cli.invoke("--output", "json", *KEY, "revoke", a)  # already revoked: no --yes needed
    assert again.exit_code == 0 and json.loads(again.stdout)["result"] == "unchanged"
    assert len(_audit(store)) == 3

    missing = cli.invoke(*KEY, "revoke", "ed25519:nothere", "--yes")
    assert missing.exit_code == 1 and "SW_FEDERATION_KEY_NOT_FOUND" in missing.stderr

    # revoking the active key leaves none: a warning, and generate is allowed again
    active = cli.invoke(*KEY, "revoke", b, "--yes")
    assert active.exit_code == 0 and "no signing key now" in active.stderr
    assert cli.json(*GENERATE)["state"] == "active"


def test_prune_deletes_only_expired_keys(cli, store):
    a = cli.json(*GENERATE)["id"]
    b = cli.json(*ROTATE, "--overlap", "0s")["id"]
    c = cli.json(*ROTATE)["id"]
    dry = cli.invoke("--output", "json", *KEY, "prune", "--dry-run")
    assert dry.exit_code == 0 and "would delete 1" in dry.stderr
    assert [(r["id"], r["result"]) for r in json.loads(dry.stdout)] == [(a, "would prune")]
    assert len(_keys(store)) == 3 and len(_audit(store, "federation.key.prune")) == 0

    pruned = cli.json(*KEY, "prune", "--yes")
    assert [r["id"] for r in pruned] == [a]
    assert [k.id for k in _keys(store)] == [b, c]
    [entry] = _audit(store, "federation.key.prune")
    assert entry.details["after"] == {"deleted": [a]}

    nothing = cli.invoke(*KEY, "prune")
    assert nothing.exit_code == 0 and "nothing to prune" in nothing.stderr
    assert len(_audit(store, "federation.key.prune")) == 1


# -- well-known ---------------------------------------------------------------------------------


def test_well_known_descriptor(cli, store):
    env = {"SCAIWAVE_SERVER_NAME": "wave.example.com"}
    empty = cli.invoke("--output", "json", "admin", "federation", "well-known", env=env)
    assert empty.exit_code == 0 and "no active federation signing key" in empty.stderr
    assert json.loads(empty.stdout)["public_key"] == ""

    a = cli.json(*GENERATE)["id"]
    b = cli.json(*ROTATE, "--overlap", "0s")["id"]  # a: expired, not published
    c = cli.json(*ROTATE)["id"]
    keys = {k.id: k for k in _keys(store)}
    doc = cli.json("admin", "federation", "well-known", env=env)
    assert doc["server_name"] == "wave.example.com"
    assert doc["public_key"] == f"ed25519:{keys[c].public_key}" and doc["key_id"] == c
    assert set(doc["verify_keys"]) == {b, c} and a not in json.dumps(doc)
    assert doc["verify_keys"][c] == {
        "key": keys[c].public_key, "status": "current", "expires_at": None,
    }  # fmt: skip
    assert doc["verify_keys"][b]["status"] == "previous"
    assert doc["verify_keys"][b]["expires_at"] == keys[b].expires_at.isoformat().replace(
        "+00:00", "Z"
    )
    assert doc["protocol_versions"] == ["v1"]
    assert doc["endpoints"]["send"] == "https://wave.example.com/_scaiwave/federation/v1/send"

    table = cli.invoke("admin", "federation", "well-known", env=env)
    assert json.loads(table.stdout) == doc  # the document itself, even as a "table"
    csv = cli.invoke("--output", "csv", "admin", "federation", "well-known", env=env)
    assert csv.stdout.splitlines()[0] == "key_id,status,expires_at,key"
    assert len(csv.stdout.splitlines()) == 3


# -- scope, tokens, unusable database -----------------------------------------------------------

COMMANDS = [
    ["federation", "key", "generate"],
    ["federation", "key", "rotate"],
    ["federation", "key", "list"],
    ["federation", "key", "revoke", "ed25519:aaaaaaaa", "--yes"],
    ["federation", "key", "prune"],
    ["federation", "well-known"],
]


def _ids(args):
    return "-".join(a for a in args[1:3] if not a.startswith("ed25519"))


@pytest.mark.parametrize("args", COMMANDS[:5], ids=_ids)
def test_keys_are_platform_only(cli, store, admin_token, args):
    cli.json(*GENERATE)
    for env in (admin_token.env("partner_admin", partner_id="prt_x"),
                admin_token.env("tenant_admin", tenant_id="tnt_x")):  # fmt: skip
        result = cli.invoke("--output", "json", "admin", *args, env=env)
        assert result.exit_code == 3, result.output
        assert _error(result)["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert len(_keys(store)) == 1 and len(_audit(store)) == 1
    assert cli.invoke("admin", *args[:3], "--help").exit_code == 0


def test_well_known_is_readable_by_any_admin(cli, store, admin_token):
    cli.json(*GENERATE)
    env = admin_token.env("tenant_admin", tenant_id="tnt_x")
    assert cli.json("admin", "federation", "well-known", env=env)["public_key"].startswith(
        "ed25519:"
    )
    actor = cli.json(*KEY, "list", env=admin_token.env("super_admin"))
    assert len(actor) == 1


@pytest.mark.parametrize("args", COMMANDS, ids=_ids)
def test_expired_token_exits_3(cli, store, admin_token, args):
    result = cli.invoke("--output", "json", "admin", *args, env=admin_token.env(exp=1_000_000))
    assert result.exit_code == 3
    assert _error(result)["code"] == "SW_AUTH_EXPIRED_TOKEN"
    assert _keys(store) == []


@pytest.mark.parametrize("args", COMMANDS, ids=_ids)
def test_unusable_database_exits_2(cli, unusable_db_url, args):
    url, code = unusable_db_url()
    result = cli.invoke("admin", *args, env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2 and code in result.stderr, result.output


def test_database_error_while_writing_a_key_hides_the_statement(cli, store, monkeypatch):
    """A failing INSERT's exception carries its parameters (the private key): the command
    reports the driver's reason only."""
    from scaiwave_admin.adapters import db
    from sqlalchemy.exc import OperationalError

    def failing_insert(session, values, *, now):
        raise OperationalError("INSERT INTO federation_keys …", dict(values), Exception("gone"))

    monkeypatch.setattr(db, "insert_key", failing_insert)
    result = cli.invoke("--output", "json", *GENERATE)
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["code"] == "SW_DB_ERROR" and "gone" in error["message"]
    assert "INSERT" not in result.stderr and _keys(store) == []


def test_stored_keys_are_only_public_in_listings(cli, store):
    """The listing queries never select the private column."""
    from scaiwave_admin.adapters import db

    cli.json(*GENERATE)
    with store.session() as s:
        row = db.key_rows(s)[0]
        assert "private_key" not in row._fields
        assert "private_key" not in db.active_key_row(s)._fields


@pytest.mark.parametrize(
    "args",
    [["federation"], ["federation", "key"], ["federation", "well-known"]]
    + [["federation", "key", c] for c in ("generate", "rotate", "list", "revoke", "prune")],
    ids=" ".join,
)
def test_help_has_summary_and_example(cli, args):
    result = cli.invoke("admin", *args, "--help")
    assert result.exit_code == 0 and "Example: " in result.stdout


# Must stay the last test of the module: it sees every output collected so far in the session.
def test_zz_no_private_key_material_in_any_output(key_watch):
    assert len(key_watch.secrets) >= 5, "the suite generated no keys?"
    assert len(key_watch.outputs) >= 20
    assert key_watch.leaks(everything=True) == []
