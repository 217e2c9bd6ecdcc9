"""Built-in roles are tenant-overridable (issue 13, point 1), through the CLI, on SQLite and
MariaDB: `role permissions add|remove|reset <built-in> --tenant T` changes tenant T only (a
``role_overrides`` row the core's check honours); a change for every tenant needs
``--all-tenants`` (platform scope, "affects N tenants", a confirmation, ``--dry-run``)."""

from __future__ import annotations

import json

import pytest

from scaiwave_cli import api

P = api.permissions
PERMS = ("add", "remove", "reset")


def _beta_world(world):
    """beta gets more holders: fay (editor of general, member), gus (viewer of general,
    tenant_admin); acme: bob editor of design, carol viewer of design."""
    world.participant("beta", "fay")
    world.participant("beta", "gus")
    world.member("beta", "general", "fay", "editor")
    world.member("beta", "general", "gus", "viewer")
    world.json("role", "assign", "prt-fay", "member", "--tenant", "beta")
    world.json("role", "assign", "prt-gus", "tenant_admin", "--tenant", "beta")
    world.json("role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design")
    world.json("role", "assign", "prt-carol", "viewer", "--tenant", "acme", "--workspace", "design")


def _checks(world, tenant, people, workspaces) -> dict:
    """Every check of ``people`` in ``tenant`` (tenant scope and each workspace): the verdict
    and the granting roles."""
    out = {}
    with world.store.session() as s:
        for pid in people:
            for ws in (None, *workspaces):
                for perm in P.PERMISSIONS:
                    d = P.check(
                        s, tenant_id=f"tnt-{tenant}", participant_id=pid, permission=perm,
                        workspace_id=ws,
                    )  # fmt: skip
                    out[(pid, ws, perm)] = (d.allowed, sorted(c["role"] for c in d.chain))
    return out


def _beta(world):
    return _checks(world, "beta", ["prt-erin", "prt-fay", "prt-gus"], ["ws-beta-general"])


