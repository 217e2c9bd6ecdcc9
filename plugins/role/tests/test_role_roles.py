"""`role list|show|create|delete|catalog` and `role permissions add|remove|reset`, through the
CLI, on SQLite and MariaDB: output, exit codes, database rows and audit rows."""

from __future__ import annotations

from scaiwave_cli import api

P = api.permissions
BUILTINS = set(P.BUILTIN_ROLES)


# -- seeding of the built-in roles ---------------------------------------------------------------


def test_first_role_command_seeds_builtins_once_in_its_transaction(world):
    assert world.scalar("SELECT COUNT(*) FROM roles") == 0
    rows = world.json("role", "list")
    assert {r["name"] for r in rows} == BUILTINS
    assert all(r["builtin"] and r["tenant"] is None for r in rows)
    levels = {r["name"]: r["level"] for r in rows}
    assert {n for n, lv in levels.items() if lv == "workspace"} == {"owner", "editor", "viewer"}
    for name in BUILTINS:
        assert world.role_permissions(name) == P.SHIPPED_PERMISSIONS[name]
    world.json("role", "list")
    world.json("role", "show", "editor")
    assert world.scalar("SELECT COUNT(*) FROM roles") == len(BUILTINS)
    seeds = [a for a in world.audit() if a["action"] == "role.builtin.seed"]
    assert len(seeds) == 1 and seeds[0]["details"]["created"] == len(BUILTINS)


def test_seeding_is_rolled_back_with_a_failing_change(world):
    result = world.run("role", "create", "auditor", "--tenant", "nope")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr
    assert world.scalar("SELECT COUNT(*) FROM roles") == 0
    assert world.audit() == []


def test_a_reading_command_seeds_in_its_own_short_transaction(world):
    # reads run in a read-only session; the first one seeds before it, whatever happens next
    result = world.run("role", "list", "--tenant", "nope")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr
    assert world.scalar("SELECT COUNT(*) FROM roles") == len(BUILTINS)
    assert [a["action"] for a in world.audit()] == ["role.builtin.seed"]


def test_ensure_builtin_roles_is_idempotent_and_completes_a_partial_set(world, store):
    from sqlalchemy import delete, select

    m = api.store.models
    with store.transaction() as s:
        assert P.ensure_builtin_roles(s) == len(BUILTINS)
        assert P.ensure_builtin_roles(s) == 0
    with store.transaction() as s:
        rid = s.scalar(select(m.Role.id).where(m.Role.name == "viewer"))
        s.execute(delete(m.RolePermission).where(m.RolePermission.role_id == rid))
        s.execute(delete(m.Role).where(m.Role.id == rid))
    with store.transaction() as s:
        assert P.ensure_builtin_roles(s) == 1
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE builtin = :t", t=True) == len(BUILTINS)
    assert world.role_permissions("viewer") == P.SHIPPED_PERMISSIONS["viewer"]


# -- list / show ---------------------------------------------------------------------------------


