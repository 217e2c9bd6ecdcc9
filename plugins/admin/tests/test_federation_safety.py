"""Issue 13 for federation keys (points 5 and 6): no plaintext key by default, never a plaintext or
foreign-key key next to encrypted ones, no "localhost" server, revoke and prune planned and
confirmed. Through the CLI on SQLite and MariaDB; nothing refused changes a row."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models
KEY = ["admin", "federation", "key"]
SERVER = {"SCAIWAVE_SERVER_NAME": "wave.example.com"}


def _keys(store):
    with store.session() as s:
        return list(s.scalars(select(m.FederationKey).order_by(m.FederationKey.created_at)))


def _snapshot(store):
    return [(k.id, k.private_key, k.active_slot, k.expires_at, k.revoked_at) for k in _keys(store)]


def _audit(store):
    with store.session() as s:
        q = select(m.AuditEntry).where(m.AuditEntry.action.like("federation.%"))
        return list(s.scalars(q.order_by(m.AuditEntry.id)))


def _error(result) -> dict:
    return json.loads(result.stderr.splitlines()[-1])["error"]


@pytest.fixture
def kek(key_watch):
    key = Fernet.generate_key().decode()
    key_watch.secrets.add(key)
    return {"SCAIWAVE_KEY_ENCRYPTION_KEY": key, **SERVER}


# -- point 6: encryption at rest is the default ---------------------------------------------------


def test_generate_without_an_encryption_key_refuses_unless_allowed(cli, store):
    refused = cli.invoke("--output", "json", *KEY, "generate", env=SERVER)
    assert refused.exit_code == 2, refused.output
    error = _error(refused)
    assert error["code"] == "SW_KEY_ENCRYPTION_KEY_REQUIRED"
    assert "--allow-unencrypted" in error["hint"] and "SCAIWAVE_KEY_ENCRYPTION_KEY" in error["hint"]
    assert _keys(store) == [] and _audit(store) == []

    allowed = cli.invoke("--output", "json", *KEY, "generate", "--allow-unencrypted", env=SERVER)
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["encrypted"] is False
    assert "stored UNENCRYPTED" in allowed.stderr and "\x1b[" not in allowed.stderr
    [row] = _keys(store)
    assert row.encrypted is False


def test_the_plaintext_warning_is_red_on_a_terminal(cli, store):
    result = cli.invoke(*KEY, "generate", "--allow-unencrypted", env=SERVER, color=True)
    assert result.exit_code == 0, result.output
    assert "\x1b[31m" in result.stderr and "UNENCRYPTED" in result.stderr


def test_a_shell_without_the_key_never_adds_a_plaintext_key_to_encrypted_ones(cli, store, kek):
    """The issue's case: rotated with the key set, then rotated in a shell without it."""
    assert cli.json(*KEY, "generate", env=kek)["encrypted"] is True
    before = _snapshot(store)
    for command in (["rotate"], ["rotate", "--allow-unencrypted"]):
        result = cli.invoke("--output", "json", *KEY, *command, env=SERVER)
        assert result.exit_code == 2, result.output
        error = _error(result)
        assert error["code"] == "SW_KEY_ENCRYPTION_KEY_MISSING"
        assert "SCAIWAVE_KEY_ENCRYPTION_KEY" in error["message"]
    assert _snapshot(store) == before and len(_audit(store)) == 1
    # revoked, the encrypted active key still says the server encrypts: generate refuses too
    cli.json(*KEY, "revoke", before[0][0], "--yes", env=kek)
    again = cli.invoke(*KEY, "generate", "--allow-unencrypted", env=SERVER)
    assert again.exit_code == 2 and "SW_KEY_ENCRYPTION_KEY_MISSING" in again.stderr


def test_a_rotation_with_another_encryption_key_is_refused_and_changes_nothing(cli, store, kek):
    cli.json(*KEY, "generate", env=kek)
    cli.json(*KEY, "rotate", env=kek)
    before = _snapshot(store)
    other = dict(kek, SCAIWAVE_KEY_ENCRYPTION_KEY=Fernet.generate_key().decode())
    result = cli.invoke("--output", "json", *KEY, "rotate", env=other)
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["code"] == "SW_KEY_ENCRYPTION_KEY_WRONG"
    assert before[0][0] in error["message"] or before[1][0] in error["message"]
    assert _snapshot(store) == before and len(_audit(store)) == 2
    assert cli.json(*KEY, "rotate", env=kek)["encrypted"] is True  # the right key still works


