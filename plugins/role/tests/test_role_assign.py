"""`role assign|unassign|assignments` and `role assign --from-file`, through the CLI on SQLite and
MariaDB: rows written, idempotence, guards, all-or-nothing files, audit in the same transaction."""

from __future__ import annotations

import json

import pytest

from scaiwave_cli import api

DESIGN = "ws-acme-design"


# -- assign ----------------------------------------------------------------------------------------


def test_assign_workspace_role_writes_the_membership_row_the_room_plugin_reads(world):
    out = world.json(
        "role", "assign", "bob@acme.test", "editor", "--tenant", "acme", "--workspace", "design"
    )
    assert (out["result"], out["scope"], out["participant_id"]) == (
        "assigned",
        "workspace:design",
        "prt-bob",
    )
    assert world.members() == {"prt-alice": "owner", "prt-bob": "editor"}
    tenant = world.scalar("SELECT tenant_id FROM workspace_members WHERE participant_id='prt-bob'")
    assert tenant == "tnt-acme"
    assert world.assignments() == set()
    # the core check (what `room import` asks) now allows create_note there
    with world.store.session() as s:
        decision = api.permissions.check(
            s,
            tenant_id="tnt-acme",
            participant_id="prt-bob",
            permission="create_note",
            workspace_id=DESIGN,
        )
    assert decision.allowed and decision.chain[0]["source"] == "workspace_member"


def test_assign_again_is_unchanged_exit_0_and_not_audited_twice(world):
    args = ("role", "assign", "prt-carol", "tenant_admin", "--tenant", "acme")
    assert world.json(*args)["result"] == "assigned"
    again = world.run("--output", "json", *args)
    assert again.exit_code == 0 and json.loads(again.stdout)["result"] == "unchanged"
    assert world.assignments() == {("prt-carol", "tenant_admin", None)}
    assigned = [a for a in world.changes() if a["action"] == "role.assign"]
    assert len(assigned) == 1
    assert assigned[0]["target"] == "participant:prt-carol"
    assert assigned[0]["details"]["role"] == "tenant_admin"
    assert assigned[0]["actor"].startswith("local:")
    created_by = world.scalar("SELECT created_by FROM role_assignments")
    assert created_by.startswith("local:")


def test_assign_custom_workspace_role_is_a_role_assignment_with_scope_key(world):
    world.json("role", "create", "moderator", "--tenant", "acme", "--level", "workspace")
    world.json("role", "assign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", "ops")
    world.json(
        "role", "assign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", "design"
    )
    assert world.assignments() == {
        ("prt-bob", "moderator", "ws-acme-ops"),
        ("prt-bob", "moderator", DESIGN),
    }


def test_changing_a_members_role_reports_the_previous_one(world):
    world.json("role", "assign", "prt-bob", "viewer", "--tenant", "acme", "--workspace", "design")
    out = world.json(
        "role", "assign", "prt-bob", "owner", "--tenant", "acme", "--workspace", "design"
    )
    assert (out["result"], out["previous"]) == ("changed", "viewer")
    assert world.members()["prt-bob"] == "owner"


@pytest.mark.parametrize(
    "args, code",
    [
        (("prt-bob", "editor", "--tenant", "acme"), "SW_ROLE_SCOPE"),  # needs --workspace
        (("prt-bob", "tenant_admin", "--tenant", "acme", "--workspace", "ops"), "SW_ROLE_SCOPE"),
        (
            ("prt-erin", "editor", "--tenant", "acme", "--workspace", "ops"),
            "SW_PARTICIPANT_NOT_FOUND",
        ),  # erin is beta's
        (("prt-bob", "editr", "--tenant", "acme", "--workspace", "ops"), "SW_ROLE_NOT_FOUND"),
        (
            ("prt-bob", "editor", "--tenant", "acme", "--workspace", "general"),
            "SW_WORKSPACE_NOT_FOUND",
        ),  # beta's workspace
        (("prt-bob", "editor", "--tenant", "nope", "--workspace", "ops"), "SW_TENANT_NOT_FOUND"),
    ],
)
def test_assign_errors_exit_1_and_change_nothing(world, args, code):
    result = world.run("role", "assign", *args)
    assert result.exit_code == 1 and code in result.stderr, result.output
    assert world.members() == {"prt-alice": "owner"}
    assert world.assignments() == set()
    assert world.changes() == []


