"""The acting admin's scope (``SCAIWAVE_ADMIN_TOKEN``, a ScaiKey JWT from the core's ``admin_token``
fixture, verified against its pre-seeded JWKS, no HTTP): a tenant_admin touches only its tenant
(exit 3 elsewhere), built-in roles are global (platform scope), and nobody grants more than its
own scope."""

from __future__ import annotations

import json


def test_tenant_admin_token_works_in_its_tenant_and_is_named_in_the_audit(world, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme", sub="usr_ada")
    out = world.run(
        "--output",
        "json",
        "role",
        "assign",
        "prt-bob",
        "editor",
        "--tenant",
        "acme",
        "--workspace",
        "design",
        env=env,
    )
    assert out.exit_code == 0, out.output
    assert world.members()["prt-bob"] == "editor"
    audit = world.changes()
    assert audit[-1]["actor"] == "scaikey:usr_ada" and audit[-1]["tenant_id"] == "tnt-acme"
    created = world.run("role", "create", "auditor", "--tenant", "acme", env=env)
    assert created.exit_code == 0, created.output
    check = world.run(
        "role",
        "check",
        "prt-bob",
        "create_note",
        "--tenant",
        "acme",
        "--workspace",
        "design",
        env=env,
    )
    assert check.exit_code == 0


def test_tenant_admin_token_is_refused_in_another_tenant_with_exit_3(world, admin_token):
    world.json("role", "create", "helper", "--tenant", "beta")
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    attempts = [
        ("role", "assign", "prt-erin", "member", "--tenant", "beta"),
        ("role", "unassign", "prt-erin", "owner", "--tenant", "beta", "--workspace", "general"),
        ("role", "create", "x-role", "--tenant", "beta"),
        ("role", "delete", "helper", "--tenant", "beta"),
        ("role", "permissions", "add", "helper", "room.kick", "--tenant", "beta"),
        ("role", "list", "--tenant", "beta"),
        ("role", "assignments", "--tenant", "beta"),
        ("role", "check", "prt-erin", "create_note", "--tenant", "beta"),
    ]
    before = len(world.audit())
    for args in attempts:
        result = world.run("--output", "json", *args, env=env)
        assert result.exit_code == 3, (args, result.output)
        assert json.loads(result.stderr)["error"]["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert world.members("general", "beta") == {"prt-erin": "owner"}
    assert world.role_permissions("helper", "beta") == set()
    assert len(world.audit()) == before


def test_tenant_admin_token_cannot_change_global_builtins_or_grant_platform_roles(
    world, admin_token
):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    for args in (
        ("role", "permissions", "add", "editor", "room.kick", "--all-tenants", "--yes"),
        ("role", "permissions", "reset", "editor", "--all-tenants", "--yes"),
        ("role", "permissions", "add", "editor", "room.kick", "--tenant", "beta"),
        ("role", "assign", "prt-bob", "platform_admin", "--tenant", "acme"),
        ("role", "assign", "prt-bob", "partner_admin", "--tenant", "acme"),
    ):
        result = world.run(*args, env=env)
        assert result.exit_code == 3, (args, result.output)
    assert world.assignments() == set()


def test_lists_without_tenant_show_only_what_the_token_may_see(world, admin_token):
    world.json("role", "create", "helper", "--tenant", "beta")
    world.json("role", "create", "auditor", "--tenant", "acme")
    world.json("role", "assign", "prt-erin", "helper", "--tenant", "beta")
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    roles = json.loads(world.run("--output", "json", "role", "list", env=env).stdout)
    assert {r["tenant"] for r in roles} == {None, "acme"}
    owner = next(r for r in roles if r["name"] == "owner")
    assert owner["holders"] == 1  # alice; erin owns a beta workspace and is not counted
    rows = json.loads(world.run("--output", "json", "role", "assignments", env=env).stdout)
    assert {r["tenant"] for r in rows} == {"acme"}
    hidden = world.run("role", "show", "helper", env=env)
    assert hidden.exit_code == 1 and "SW_ROLE_NOT_FOUND" in hidden.stderr


def test_partner_admin_token_sees_its_partners_tenants(world, admin_token):
    env = admin_token.env("partner_admin", partner_id="prt_n")  # acme's partner
    ok = world.run("role", "assign", "prt-bob", "partner_admin", "--tenant", "acme", env=env)
    assert ok.exit_code == 0, ok.output
    refused = world.run("role", "assign", "prt-erin", "member", "--tenant", "beta", env=env)
    assert refused.exit_code == 3
    rows = json.loads(world.run("--output", "json", "role", "assignments", env=env).stdout)
    assert {r["tenant"] for r in rows} == {"acme"}


def test_platform_token_may_change_builtins(world, admin_token):
    env = admin_token.env("super_admin", sub="usr_root")
    result = world.run(
        "role", "permissions", "add", "viewer", "room.invite", "--all-tenants", "--yes", env=env
    )
    assert result.exit_code == 0, result.output
    audit = [a for a in world.audit() if a["action"] == "role.permissions.add"]
    assert audit[0]["actor"] == "scaikey:usr_root" and audit[0]["tenant_id"] is None


def test_bad_token_exits_3_before_touching_anything(world, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    env["SCAIWAVE_ADMIN_TOKEN"] = env["SCAIWAVE_ADMIN_TOKEN"][:-4] + "AAAA"
    result = world.run("role", "assign", "prt-bob", "member", "--tenant", "acme", env=env)
    assert result.exit_code == 3
    assert world.assignments() == set()
