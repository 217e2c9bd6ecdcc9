"""The full reconcile through the CLI on SQLite and MariaDB against the loopback fake ScaiKey."""

from __future__ import annotations

import json

from sqlalchemy import event, select


def test_first_run_creates_participants_with_personal_workspaces(world, db_url):
    world.link("acme", "globex")
    result = world.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["totals"]["create"] == 12
    m = world.m
    assert world.active() == 12
    ann = world.participant("usr_acme_000001")
    assert (ann.tenant_id, ann.kind, ann.display_name, ann.email) == (
        "tnt-acme",
        "human",
        "User 1 of Acme",
        "user1@acme.example",
    )
    assert ann.last_synced_at is not None
    with world.store.session() as s:
        ws = s.scalar(
            select(m.Workspace)
            .join(m.WorkspaceMember)
            .where(m.WorkspaceMember.participant_id == ann.id)
        )
        member = s.scalar(select(m.WorkspaceMember).where(m.WorkspaceMember.workspace_id == ws.id))
    assert ws.personal and ws.tenant_id == "tnt-acme" and member.role == "owner"
    assert world.count(m.ScaikeyGroup) == 4 and world.count(m.ScaikeyGroupMember) == 12
    assert world.roles("usr_acme_000000") == [("tenant_admin", "scaikey-sync")]
    run = world.count(m.SyncRun, m.SyncRun.status == "ok", m.SyncRun.trigger == "cli")
    assert run == 1
    assert world.count(m.AuditEntry, m.AuditEntry.action == "sync.run") == 1
    assert world.count(m.AuditEntry, m.AuditEntry.action == "sync.participants.create") == 2


def test_second_run_writes_nothing(world, db_url):
    world.link("acme", "globex")
    assert world.sync().exit_code == 0
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    # count every write statement the second run sends, whichever connection it uses
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", record)
    try:
        result = world.sync()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["changes"] == 0 and out["writes"] == 0
    touched = {
        next(t for t in ("sync_runs", "sync_locks", "audit_log") if t in s) for s in statements
    }
    assert touched == {"sync_runs", "sync_locks", "audit_log"}
    # bookkeeping only: lock taken and released, run started and finished, one audit row
    assert len(statements) == 5, statements


def test_changes_in_scaikey_are_mirrored(world, db_url):
    world.link("acme")
    assert world.sync("--tenant", "acme").exit_code == 0
    fake = world.fake
    fake.user("usr_acme_000001").update(display_name="Ann Renamed", email="ann@acme.example")
    fake.user("usr_acme_000002")["status"] = "SUSPENDED"
    fake.remove_user("usr_acme_000003")
    fake.add_user("tnt_acme", 99)
    out = world.ok("--tenant", "acme")
    t = out["totals"]
    assert (t["create"], t["update"], t["deactivate"]) == (1, 1, 2)
    ann = world.participant("usr_acme_000001")
    assert (ann.display_name, ann.email, ann.active) == ("Ann Renamed", "ann@acme.example", True)
    gone = world.participant("usr_acme_000003")
    assert not gone.active and gone.deactivated_at is not None  # never deleted
    assert not world.participant("usr_acme_000002").active
    assert world.participant("usr_acme_000099").active
    m = world.m
    reasons = sorted(e.details["reason"] for e in _audit(world, "participant.deactivate"))
    assert reasons == ["gone from ScaiKey", "suspended in ScaiKey"]
    # the returning user is reactivated
    fake.user("usr_acme_000002")["status"] = "ACTIVE"
    out = world.ok()
    assert out["totals"]["reactivate"] == 1
    assert world.participant("usr_acme_000002").active
    assert world.participant("usr_acme_000002").deactivated_at is None
    assert len(_audit(world, "participant.reactivate")) == 1
    assert world.count(m.Participant) == 7


def _audit(world, action):
    m = world.m
    with world.store.session() as s:
        return list(s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action)))


def test_groups_nest_and_memberships_follow(world, db_url):
    world.link("acme")
    fake = world.fake
    (g0, g1) = [g["id"] for g in fake.groups["tnt_acme"]]
    outer = fake.add_group("tnt_acme", "everyone")
    fake.members[outer] = [
        {"id": g0, "type": "group"},
        {"id": g1, "type": "group"},
        {"id": outer, "type": "group"},
    ]  # a cycle is harmless
    assert world.sync().exit_code == 0
    m = world.m
    with world.store.session() as s:
        gid = s.scalar(select(m.ScaikeyGroup.id).where(m.ScaikeyGroup.scaikey_group_id == outer))
    assert world.count(m.ScaikeyGroupMember, m.ScaikeyGroupMember.group_id == gid) == 6
    fake.members[g0] = fake.members[g0][1:]  # one user leaves group 0 (and so "everyone")
    fake.groups["tnt_acme"][1]["name"] = "renamed"
    fake.groups["tnt_acme"] = [g for g in fake.groups["tnt_acme"] if g["id"] != outer]
    out = world.ok()["totals"]
    assert (out["members_remove"], out["groups_update"], out["groups_deactivate"]) == (7, 1, 1)
    assert world.count(m.ScaikeyGroup, m.ScaikeyGroup.active.is_(True)) == 2