def test_generate_with_the_key_and_a_server_name_needs_no_flag(cli, store, kek):
    result = cli.invoke("--output", "json", *KEY, "generate", env=kek)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr and json.loads(result.stdout)["encrypted"] is True


# -- point 6: the server name -----------------------------------------------------------------


@pytest.mark.parametrize("name", [None, "localhost", "LOCALHOST"])
@pytest.mark.parametrize(
    "command",
    [[*KEY, "generate"], [*KEY, "rotate"], ["admin", "federation", "well-known"]],
    ids=["generate", "rotate", "well-known"],
)
def test_no_server_name_no_keys_and_no_descriptor(cli, store, kek, command, name):
    env = dict(kek)
    if name is None:
        env.pop("SCAIWAVE_SERVER_NAME")
    else:
        env["SCAIWAVE_SERVER_NAME"] = name
    result = cli.invoke("--output", "json", *command, env=env)
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["code"] == "SW_SERVER_NAME_UNSET"
    assert "SCAIWAVE_SERVER_NAME" in error["hint"] and "--server-name" in error["hint"]
    assert _keys(store) == [] and result.stdout == ""


def test_server_name_option_overrides_the_setting(cli, store, kek):
    env = {k: v for k, v in kek.items() if k != "SCAIWAVE_SERVER_NAME"}
    made = cli.invoke(*KEY, "generate", "--server-name", "wave.example.org", env=env)
    assert made.exit_code == 0, made.output
    doc = cli.json("admin", "federation", "well-known", "--server-name", "wave.example.org",
                   env=env)  # fmt: skip
    assert doc["server_name"] == "wave.example.org" and doc["public_key"].startswith("ed25519:")
    assert doc["endpoints"]["send"].startswith("https://wave.example.org/")
    bad = cli.invoke("--output", "json", *KEY, "rotate", "--server-name", "https://x/", env=env)
    assert bad.exit_code == 2 and _error(bad)["code"] == "SW_SERVER_NAME_INVALID"
    assert len(_keys(store)) == 1


# -- point 5: revoke and prune: plan, --dry-run, confirmation ----------------------------------


def test_revoke_plans_and_needs_yes_exit_2(cli, store, kek):
    a = cli.json(*KEY, "generate", env=kek)["id"]
    cli.json(*KEY, "rotate", env=kek)
    refused = cli.invoke("--output", "json", *KEY, "revoke", a)
    assert refused.exit_code == 2, refused.output
    assert _error(refused)["code"] == "SW_CONFIRMATION_REQUIRED"
    assert f"revoke federation key {a} (previous)" in refused.stderr
    dry = cli.invoke("--output", "json", *KEY, "revoke", a, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["result"] == "would revoke"
    assert all(k.revoked_at is None for k in _keys(store)) and len(_audit(store)) == 2
    done = cli.json(*KEY, "revoke", a, "--yes", "--reason", "leaked")
    assert done["result"] == "revoked" and len(_audit(store)) == 3


def test_revoke_of_a_mistyped_key_suggests_the_close_id(cli, store, kek):
    a = cli.json(*KEY, "generate", env=kek)["id"]
    typo = a[:-1] + ("a" if a[-1] != "a" else "b")
    result = cli.invoke("--output", "json", *KEY, "revoke", typo, "--yes")
    assert result.exit_code == 1
    error = _error(result)
    assert error["code"] == "SW_FEDERATION_KEY_NOT_FOUND"
    assert f"did you mean {a!r}" in error["message"]
    assert _keys(store)[0].revoked_at is None


def test_prune_plans_and_needs_yes(cli, store, kek):
    a = cli.json(*KEY, "generate", env=kek)["id"]
    cli.json(*KEY, "rotate", "--overlap", "0s", env=kek)
    refused = cli.invoke("--output", "json", *KEY, "prune")
    assert refused.exit_code == 2 and _error(refused)["code"] == "SW_CONFIRMATION_REQUIRED"
    assert f"delete 1 expired federation key(s): {a}" in refused.stderr
    assert len(_keys(store)) == 2
    dry = cli.invoke("--output", "json", *KEY, "prune", "--dry-run")
    assert dry.exit_code == 0 and [r["id"] for r in json.loads(dry.stdout)] == [a]
    assert len(_keys(store)) == 2
    pruned = cli.json(*KEY, "prune", "--yes")
    assert [r["id"] for r in pruned] == [a] and len(_keys(store)) == 1
    nothing = cli.invoke(*KEY, "prune")  # nothing to delete: nothing to confirm
    assert nothing.exit_code == 0 and "nothing to prune" in nothing.stderr