def test_list_with_tenant_shows_its_custom_roles_and_holder_counts(world):
    world.json("role", "create", "auditor", "--tenant", "acme")
    world.json("role", "create", "helper", "--tenant", "beta")
    world.json("role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "design")
    world.json("role", "assign", "prt-bob", "editor", "--tenant", "acme", "--workspace", "ops")
    world.json("role", "assign", "prt-carol", "auditor", "--tenant", "acme")
    rows = {r["name"]: r for r in world.json("role", "list", "--tenant", "acme")}
    assert set(rows) == BUILTINS | {"auditor"}
    assert rows["auditor"]["tenant"] == "acme" and rows["auditor"]["builtin"] is False
    assert (rows["editor"]["holders"], rows["editor"]["assignments"]) == (1, 2)
    assert rows["owner"]["holders"] == 1  # alice, a workspace_members row
    assert rows["auditor"]["holders"] == 1
    everything = {(r["name"], r["tenant"]) for r in world.json("role", "list")}
    assert ("helper", "beta") in everything and ("auditor", "acme") in everything


def test_list_table_and_csv(world):
    result = world.run("role", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "Roles"
    assert "tenant_admin" in result.stdout
    csv_out = world.run("--output", "csv", "role", "list").stdout.splitlines()
    assert csv_out[0] == "name,tenant,builtin,level,permissions,holders,customized"
    assert len(csv_out) == 1 + len(BUILTINS)


def test_show_builtin_reports_permissions_and_differences_from_shipped(world):
    world.json("role", "permissions", "add", "viewer", "room.invite", "--all-tenants", "--yes")
    world.json("role", "assign", "prt-carol", "viewer", "--tenant", "acme", "--workspace", "ops")
    shown = world.json("role", "show", "viewer")
    assert shown["permissions"] == ["workspace.read", "room.invite"]
    assert shown["customized"] is True and shown["added"] == ["room.invite"]
    assert shown["removed"] == [] and shown["holders"] == 1 and shown["level"] == "workspace"
    table = world.run("role", "show", "viewer").stdout
    assert "permissions  workspace.read, room.invite" in table


def test_show_unknown_role_suggests_close_names(world):
    result = world.run("role", "show", "edtor")
    assert result.exit_code == 1
    assert "SW_ROLE_NOT_FOUND" in result.stderr and "editor" in result.stderr


def test_show_custom_role_ambiguous_without_tenant(world):
    world.json("role", "create", "auditor", "--tenant", "acme")
    world.json("role", "create", "auditor", "--tenant", "beta")
    result = world.run("role", "show", "auditor")
    assert result.exit_code == 1 and "SW_ROLE_AMBIGUOUS" in result.stderr
    assert world.json("role", "show", "auditor", "--tenant", "beta")["tenant"] == "beta"


# -- create --------------------------------------------------------------------------------------


def test_create_from_a_role_copies_permissions_and_level_and_is_idempotent(world):
    created = world.json("role", "create", "moderator", "--tenant", "acme", "--from", "editor")
    assert created["result"] == "created" and created["level"] == "workspace"
    assert created["permissions"] == ["workspace.read", "create_note", "room.invite"]
    assert world.role_permissions("moderator", "acme") == P.SHIPPED_PERMISSIONS["editor"]
    again = world.run(
        "--output", "json", "role", "create", "moderator", "--tenant", "acme", "--from", "owner"
    )
    assert again.exit_code == 0 and '"result": "unchanged"' in again.stdout
    assert "already exists" in again.stderr  # a different --from is pointed out, not applied
    assert world.role_permissions("moderator", "acme") == P.SHIPPED_PERMISSIONS["editor"]
    audit = world.changes()
    assert [a["action"] for a in audit] == ["role.create"]
    assert audit[0]["tenant_id"] == "tnt-acme" and audit[0]["details"]["from"] == "editor"


def test_create_empty_defaults_to_tenant_level(world):
    created = world.json(
        "role", "create", "auditor", "--tenant", "acme", "--description", "reads the audit log"
    )
    assert (created["level"], created["permissions"]) == ("tenant", [])
    level = world.scalar("SELECT level FROM roles WHERE name = 'auditor'")
    assert level == "tenant"


def test_create_refuses_builtin_names_bad_names_and_unknown_sources(world):
    cases = [
        (("editor", "--tenant", "acme"), "SW_ROLE_BUILTIN"),
        (("Bad Name", "--tenant", "acme"), "SW_ROLE_NAME_INVALID"),
        (("ok-name", "--tenant", "acme", "--from", "nosuch"), "SW_ROLE_NOT_FOUND"),
        (("ok-name", "--tenant", "nosuch"), "SW_TENANT_NOT_FOUND"),
    ]
    for args, code in cases:
        result = world.run("role", "create", *args)
        assert result.exit_code == 1 and code in result.stderr, (args, result.output)
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE builtin = :f", f=False) == 0
    assert world.changes() == []


def test_create_from_another_tenants_custom_role_is_not_found(world):
    world.json("role", "create", "helper", "--tenant", "beta", "--from", "editor")
    result = world.run("role", "create", "copy", "--tenant", "acme", "--from", "helper")
    assert result.exit_code == 1 and "SW_ROLE_NOT_FOUND" in result.stderr


# -- delete --------------------------------------------------------------------------------------


def test_delete_refused_while_assigned_then_reassigned(world):
    world.json("role", "create", "moderator", "--tenant", "acme", "--from", "editor")
    world.json(
        "role", "assign", "prt-bob", "moderator", "--tenant", "acme", "--workspace", "design"
    )
    world.json(
        "role", "assign", "prt-alice", "moderator", "--tenant", "acme", "--workspace", "design"
    )
    refused = world.run("role", "delete", "moderator", "--tenant", "acme")
    assert refused.exit_code == 1 and "SW_ROLE_IN_USE" in refused.stderr
    assert "held by 2 participant(s)" in refused.stderr
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'moderator'") == 1

    done = world.json(
        "role", "delete", "moderator", "--tenant", "acme", "--reassign-to", "editor", "--yes"
    )
    assert (done["result"], done["moved"], done["merged"]) == ("deleted", 1, 1)
    # bob becomes an editor member; alice stays owner (a reassignment never demotes)
    assert world.members() == {"prt-alice": "owner", "prt-bob": "editor"}
    assert world.assignments() == set()
    assert world.scalar("SELECT COUNT(*) FROM roles WHERE name = 'moderator'") == 0
    assert (
        world.scalar(
            "SELECT COUNT(*) FROM role_permissions WHERE role_id NOT IN (SELECT id FROM roles)"
        )
        == 0
    )
    actions = [a["action"] for a in world.changes()]
    assert actions[-1] == "role.delete"
    assert world.changes()[-1]["details"]["reassigned_to"] == "editor"


def test_delete_reassign_between_custom_roles_merges_duplicates(world):
    world.json("role", "create", "a-role", "--tenant", "acme")
    world.json("role", "create", "b-role", "--tenant", "acme")
    world.json("role", "assign", "prt-bob", "a-role", "--tenant", "acme")
    world.json("role", "assign", "prt-carol", "a-role", "--tenant", "acme")
    world.json("role", "assign", "prt-carol", "b-role", "--tenant", "acme")
    done = world.json(
        "role", "delete", "a-role", "--tenant", "acme", "--reassign-to", "b-role", "--yes"
    )
    assert (done["moved"], done["merged"]) == (1, 1)
    assert world.assignments() == {("prt-bob", "b-role", None), ("prt-carol", "b-role", None)}


def test_delete_reassign_to_a_role_of_another_level_is_refused(world):
    world.json("role", "create", "auditor", "--tenant", "acme")
    world.json("role", "assign", "prt-bob", "auditor", "--tenant", "acme")
    result = world.run("role", "delete", "auditor", "--tenant", "acme", "--reassign-to", "editor")
    assert result.exit_code == 1 and "SW_ROLE_SCOPE" in result.stderr
    assert world.assignments() == {("prt-bob", "auditor", None)}


def test_delete_builtin_is_refused_and_missing_role_is_not_found(world):
    result = world.run("role", "delete", "owner", "--tenant", "acme", "--yes")
    assert result.exit_code == 1 and "SW_ROLE_BUILTIN" in result.stderr
    gone = world.run("role", "delete", "never-was", "--tenant", "acme", "--yes")
    assert gone.exit_code == 1 and "SW_ROLE_NOT_FOUND" in gone.stderr  # issue 13: no "unchanged"
    assert world.changes() == []


# -- permissions add / remove / reset ------------------------------------------------------------


def test_permissions_add_remove_idempotent_and_audited(world):
    world.json("role", "create", "moderator", "--tenant", "acme")
    added = world.json(
        "role", "permissions", "add", "moderator", "room.kick", "room.ban", "--tenant", "acme"
    )
    assert added["result"] == "changed" and added["granted"] == ["room.kick", "room.ban"]
    again = world.json("role", "permissions", "add", "moderator", "room.kick", "--tenant", "acme")
    assert again["result"] == "unchanged" and again["granted"] == []
    removed = world.json(
        "role", "permissions", "remove", "moderator", "room.ban", "--tenant", "acme", "--yes"
    )
    assert removed["revoked"] == ["room.ban"]
    assert world.role_permissions("moderator", "acme") == {"room.kick"}
    actions = [a["action"] for a in world.changes()]
    assert actions == ["role.create", "role.permissions.add", "role.permissions.remove"]


def test_unknown_permission_exits_1_with_close_matches_and_changes_nothing(world):
    world.json("role", "create", "moderator", "--tenant", "acme")
    result = world.run(
        "--output",
        "json",
        "role",
        "permissions",
        "add",
        "moderator",
        "room.kick",
        "room.bann",
        "--tenant",
        "acme",
    )
    assert result.exit_code == 1
    import json

    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_PERMISSION_UNKNOWN"
    assert "room.ban" in error["details"]["close_matches"]["room.bann"]
    assert world.role_permissions("moderator", "acme") == set()


def test_reset_restores_shipped_set_all_or_named(world):
    every = ("--all-tenants", "--yes")
    world.json("role", "permissions", "remove", "editor", "create_note", "room.invite", *every)
    world.json("role", "permissions", "add", "editor", "room.kick", *every)
    partial = world.json("role", "permissions", "reset", "editor", "create_note", *every)
    assert partial["granted"] == ["create_note"] and partial["revoked"] == []
    assert world.role_permissions("editor") == {"workspace.read", "create_note", "room.kick"}
    full = world.json("role", "permissions", "reset", "editor", *every)
    assert full["result"] == "changed" and full["revoked"] == ["room.kick"]
    assert world.role_permissions("editor") == P.SHIPPED_PERMISSIONS["editor"]
    assert world.json("role", "permissions", "reset", "editor", *every)["result"] == "unchanged"


def test_reset_of_a_custom_role_is_refused(world):
    world.json("role", "create", "moderator", "--tenant", "acme")
    result = world.run("role", "permissions", "reset", "moderator", "--tenant", "acme")
    assert result.exit_code == 1 and "SW_ROLE_NOT_RESETTABLE" in result.stderr


def test_changing_a_builtin_for_all_tenants_changes_checks_everywhere(world):
    world.json("role", "assign", "prt-bob", "viewer", "--tenant", "acme", "--workspace", "design")
    args = ("role", "check", "prt-bob", "create_note", "--tenant", "acme", "--workspace", "design")
    assert world.run(*args).exit_code == 1
    world.json("role", "permissions", "add", "viewer", "create_note", "--all-tenants", "--yes")
    assert world.run(*args).exit_code == 0


def test_catalog_lists_every_permission(world):
    rows = world.json("role", "catalog")
    assert [r["permission"] for r in rows] == list(P.CATALOG)
    create_note = next(r for r in rows if r["permission"] == "create_note")
    assert {"owner", "editor"} <= set(create_note["shipped_in"])
    assert "viewer" not in create_note["shipped_in"]