def test_admin_roles_granted_and_revoked_but_manual_grants_survive(world, db_url):
    world.link("acme")
    fake = world.fake
    assert world.sync().exit_code == 0
    m = world.m
    # a manual grant to user 2, and ScaiKey makes user 1 an admin too
    p2 = world.participant("usr_acme_000002")
    with world.store.transaction() as s:
        role_id = s.scalar(select(m.Role.id).where(m.Role.name == "tenant_admin"))
        s.add(
            m.RoleAssignment(
                tenant_id="tnt-acme", participant_id=p2.id, role_id=role_id, created_by="local:ops"
            )
        )
    fake.add_admin_role("usr_acme_000001", "TENANT_ADMIN", "tnt_acme")
    assert world.ok()["totals"]["roles_grant"] == 1
    assert world.roles("usr_acme_000001") == [("tenant_admin", "scaikey-sync")]
    fake.admin_roles = [r for r in fake.admin_roles if r["user_id"] != "usr_acme_000001"]
    assert world.ok()["totals"]["roles_revoke"] == 1
    assert world.roles("usr_acme_000001") == []
    assert world.roles("usr_acme_000002") == [("tenant_admin", "local:ops")]


def test_last_admin_is_never_removed(world, db_url):
    world.link("acme")
    assert world.sync().exit_code == 0
    fake = world.fake
    fake.admin_roles.clear()
    fake.user("usr_acme_000000")["status"] = "DISABLED"
    result = world.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["totals"]["kept_last_admin"] == 1
    admin = world.participant("usr_acme_000000")
    assert admin.active
    assert world.roles("usr_acme_000000") == [("tenant_admin", "scaikey-sync")]
    assert "last admin" in result.stderr


def test_dry_run_prints_the_plan_and_writes_nothing(world, db_url):
    world.link("acme", "globex")
    result = world.cli.invoke("sync", "--dry-run", "--details")
    assert result.exit_code == 0, result.output
    assert "create" in result.stdout and "usr_acme_000001" in result.stdout
    assert world.count(world.m.Participant) == 0
    run = world.count(world.m.SyncRun, world.m.SyncRun.dry_run.is_(True))
    assert run == 1
    assert world.count(world.m.AuditEntry) == 0
    assert world.count(world.m.SyncLock) == 0


def test_table_and_csv_outputs(world, db_url):
    world.link("acme")
    table = world.cli.invoke("sync", "--dry-run")
    assert table.exit_code == 0 and "TOTAL" in table.stdout and "acme" in table.stdout
    csv = world.cli.invoke("--output", "csv", "sync", "--dry-run")
    assert csv.stdout.splitlines()[0].startswith("tenant,new_tenant,users_seen,create")


def test_create_tenants_from_scaikey(world, db_url):
    result = world.sync("--create-tenants")
    assert result.exit_code == 0, result.output
    m = world.m
    with world.store.session() as s:
        links = sorted(s.scalars(select(m.Tenant.scaikey_tenant_id)))
    assert links == ["tnt_acme", "tnt_globex"]
    assert world.active() == 12
    assert len(_audit(world, "tenant.create")) == 2
    assert world.ok("--create-tenants")["changes"] == 0


def test_unknown_tenant_is_exit_1(world, db_url):
    world.link("acme")
    result = world.sync("--tenant", "nope")
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr


def test_tenant_admin_token_only_reaches_its_tenant(world, db_url, admin_token):
    world.link("acme", "globex")
    env = admin_token.env(
        "tenant_admin", tenant_id="tnt_acme", aud=world.cli.env["SCAIKEY_CLIENT_ID"]
    )
    denied = world.sync("--tenant", "globex", env=env)
    assert denied.exit_code == 3, denied.output
    assert "SW_AUTH_INSUFFICIENT_PERMISSION" in denied.stderr
    ok = world.sync(env=env)
    assert ok.exit_code == 0, ok.output
    assert [t["tenant"] for t in json.loads(ok.stdout)["tenants"]] == ["acme"]
    assert world.active("globex") == 0
    created = world.sync("--create-tenants", env=env)
    assert created.exit_code == 3


def test_missing_credentials_exit_2(world, db_url):
    world.link("acme")
    result = world.sync(env={"SCAIKEY_CLIENT_SECRET": ""})
    assert result.exit_code == 2 and "SW_SCAIKEY_NOT_CONFIGURED" in result.stderr
    assert "SCAIKEY_CLIENT_SECRET" in result.stderr


def test_wrong_credentials_exit_3_and_secret_never_printed(world, db_url):
    world.link("acme")
    result = world.sync(env={"SCAIKEY_CLIENT_SECRET": "wrong-secret-value"})
    assert result.exit_code == 3 and "SW_SCAIKEY_AUTH_FAILED" in result.stderr
    assert "wrong-secret-value" not in result.output
    m = world.m
    assert world.count(m.SyncRun, m.SyncRun.status == "failed") == 1