def test_assign_usage_errors_exit_2(world):
    assert world.run("role", "assign", "prt-bob", "--tenant", "acme").exit_code == 2
    assert (
        world.run("role", "assign", "prt-bob", "member", "--tenant", "acme", "--dry-run").exit_code
        == 2
    )


def test_assigning_to_a_deactivated_participant_warns(world):
    result = world.run("role", "assign", "prt-dave", "member", "--tenant", "acme")
    assert result.exit_code == 0 and "deactivated" in result.stderr


# -- guards ----------------------------------------------------------------------------------------


def test_last_owner_cannot_be_unassigned_or_demoted(world):
    args = ("--tenant", "acme", "--workspace", "design")
    result = world.run("--output", "json", "role", "unassign", "prt-alice", "owner", *args)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_WORKSPACE_NEEDS_OWNER"
    demote = world.run("role", "assign", "prt-alice", "editor", *args)
    assert demote.exit_code == 1 and "SW_WORKSPACE_NEEDS_OWNER" in demote.stderr
    assert world.members() == {"prt-alice": "owner"}
    assert world.changes() == []
    # with a second owner both work
    world.json("role", "assign", "prt-bob", "owner", *args)
    assert world.json("role", "unassign", "prt-alice", "owner", *args)["result"] == "unassigned"
    assert world.members() == {"prt-bob": "owner"}


def test_a_deactivated_owner_does_not_count_as_the_remaining_owner(world):
    world.member("acme", "design", "dave", "owner")  # dave is deactivated
    result = world.run(
        "role", "unassign", "prt-alice", "owner", "--tenant", "acme", "--workspace", "design"
    )
    assert result.exit_code == 1 and "SW_WORKSPACE_NEEDS_OWNER" in result.stderr


def test_last_tenant_admin_cannot_be_unassigned(world):
    world.json("role", "assign", "prt-bob", "tenant_admin", "--tenant", "acme")
    result = world.run("role", "unassign", "prt-bob", "tenant_admin", "--tenant", "acme")
    assert result.exit_code == 1 and "SW_TENANT_NEEDS_ADMIN" in result.stderr
    assert world.assignments() == {("prt-bob", "tenant_admin", None)}
    world.json("role", "assign", "prt-carol", "tenant_admin", "--tenant", "acme")
    out = world.json("role", "unassign", "prt-bob", "tenant_admin", "--tenant", "acme")
    assert out["result"] == "unassigned"
    assert world.assignments() == {("prt-carol", "tenant_admin", None)}
    # beta's admins are beta's: acme's last one is still protected
    world.participant("beta", "frank")
    world.json("role", "assign", "prt-frank", "tenant_admin", "--tenant", "beta")
    assert (
        world.run("role", "unassign", "prt-carol", "tenant_admin", "--tenant", "acme").exit_code
        == 1
    )


# -- unassign --------------------------------------------------------------------------------------


def test_unassign_role_not_held_is_unchanged(world):
    out = world.json("role", "unassign", "prt-bob", "member", "--tenant", "acme")
    assert out["result"] == "unchanged"
    world.json("role", "assign", "prt-bob", "viewer", "--tenant", "acme", "--workspace", "design")
    # bob is a viewer, not an editor: nothing to take away
    out = world.json(
        "role", "unassign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design"
    )
    assert out["result"] == "unchanged" and world.members()["prt-bob"] == "viewer"
    assert [a["action"] for a in world.changes()] == ["role.assign"]


def test_unassign_tenant_and_workspace_scoped_assignments_separately(world):
    world.json("role", "create", "moderator", "--tenant", "acme", "--level", "workspace")
    for ws in ("design", "ops"):
        world.json("role", "assign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", ws)
    out = world.json(
        "role", "unassign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", "ops"
    )
    assert out["result"] == "unassigned"
    assert world.assignments() == {("prt-bob", "moderator", DESIGN)}
    unassigned = [a for a in world.changes() if a["action"] == "role.unassign"]
    assert unassigned[0]["details"] == {"role": "moderator", "scope": "workspace:ops"}


