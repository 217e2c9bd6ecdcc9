"""Operator safety of `scaiwave role` (issue 13, points 5, 11, 12), through the CLI, on SQLite
and MariaDB: plans, ``--dry-run`` and confirmations for disruptive changes; unknown names are
errors with "did you mean", never "unchanged"; Excel's CSV; `role check`'s exits."""

from __future__ import annotations

import json

import pytest

from scaiwave_cli import api

P = api.permissions


def _confirm_required(result):
    assert result.exit_code == 2, result.output
    assert "SW_CONFIRMATION_REQUIRED" in result.stderr and "--yes" in result.stderr


@pytest.fixture
def tty(monkeypatch):
    """stdin and stderr count as a terminal: the confirmation prompts."""
    monkeypatch.setattr("scaiwave_cli.confirm.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("scaiwave_cli.confirm.stderr_is_terminal", lambda: True)


# -- role delete ---------------------------------------------------------------------------------


def test_delete_has_a_plan_dry_run_and_needs_yes_without_a_terminal(world):
    world.json("role", "create", "importer", "--tenant", "acme", "--from", "editor")
    world.json("role", "assign", "prt-bob", "importer", "--tenant", "acme", "--workspace", "ops")
    args = ("role", "delete", "importer", "--tenant", "acme", "--reassign-to", "editor")

    dry = world.run("--output", "json", *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "delete role 'importer' in tenant 'acme'" in dry.stderr
    assert "1 assignment(s) of 1 participant(s) move to 'editor'" in dry.stderr
    assert json.loads(dry.stdout)["result"] == "would delete"
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'importer'") == 1

    _confirm_required(world.run(*args))
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'importer'") == 1
    assert [a["action"] for a in world.changes()] == ["role.create", "role.assign"]

    done = world.json(*args, "--yes")
    assert (done["result"], done["moved"]) == ("deleted", 1)
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'importer'") == 0


def test_delete_on_a_terminal_prompts_and_no_aborts(world, tty):
    world.json("role", "create", "importer", "--tenant", "acme")
    no = world.run("role", "delete", "importer", "--tenant", "acme", input="n\n")
    assert no.exit_code == 1 and "SW_ABORTED" in no.stderr
    assert "delete role 'importer'" in no.stderr
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'importer'") == 1
    yes = world.run(
        "--output", "json", "role", "delete", "importer", "--tenant", "acme", input="y\n"
    )
    assert yes.exit_code == 0, yes.output
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'importer'") == 0


def test_delete_of_a_typo_is_not_found_with_did_you_mean_never_unchanged(world):
    world.json("role", "create", "importer", "--tenant", "acme")
    for extra in ((), ("--yes",), ("--dry-run",)):
        result = world.run("role", "delete", "imprter", "--tenant", "acme", *extra)
        assert result.exit_code == 1, result.output
        assert "SW_ROLE_NOT_FOUND" in result.stderr and "did you mean importer" in result.stderr
        assert "unchanged" not in result.output
    builtin_typo = world.run("role", "delete", "edtor", "--tenant", "acme", "--yes")
    assert builtin_typo.exit_code == 1 and "did you mean editor" in builtin_typo.stderr
    # another tenant's custom role is not found here either
    world.json("role", "create", "helper", "--tenant", "beta")
    other = world.run("role", "delete", "helper", "--tenant", "acme", "--yes")
    assert other.exit_code == 1 and "SW_ROLE_NOT_FOUND" in other.stderr
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'helper'") == 1


# -- role permissions remove | reset -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("remove", "moderator", "room.kick", "--tenant", "acme"),
        ("reset", "editor", "--tenant", "acme"),
    ],
)
def test_remove_and_reset_have_a_plan_dry_run_and_need_yes(world, args):
    world.json("role", "create", "moderator", "--tenant", "acme")
    world.json("role", "permissions", "add", "moderator", "room.kick", "--tenant", "acme")
    world.json("role", "permissions", "add", "editor", "room.kick", "--tenant", "acme")
    before = world.rows("SELECT * FROM role_permissions ORDER BY role_id, permission")
    overrides = world.rows("SELECT * FROM role_overrides")

    dry = world.run("--output", "json", "role", "permissions", *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "room.kick" in dry.stderr and "in tenant 'acme'" in dry.stderr
    assert json.loads(dry.stdout)["result"] == "would change"
    _confirm_required(world.run("role", "permissions", *args))
    assert world.rows("SELECT * FROM role_permissions ORDER BY role_id, permission") == before
    assert world.rows("SELECT * FROM role_overrides") == overrides

    done = world.json("role", "permissions", *args, "--yes")
    assert done["result"] == "changed" and done["revoked"] == ["room.kick"]


def test_a_change_that_changes_nothing_needs_no_confirmation(world):
    world.json("role", "create", "moderator", "--tenant", "acme")
    same = world.json("role", "permissions", "remove", "moderator", "room.kick", "--tenant", "acme")
    assert same["result"] == "unchanged"


def test_unknown_role_in_permissions_commands_is_not_found(world):
    world.json("role", "create", "importer", "--tenant", "acme")
    result = world.run(
        "role", "permissions", "remove", "imprter", "create_note", "--tenant", "acme", "--yes"
    )
    assert result.exit_code == 1 and "SW_ROLE_NOT_FOUND" in result.stderr
    assert "did you mean importer" in result.stderr


# -- bulk removals: assign --from-file that replaces workspace roles ------------------------------


def test_from_file_with_removals_needs_yes_and_has_a_dry_run(world, tmp_path):
    world.json("role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design")
    path = tmp_path / "demote.csv"
    path.write_text("prt-bob,viewer,design\nprt-carol,member\n")
    args = ("role", "assign", "--from-file", str(path), "--tenant", "acme")

    dry = world.run(*args, "--dry-run")
    assert dry.exit_code == 0 and "changed from editor" in dry.stdout
    refused = world.run(*args)
    _confirm_required(refused)
    assert "replaces 1 workspace role" in refused.stderr
    assert world.members() == {"prt-alice": "owner", "prt-bob": "editor"}
    done = world.run(*args, "--yes")
    assert done.exit_code == 0, done.output
    assert world.members() == {"prt-alice": "owner", "prt-bob": "viewer"}


def test_from_file_with_additions_only_needs_no_confirmation(world, tmp_path):
    path = tmp_path / "add.csv"
    path.write_text("prt-bob,viewer,design\n")
    result = world.run("role", "assign", "--from-file", str(path), "--tenant", "acme")
    assert result.exit_code == 0, result.output


# -- Excel's CSV (point 11) ----------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("bom", [True, False])
def test_from_file_reads_utf8_with_or_without_bom_crlf_or_lf(world, tmp_path, bom, newline):
    lines = ["participant,role,scope", "BOB@acme.test,viewer,workspace:design", "prt-carol,member"]
    data = newline.join(lines).encode("utf-8") + newline.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / "excel.csv"
    path.write_bytes(data)
    result = world.run("role", "assign", "--from-file", str(path), "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert world.members()["prt-bob"] == "viewer"
    assert ("prt-carol", "member", None) in world.assignments()
    # the same bytes on standard input
    world.json("role", "unassign", "prt-carol", "member", "--tenant", "acme")
    piped = world.run("role", "assign", "--from-file", "-", "--tenant", "acme", input=data)
    assert piped.exit_code == 0, piped.output
    assert ("prt-carol", "member", None) in world.assignments()


# -- role check's exits (point 12) ---------------------------------------------------------------


def test_check_denied_and_error_are_told_apart_by_stdout(world):
    args = ("role", "check", "prt-bob", "create_note", "--tenant", "acme")
    denied = world.run("--output", "json", *args)
    assert denied.exit_code == 1
    assert json.loads(denied.stdout)["allowed"] is False  # a verdict on stdout

    for bad in (
        ("role", "check", "prt-nobody", "create_note", "--tenant", "acme"),
        ("role", "check", "prt-bob", "create_nte", "--tenant", "acme"),
        ("role", "check", "prt-bob", "create_note", "--tenant", "acme", "--workspace", "nope"),
        ("role", "check", "prt-bob", "create_note", "--tenant", "nope"),
    ):
        error = world.run("--output", "json", *bad)
        assert error.exit_code == 1 and error.stdout == ""  # no verdict: an error
        assert json.loads(error.stderr.splitlines()[-1])["error"]["code"].startswith("SW_")
        text = world.run(*bad)
        assert text.exit_code == 1 and text.stdout == "" and "Error [SW_" in text.stderr
    text_denied = world.run(*args)
    assert text_denied.stdout.startswith("DENIED: ")


def test_check_help_says_exactly_what_a_script_may_rely_on(world):
    help_text = " ".join(world.run("role", "check", "--help").stdout.split())
    assert "Exit 0: allowed" in help_text
    assert "Exit 1 with a verdict on stdout" in help_text
    assert "Exit 1 with nothing on stdout" in help_text
    assert "Exit 2" in help_text and "Exit 3" in help_text