def _allowed(world, pid, perm, ws="design", tenant="acme") -> bool:
    args = ["role", "check", pid, perm, "--tenant", tenant] + (["--workspace", ws] if ws else [])
    result = world.run(*args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 0


def test_a_builtin_change_in_one_tenant_leaves_every_check_of_another_as_it_was(world):
    _beta_world(world)
    beta_before = _beta(world)
    global_editor = world.role_permissions("editor")

    removed = world.json(
        "role", "permissions", "remove", "editor", "create_note", "--tenant", "acme", "--yes"
    )
    assert removed["result"] == "changed" and removed["revoked"] == ["create_note"]
    assert removed["tenant"] == "acme" and removed["scope"] == "tenant:acme"
    assert removed["override"] == {"added": [], "removed": ["create_note"]}
    assert not _allowed(world, "prt-bob", "create_note")
    world.json("role", "permissions", "add", "viewer", "create_note", "--tenant", "acme")
    world.json("role", "permissions", "add", "member", "room.invite", "--tenant", "acme")
    world.json("role", "permissions", "add", "tenant_admin", "create_note", "--tenant", "acme")
    assert _allowed(world, "prt-carol", "create_note")

    assert _beta(world) == beta_before  # every check of beta as it was
    assert world.role_permissions("editor") == global_editor  # the global set is untouched
    assert _allowed(world, "prt-fay", "create_note", ws="general", tenant="beta")
    assert world.rows("SELECT DISTINCT tenant_id FROM role_overrides") == [("tnt-acme",)]
    audit = [a for a in world.changes() if a["action"].startswith("role.permissions")]
    assert {a["tenant_id"] for a in audit} == {"tnt-acme"}
    assert audit[0]["target"] == "role:acme/editor"

    # show --tenant: the tenant's effective set and its override
    shown = world.json("role", "show", "editor", "--tenant", "acme")
    assert "create_note" not in shown["permissions"]
    assert shown["override"] == {"added": [], "removed": ["create_note"]}
    assert "create_note" in world.json("role", "show", "editor", "--tenant", "beta")["permissions"]

    # reset --tenant drops the tenant's override: the global set applies again
    reset = world.json("role", "permissions", "reset", "editor", "--tenant", "acme", "--yes")
    assert reset["result"] == "changed" and reset["granted"] == ["create_note"]
    assert reset["override"] == {"added": [], "removed": []}
    assert _allowed(world, "prt-bob", "create_note")
    assert _beta(world) == beta_before


def test_the_check_chain_names_the_tenant_override(world):
    _beta_world(world)
    world.json("role", "permissions", "remove", "editor", "create_note", "--tenant", "acme", "-y")
    result = world.run(
        "--output", "json", "role", "check", "prt-bob", "create_note", "--tenant", "acme",
        "--workspace", "design",
    )  # fmt: skip
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["chain"] == [
        {
            "role": "editor",
            "scope": "workspace",
            "workspace": "design",
            "source": "workspace_member",
            "grants": False,
            "tenant_override": True,
        }
    ]
    assert "overridden in this tenant" in record["reason"]
    text = world.run(
        "role", "check", "prt-bob", "create_note", "--tenant", "acme", "--workspace", "design"
    ).stdout
    assert "does not grant it (tenant override)" in text


def test_removing_back_to_the_global_set_leaves_no_override_row(world):
    world.json("role", "permissions", "add", "viewer", "room.invite", "--tenant", "acme")
    assert world.scalar("SELECT COUNT(*) FROM role_overrides") == 1
    world.json("role", "permissions", "remove", "viewer", "room.invite", "--tenant", "acme", "-y")
    assert world.scalar("SELECT COUNT(*) FROM role_overrides") == 0


def test_a_builtin_needs_tenant_or_all_tenants(world):
    for op in PERMS:
        names = () if op == "reset" else ("room.kick",)
        result = world.run("role", "permissions", op, "editor", *names)
        assert result.exit_code == 2, result.output
        assert "--tenant" in result.stderr and "--all-tenants" in result.stderr
        both = world.run(
            "role", "permissions", op, "editor", *names, "--tenant", "acme", "--all-tenants"
        )
        assert both.exit_code == 2, both.output
    custom = world.json("role", "create", "moderator", "--tenant", "acme")
    assert custom["result"] == "created"
    result = world.run("role", "permissions", "add", "moderator", "room.kick", "--all-tenants")
    assert result.exit_code == 2 and "built-in" in result.stderr


def test_all_tenants_plan_dry_run_confirmation_and_apply(world):
    _beta_world(world)
    args = ("role", "permissions", "remove", "editor", "create_note", "--all-tenants")
    dry = world.run("--output", "json", *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "affects 2 tenants" in dry.stderr
    record = json.loads(dry.stdout)
    assert record["result"] == "would change" and record["scope"] == "all-tenants"
    assert "create_note" in world.role_permissions("editor")

    refused = world.run("--output", "json", *args)
    assert refused.exit_code == 2
    error = json.loads(refused.stderr.splitlines()[-1])["error"]
    assert error["code"] == "SW_CONFIRMATION_REQUIRED" and "--yes" in error["hint"]
    assert "affects 2 tenants" in refused.stderr
    assert "create_note" in world.role_permissions("editor")
    assert not [a for a in world.changes() if a["action"].startswith("role.permissions")]

    done = world.json(*args, "--yes")
    assert done["result"] == "changed" and done["tenants"] == 2
    assert "create_note" not in world.role_permissions("editor")
    assert not _allowed(world, "prt-fay", "create_note", ws="general", tenant="beta")
    assert not _allowed(world, "prt-bob", "create_note")


def test_all_tenants_keeps_a_tenants_own_override_and_counts_only_affected(world):
    world.json("role", "permissions", "add", "viewer", "create_note", "--tenant", "acme")
    dry = world.run(
        "role", "permissions", "add", "viewer", "create_note", "--all-tenants", "--dry-run"
    )
    assert dry.exit_code == 0 and "affects 1 tenant " in dry.stderr
    assert "acme keeps its own override" in dry.stderr
    reset = world.run("role", "permissions", "reset", "viewer", "--all-tenants", "--dry-run")
    assert "affects 1 tenant " in reset.stderr and "drops the override of 1 tenant" in reset.stderr
    world.json("role", "permissions", "reset", "viewer", "--all-tenants", "--yes")
    assert world.scalar("SELECT COUNT(*) FROM role_overrides") == 0
    assert world.role_permissions("viewer") == P.SHIPPED_PERMISSIONS["viewer"]


@pytest.mark.parametrize("op", PERMS)
def test_all_tenants_needs_platform_scope(world, admin_token, op):
    names = () if op == "reset" else ("room.kick",)
    world.json("role", "list")  # the built-ins seeded
    for env in (
        admin_token.env("tenant_admin", tenant_id="tnt_acme"),
        admin_token.env("partner_admin", partner_id="prt_n"),
    ):
        result = world.run(
            "role", "permissions", op, "editor", *names, "--all-tenants", "--yes", env=env
        )
        assert result.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr
    assert world.role_permissions("editor") == P.SHIPPED_PERMISSIONS["editor"]


def test_a_tenant_admin_overrides_builtins_in_its_own_tenant_only(world, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    ok = world.run(
        "role", "permissions", "add", "viewer", "room.invite", "--tenant", "acme", env=env
    )
    assert ok.exit_code == 0, ok.output
    other = world.run(
        "role", "permissions", "add", "viewer", "room.invite", "--tenant", "beta", env=env
    )
    assert other.exit_code == 3
    above = world.run(
        "role", "permissions", "add", "member", "platform.manage", "--tenant", "acme", env=env
    )
    assert above.exit_code == 3 and "platform.manage" in above.stderr
    admin = world.run(
        "role", "permissions", "add", "platform_admin", "room.kick", "--tenant", "acme", env=env
    )
    assert admin.exit_code == 3
    assert world.rows("SELECT tenant_id, permission, granted FROM role_overrides") == [
        ("tnt-acme", "room.invite", True)
    ]