# -- assignments -----------------------------------------------------------------------------------


def _seed_assignments(world):
    world.json("role", "create", "auditor", "--tenant", "acme")
    world.json("role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design")
    world.json("role", "assign", "prt-bob", "auditor", "--tenant", "acme")
    world.json("role", "assign", "prt-carol", "tenant_admin", "--tenant", "acme")
    world.json("role", "assign", "prt-erin", "member", "--tenant", "beta")


def test_assignments_lists_both_sources_with_filters(world):
    _seed_assignments(world)
    rows = world.json("role", "assignments", "--tenant", "acme")
    got = {(r["participant_id"], r["role"], r["workspace"], r["source"]) for r in rows}
    assert got == {
        ("prt-bob", "auditor", None, "role_assignment"),
        ("prt-carol", "tenant_admin", None, "role_assignment"),
        ("prt-alice", "owner", "design", "workspace_member"),
        ("prt-bob", "editor", "design", "workspace_member"),
    }
    assert all(r["tenant"] == "acme" for r in rows)
    by_bob = world.json("role", "assignments", "--tenant", "acme", "--participant", "bob@acme.test")
    assert {r["role"] for r in by_bob} == {"auditor", "editor"}
    editors = world.json("role", "assignments", "--role", "editor")
    assert [(r["participant_id"], r["source"]) for r in editors] == [
        ("prt-bob", "workspace_member")
    ]
    in_design = world.json("role", "assignments", "--tenant", "acme", "--workspace", "design")
    assert {r["participant_id"] for r in in_design} == {"prt-alice", "prt-bob"}
    everyone = world.json("role", "assignments")
    assert {r["tenant"] for r in everyone} == {"acme", "beta"}


def test_assignments_jsonl_and_csv_stream_one_row_per_line(world):
    _seed_assignments(world)
    jsonl = world.run("--output", "jsonl", "role", "assignments", "--tenant", "acme")
    assert jsonl.exit_code == 0
    lines = jsonl.stdout.splitlines()
    assert len(lines) == 4 and all(json.loads(line)["tenant"] == "acme" for line in lines)
    csv_out = world.run("--output", "csv", "role", "assignments", "--tenant", "acme").stdout
    assert (
        csv_out.splitlines()[0]
        == "tenant,participant_id,participant,role,scope,workspace,source,since"
    )


def test_assignments_filter_errors(world):
    assert world.run("role", "assignments", "--participant", "prt-bob").exit_code == 2
    result = world.run("role", "assignments", "--tenant", "acme", "--role", "nope")
    assert result.exit_code == 1 and "SW_ROLE_NOT_FOUND" in result.stderr


# -- bulk: --from-file -----------------------------------------------------------------------------


def _csv(tmp_path, text):
    path = tmp_path / "assignments.csv"
    path.write_text(text)
    return str(path)


def test_from_file_applies_every_line_and_reports_each(world, tmp_path):
    world.json("role", "create", "moderator", "--tenant", "acme", "--level", "workspace")
    path = _csv(
        tmp_path,
        "participant,role,scope\n"
        "bob@acme.test,editor,workspace:design\n"
        "prt-carol,tenant_admin,tenant\n"
        "# comment line\n"
        "prt-carol,moderator,ops\n"
        "prt-alice,owner,workspace:design\n"
        "prt-bob,member,\n",
    )
    result = world.run(
        "--output", "json", "role", "assign", "--from-file", path, "--tenant", "acme"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["result"] for r in rows] == [
        "assigned",
        "assigned",
        "assigned",
        "unchanged",
        "assigned",
    ]
    assert [r["line"] for r in rows] == [2, 3, 5, 6, 7]
    assert "5 line(s): 4 changed, 1 unchanged" in result.stderr
    assert world.members() == {"prt-alice": "owner", "prt-bob": "editor"}
    assert world.assignments() == {
        ("prt-carol", "tenant_admin", None),
        ("prt-carol", "moderator", "ws-acme-ops"),
        ("prt-bob", "member", None),
    }
    actions = [a["action"] for a in world.changes()]
    assert actions.count("role.assign") == 4 and actions[-1] == "role.assign_file"
    # the same file again: all unchanged, nothing audited
    again = world.run("--output", "json", "role", "assign", "--from-file", path, "--tenant", "acme")
    assert {r["result"] for r in json.loads(again.stdout)} == {"unchanged"}
    assert len(world.changes()) == len(actions)


