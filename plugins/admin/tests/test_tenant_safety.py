"""Issue 13 in `scaiwave admin`: a tenant's ScaiKey link and partner can be changed (no dead end
after a typo), status changes are planned and confirmed, typos are "did you mean", and every hint
names a command and options that exist. Through the CLI on SQLite and MariaDB."""

from __future__ import annotations

import ast
import json
import pathlib
import re
import shlex

import click
import pytest
from sqlalchemy import select

from scaiwave_cli import api

m = api.store.models
UPDATE = ["admin", "update-tenant"]


def _tenant(store, slug):
    with store.session() as s:
        return s.scalar(select(m.Tenant).where(m.Tenant.slug == slug))


def _audit(store, action="tenant.update"):
    with store.session() as s:
        q = select(m.AuditEntry).where(m.AuditEntry.action == action)
        return list(s.scalars(q.order_by(m.AuditEntry.id)))


def _error(result) -> dict:
    return json.loads(result.stderr.splitlines()[-1])["error"]


# -- point 2: --scaikey-tenant-id and --partner ---------------------------------------------------


def test_update_relinks_the_scaikey_tenant_audited_and_names_a_conflict(cli, seed, store):
    seed.tenant("acme", scaikey="tnt_acme_typo")
    seed.tenant("globex")
    out = cli.json(*UPDATE, "acme", "--scaikey-tenant-id", "tnt_acme")
    assert out["result"] == "updated" and out["changed"] == ["scaikey_tenant_id"]
    assert out["scaikey_tenant_id"] == "tnt_acme" == _tenant(store, "acme").scaikey_tenant_id
    [entry] = _audit(store)
    assert entry.details == {
        "before": {"scaikey_tenant_id": "tnt_acme_typo"}, "after": {"scaikey_tenant_id": "tnt_acme"}
    }  # fmt: skip

    taken = cli.invoke("--output", "json", *UPDATE, "acme", "--scaikey-tenant-id", "tnt_globex")
    assert taken.exit_code == 1, taken.output
    error = _error(taken)
    assert error["code"] == "SW_TENANT_CONFLICT" and "'globex'" in error["message"]
    assert error["details"] == {"conflicts": ["scaikey_tenant_id"], "tenant": "globex"}
    assert "scaiwave admin show-tenant globex" in error["hint"]
    assert _tenant(store, "acme").scaikey_tenant_id == "tnt_acme" and len(_audit(store)) == 1

    empty = cli.invoke(*UPDATE, "acme", "--scaikey-tenant-id", " ")
    assert empty.exit_code == 1 and "SW_TENANT_INVALID" in empty.stderr


def test_update_moves_a_tenant_to_another_partner(cli, seed, store):
    seed.partner("north", scaikey_partner_id="prt_north")
    seed.partner("south")
    seed.tenant("acme", partner="north")
    out = cli.json(*UPDATE, "acme", "--partner", "south")
    assert out["partner"] == "south" and out["changed"] == ["partner"]
    assert _tenant(store, "acme").partner_id == "ptn-south"
    [entry] = _audit(store)
    assert entry.details == {"before": {"partner": "north"}, "after": {"partner": "south"}}

    by_scaikey_id = cli.json(*UPDATE, "acme", "--partner", "prt_north")
    assert by_scaikey_id["partner"] == "north"
    assert cli.json(*UPDATE, "acme", "--partner", "north")["result"] == "unchanged"

    unknown = cli.invoke("--output", "json", *UPDATE, "acme", "--partner", "nort")
    assert unknown.exit_code == 1
    error = _error(unknown)
    assert error["code"] == "SW_PARTNER_NOT_FOUND" and "did you mean 'north'" in error["message"]
    assert _tenant(store, "acme").partner_id == "ptn-north" and len(_audit(store)) == 2

    unlinked = cli.json(*UPDATE, "acme", "--no-partner")
    assert unlinked["partner"] is None and _tenant(store, "acme").partner_id is None
    both = cli.invoke(*UPDATE, "acme", "--partner", "north", "--no-partner")
    assert both.exit_code == 2 and "--no-partner" in both.stderr


def test_partner_and_link_changes_are_scoped(cli, seed, store, admin_token):
    seed.partner("north", scaikey_partner_id="prt_north")
    seed.partner("south")
    seed.tenant("acme", partner="north")
    partner_env = admin_token.env("partner_admin", partner_id="prt_north")
    moved = cli.invoke(*UPDATE, "acme", "--partner", "south", env=partner_env)
    assert moved.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in moved.stderr
    relinked = cli.json(*UPDATE, "acme", "--scaikey-tenant-id", "tnt_acme2", env=partner_env)
    assert relinked["scaikey_tenant_id"] == "tnt_acme2"
    tenant_env = admin_token.env("tenant_admin", tenant_id="tnt_acme2")
    own = cli.invoke(*UPDATE, "acme", "--scaikey-tenant-id", "tnt_x", env=tenant_env)
    assert own.exit_code == 3 and _tenant(store, "acme").scaikey_tenant_id == "tnt_acme2"


def test_the_create_tenant_conflict_hint_runs_and_ends_the_dead_end(cli, seed, store):
    """Issue 13, point 2: a typo in --scaikey-tenant-id, then the create with the right id is a
    conflict whose hint is a command; running it makes the create "unchanged"."""
    seed.partner("north")
    create = ["admin", "create-tenant", "--slug", "acme", "--name", "Acme Corp",
              "--scaikey-tenant-id"]  # fmt: skip
    assert cli.json(*create, "tnt_acmme")["result"] == "created"
    right = [*create, "tnt_acme", "--partner-id", "north"]
    conflict = cli.invoke("--output", "json", *right)
    assert conflict.exit_code == 1
    error = _error(conflict)
    assert error["code"] == "SW_TENANT_CONFLICT"
    command = error["hint"].split("scaiwave ", 1)[1].split(", or ")[0]
    argv = shlex.split(command)
    assert argv[:3] == ["admin", "update-tenant", "acme"], error["hint"]
    assert "--scaikey-tenant-id" in argv and "--partner" in argv
    fixed = cli.invoke(*argv)
    assert fixed.exit_code == 0, fixed.output
    assert cli.json(*right)["result"] == "unchanged"
    row = _tenant(store, "acme")
    assert (row.scaikey_tenant_id, row.partner_id) == ("tnt_acme", "ptn-north")


