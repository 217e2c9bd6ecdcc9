"""`role check` over the core's ``api.permissions.check`` (shared with the room plugin; tested on
its own in tests/core/test_permissions.py): exit codes, the deciding chain, output formats, and
statement counts that do not grow with the data."""

from __future__ import annotations

import json

from sqlalchemy import event
from sqlalchemy.engine import Engine

from scaiwave_cli import api

CHECK = ("role", "check")


def test_allowed_exits_0_and_shows_the_granting_role(world):
    result = world.run(
        *CHECK, "prt-alice", "create_note", "--tenant", "acme", "--workspace", "design"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "ALLOWED: prt-alice may create_note in workspace 'design' of tenant 'acme'"
    assert lines[1] == "  because granted by role 'owner' held at workspace 'design'"
    assert lines[2] == "  - role owner at workspace design scope (workspace_member): grants it"


def test_denied_exits_1_with_the_roles_that_do_not_grant(world):
    world.json("role", "assign", "prt-bob", "viewer", "--tenant", "acme", "--workspace", "design")
    world.json("role", "assign", "prt-bob", "member", "--tenant", "acme")
    result = world.run(
        "--output",
        "json",
        *CHECK,
        "prt-bob",
        "create_note",
        "--tenant",
        "acme",
        "--workspace",
        "design",
    )
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["allowed"] is False and result.stderr == ""
    assert {(c["role"], c["scope"], c["grants"]) for c in record["chain"]} == {
        ("viewer", "workspace", False),
        ("member", "tenant", False),
    }
    assert "none of the roles held" in record["reason"]


def test_tenant_scope_role_applies_in_every_workspace_but_workspace_roles_do_not_leak(world):
    world.json("role", "assign", "prt-carol", "tenant_admin", "--tenant", "acme")
    for ws in ("design", "ops"):
        args = (*CHECK, "prt-carol", "workspace.manage_members", "--tenant", "acme")
        assert world.run(*args, "--workspace", ws).exit_code == 0
    assert (
        world.run(*CHECK, "prt-carol", "workspace.manage_members", "--tenant", "acme").exit_code
        == 0
    )
    # alice owns design only
    assert (
        world.run(
            *CHECK, "prt-alice", "create_note", "--tenant", "acme", "--workspace", "ops"
        ).exit_code
        == 1
    )
    assert world.run(*CHECK, "prt-alice", "create_note", "--tenant", "acme").exit_code == 1


def test_custom_workspace_role_grants_only_in_its_workspace(world):
    world.json("role", "create", "moderator", "--tenant", "acme", "--level", "workspace")
    world.json("role", "permissions", "add", "moderator", "room.kick", "--tenant", "acme")
    world.json("role", "assign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", "ops")
    ok = world.json(*CHECK, "prt-bob", "room.kick", "--tenant", "acme", "--workspace", "ops")
    assert ok["chain"] == [
        {
            "role": "moderator",
            "scope": "workspace",
            "workspace": "ops",
            "source": "role_assignment",
            "grants": True,
            "tenant_override": False,
        }
    ]
    assert (
        world.run(
            *CHECK, "prt-bob", "room.kick", "--tenant", "acme", "--workspace", "design"
        ).exit_code
        == 1
    )


def test_deactivated_participant_is_denied_whatever_it_holds(world):
    world.member("acme", "design", "dave", "owner")
    result = world.run(
        *CHECK, "prt-dave", "create_note", "--tenant", "acme", "--workspace", "design"
    )
    assert result.exit_code == 1 and "deactivated" in result.stdout


def test_check_errors(world):
    unknown = world.run(*CHECK, "prt-bob", "create_nte", "--tenant", "acme")
    assert unknown.exit_code == 1 and "SW_PERMISSION_UNKNOWN" in unknown.stderr
    assert "create_note" in unknown.stderr
    other = world.run(*CHECK, "prt-erin", "create_note", "--tenant", "acme")
    assert other.exit_code == 1 and "SW_PARTICIPANT_NOT_FOUND" in other.stderr
    ws = world.run(*CHECK, "prt-bob", "create_note", "--tenant", "acme", "--workspace", "x")
    assert ws.exit_code == 1 and "SW_WORKSPACE_NOT_FOUND" in ws.stderr


def test_check_csv_has_one_line_per_chain_link(world):
    world.json("role", "assign", "prt-alice", "member", "--tenant", "acme")
    result = world.run(
        "--output",
        "csv",
        *CHECK,
        "prt-alice",
        "create_note",
        "--tenant",
        "acme",
        "--workspace",
        "design",
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("allowed,participant,permission,tenant,workspace,chain_role")
    assert len(lines) == 3


# -- statement counts ---------------------------------------------------------------------------


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def _count(world, *args) -> int:
    counter = Statements()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        result = world.run(*args)
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
    assert result.exit_code in (0, 1), result.output
    return counter.count


def _grow(world, n: int) -> None:
    """n more participants of acme, each an editor of design and holding two tenant roles."""
    from sqlalchemy import select

    m = world.m
    start = world.scalar("SELECT COUNT(*) FROM participants")
    with world.store.transaction() as s:
        api.permissions.ensure_builtin_roles(s)
        roles = dict(
            s.execute(select(m.Role.name, m.Role.id).where(m.Role.tenant_id.is_(None))).all()
        )
        people = [
            {
                "id": f"prt-x{start + i}",
                "tenant_id": "tnt-acme",
                "display_name": f"x{i}",
                "email": f"x{start + i}@acme.test",
            }
            for i in range(n)
        ]
        api.store.insert_batches(s, m.Participant, people)
        api.store.insert_batches(
            s,
            m.WorkspaceMember,
            (
                {
                    "workspace_id": "ws-acme-design",
                    "participant_id": p["id"],
                    "tenant_id": "tnt-acme",
                    "role": "editor",
                }
                for p in people
            ),
        )
        api.store.insert_batches(
            s,
            m.RoleAssignment,
            (
                {
                    "tenant_id": "tnt-acme",
                    "participant_id": p["id"],
                    "role_id": roles[r],
                    "workspace_id": None,
                    "scope_key": "",
                }
                for p in people
                for r in ("member", "tenant_admin")
            ),
        )


def test_statement_counts_do_not_grow_with_the_data(world):
    check = (*CHECK, "prt-alice", "create_note", "--tenant", "acme", "--workspace", "design")
    listing = ("--output", "jsonl", "role", "assignments", "--tenant", "acme")
    world.json("role", "list")  # seeded: the counts below are steady-state
    small = (_count(world, *check), _count(world, *listing))
    _grow(world, 600)
    large = (_count(world, *check), _count(world, *listing))
    assert small == large