def test_from_file_is_all_or_nothing_and_lists_every_problem(world, tmp_path):
    path = _csv(
        tmp_path,
        "prt-bob,editor,workspace:design\n"
        "prt-carol,tenant_admn\n"
        "prt-nobody,member\n"
        "prt-carol,editor,workspace:nowhere\n"
        "prt-carol,editor\n",
    )
    result = world.run(
        "--output", "json", "role", "assign", "--from-file", path, "--tenant", "acme"
    )
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_ROLE_FILE_INVALID"
    problems = error["details"]["errors"]
    assert len(problems) == 4
    assert problems[0].startswith("line 2: role 'tenant_admn' not found (did you mean tenant_admin")
    assert problems[1].startswith("line 3: participant 'prt-nobody'")
    assert "workspace 'nowhere' not found" in problems[2]
    assert "line 5" in problems[3] and "workspace role" in problems[3]
    assert world.members() == {"prt-alice": "owner"}  # line 1 was fine, but not applied
    assert world.changes() == []


def test_from_file_dry_run_reports_the_plan_and_writes_nothing(world, tmp_path):
    path = _csv(tmp_path, "prt-bob,editor,design\nprt-alice,viewer,design\nprt-bob,owner,ops\n")
    dry = world.run("--output", "json", "role", "assign", "--from-file", path, "--tenant", "acme")
    # alice was the only owner of design: the file is refused as a whole
    assert dry.exit_code == 1 and "SW_WORKSPACE_NEEDS_OWNER" in dry.stderr
    path = _csv(tmp_path, "prt-bob,owner,design\nprt-alice,viewer,design\nprt-carol,member\n")
    dry = world.run(
        "--output", "json", "role", "assign", "--from-file", path, "--tenant", "acme", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert [r["result"] for r in json.loads(dry.stdout)] == [
        "assigned",
        "changed from owner",
        "assigned",
    ]
    assert "would change" in dry.stderr and "dry run" in dry.stderr
    assert world.members() == {"prt-alice": "owner"}
    assert world.assignments() == set()
    assert world.audit() == []  # not even the built-in seeding: a dry run writes nothing
    assert world.scalar("SELECT COUNT(*) FROM roles") == 0


def test_from_file_conflicting_member_roles_and_unreadable_lines(world, tmp_path):
    path = _csv(tmp_path, "prt-bob,editor,design\nprt-bob,viewer,design\n")
    result = world.run("role", "assign", "--from-file", path, "--tenant", "acme")
    assert result.exit_code == 1 and "two workspace roles" in result.stderr
    path = _csv(tmp_path, "prt-bob,editor,design,extra\n")
    result = world.run("role", "assign", "--from-file", path, "--tenant", "acme")
    assert result.exit_code == 1 and "SW_ROLE_FILE_INVALID" in result.stderr
    path = _csv(tmp_path, "participant,role,scope\n")
    result = world.run("role", "assign", "--from-file", path, "--tenant", "acme")
    assert result.exit_code == 1 and "no assignment lines" in result.stderr


def test_from_file_on_stdin(world):
    result = world.run(
        "role", "assign", "--from-file", "-", "--tenant", "acme", input="prt-bob,member\n"
    )
    assert result.exit_code == 0, result.output
    assert world.assignments() == {("prt-bob", "member", None)}


# -- audit in the same transaction ----------------------------------------------------------


def test_a_failing_audit_write_rolls_the_change_back(world, monkeypatch):
    world.json("role", "list")  # seed first

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(api.audit, "record", broken)
    result = world.run(
        "role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design"
    )
    assert result.exit_code == 1 and "audit log unavailable" in result.stderr
    assert world.members() == {"prt-alice": "owner"}