def test_a_create_without_partner_on_a_partnered_tenant_hints_no_partner(cli, seed):
    seed.partner("north")
    seed.tenant("acme", partner="north", scaikey="tnt_acme")
    result = cli.invoke("--output", "json", "admin", "create-tenant", "--slug", "acme", "--name",
                        "Acme", "--scaikey-tenant-id", "tnt_acme")  # fmt: skip
    hint = _error(result)["hint"]
    assert "scaiwave admin update-tenant acme --no-partner" in hint
    assert "--partner-id north" in hint  # or add the partner to the create


# -- point 5: status changes are planned and confirmed --------------------------------------------


def test_status_change_needs_yes_without_a_terminal(cli, seed, store):
    seed.tenant("globex")
    refused = cli.invoke("--output", "json", *UPDATE, "globex", "--status", "suspended")
    assert refused.exit_code == 2, refused.output
    error = _error(refused)
    assert error["code"] == "SW_CONFIRMATION_REQUIRED" and "--yes" in error["hint"]
    assert "status: 'active' -> 'suspended'" in refused.stderr  # the plan came first
    assert _tenant(store, "globex").status == "active" and _audit(store) == []

    dry = cli.invoke("--output", "json", *UPDATE, "globex", "--status", "suspended",
                     "--name", "Globex Inc", "--dry-run")  # fmt: skip
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["result"] == "would update" and plan["slug"] == "globex"
    assert plan["changes"] == {
        "name": {"before": "Globex", "after": "Globex Inc"},
        "status": {"before": "active", "after": "suspended"},
    }
    assert "dry run: nothing was changed" in dry.stderr
    row = _tenant(store, "globex")
    assert (row.status, row.name) == ("active", "Globex") and _audit(store) == []

    done = cli.json(*UPDATE, "globex", "--status", "suspended", "--yes")
    assert done["result"] == "updated" and done["status"] == "suspended"
    [entry] = _audit(store)
    assert entry.details == {"before": {"status": "active"}, "after": {"status": "suspended"}}
    same = cli.json(*UPDATE, "globex", "--status", "suspended")  # nothing changes: no question
    assert same["result"] == "unchanged" and len(_audit(store)) == 1
    # other changes than the status need no confirmation
    assert cli.json(*UPDATE, "globex", "--name", "Globex Inc")["result"] == "updated"


@pytest.mark.parametrize(("answer", "code", "status"), [("n\n", 1, "active"),
                                                        ("y\n", 0, "suspended")])  # fmt: skip
def test_status_change_asks_on_a_terminal(cli, seed, store, monkeypatch, answer, code, status):
    from scaiwave_cli import confirm

    monkeypatch.setattr(confirm, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(confirm, "stderr_is_terminal", lambda: True)
    seed.tenant("globex")
    result = cli.invoke(*UPDATE, "globex", "--status", "suspended", input=answer)
    assert result.exit_code == code, result.output
    assert "Proceed?" in result.stderr and "'active' -> 'suspended'" in result.stderr
    if code:
        assert "SW_ABORTED" in result.stderr
    assert _tenant(store, "globex").status == status


def test_a_mistyped_tenant_is_exit_1_with_did_you_mean(cli, seed, store):
    seed.tenant("globex")
    result = cli.invoke("--output", "json", *UPDATE, "glbex", "--status", "suspended", "--yes")
    assert result.exit_code == 1
    error = _error(result)
    assert error["code"] == "SW_TENANT_NOT_FOUND" and "did you mean 'globex'" in error["message"]
    assert _tenant(store, "globex").status == "active"


# -- every hint names a command that exists, with options that exist ------------------------------

SOURCES = pathlib.Path(__file__).resolve().parents[1] / "scaiwave_admin"


def _hint_texts():
    """Every string constant (f-strings joined, placeholders as X) passed as ``hint=``."""
    for path in sorted(SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                yield f"{path.name}:{node.value.lineno}", _text(node.value)


def _text(node) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) if isinstance(v, ast.Constant) else "X" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _text(node.left) + _text(node.right)
    if isinstance(node, ast.IfExp):
        return _text(node.body) + " " + _text(node.orelse)
    return ""


def _commands_in(text):
    for match in re.finditer(r"scaiwave((?: [a-z][\w-]*)+)([^,;()`]*)", text):
        yield match.group(1).split(), re.findall(r"(?<![\w-])--[a-z][\w-]*", match.group(2))


def test_every_hint_names_a_command_and_options_that_exist():
    from scaiwave_admin.cli import admin

    checked = 0
    for where, text in _hint_texts():
        for words, flags in _commands_in(text):
            if words[0] != "admin":
                continue
            command, ctx = admin, click.Context(admin)
            for word in words[1:]:
                if not isinstance(command, click.Group) or word not in command.commands:
                    break
                command = command.commands[word]
            assert not isinstance(command, click.Group), f"{where}: {text!r} names no command"
            known = {o for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}
            assert set(flags) <= known, f"{where}: {text!r}: {set(flags) - known} do not exist"
            checked += 1
    assert checked >= 10
