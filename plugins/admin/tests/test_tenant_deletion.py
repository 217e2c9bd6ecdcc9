"""`scaiwave admin delete-tenant` (issue 16), through the CLI on SQLite and MariaDB (``db_url``).

Two tenants seeded with a row in every table that has a tenant (``tenant_world.py``); acme is
deleted. Every test that deletes checks the same end state (``_assert_deleted``): no row of acme
in any table of the schema with a tenant column (enumerated from the metadata, never a list),
acme's audit rows kept under the platform, every other row unchanged (count and checksum per
table), acme's media files gone and globex's kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from scaiwave_cli import api
from scaiwave_cli.testing import assert_help_is_light

sys.path.insert(0, str(Path(__file__).parent))
from tenant_world import ROOMS, TenantWorld, tenant_column  # noqa: E402

m = api.store.models
DELETE = ["admin", "delete-tenant"]
EVENTS = 7 + 2 * (len(ROOMS) - 1)  # the group room's 7, two in each other room
NOT_EXPORTED = {
    "room-acme-incog": "incognito",
    "room-acme-side": "sidekick",
    "room-acme-fed": "federated",
}


@pytest.fixture
def world(cli, store, db_url):
    w = TenantWorld(cli, store, db_url)
    w.seed("acme", status="suspended")
    w.seed("globex")
    return w


def _error(result) -> dict:
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]


def _run(w, *args, env=None):
    return w.cli.invoke("--output", "json", *DELETE, "acme", *args, env=env)


def _audit(w, action):
    with w.store.session() as s:
        q = select(m.AuditEntry).where(m.AuditEntry.action == action).order_by(m.AuditEntry.id)
        return list(s.scalars(q))


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Before:
    """What must hold after acme is gone, taken before."""

    def __init__(self, w):
        self.kept = w.snapshot("tnt-acme")
        self.everything = w.snapshot("no-such-tenant")
        self.audit_upto = w.last_audit_id()
        self.globex_files = w.media_files("tnt-globex")
        self.acme_files = w.media_files("tnt-acme")
        assert len(self.acme_files) == 4 and len(self.globex_files) == 4

    def unchanged(self, w):
        """Nothing at all changed (a refusal, a dry run)."""
        assert w.snapshot("no-such-tenant", audit_upto=self.audit_upto) == self.everything
        assert w.last_audit_id() == self.audit_upto
        assert w.media_files("tnt-acme") == self.acme_files
        assert w.media_files("tnt-globex") == self.globex_files


def _assert_deleted(w, before: Before):
    left = w.rows_of("tnt-acme")
    # the enumeration found the tenant's tables (a table added later is in it automatically)
    assert {
        "participants",
        "events",
        "media",
        "roles",
        "role_overrides",
        "audit_log",
        "scaikey_group_members",
        "ai_token_usage",
    } <= set(left)
    assert left == dict.fromkeys(left, 0)
    assert w.snapshot("tnt-acme", audit_upto=before.audit_upto) == before.kept
    assert w.status("acme") is None
    with w.store.session() as s:  # no permission row of a role that is gone
        roles = set(s.scalars(select(m.Role.id)))
        assert set(s.scalars(select(m.RolePermission.role_id))) <= roles
        kept = s.scalars(select(m.AuditEntry).where(m.AuditEntry.target == "tenant:acme")).all()
    assert {e.action for e in kept} >= {"tenant.create", "role.create", "tenant.delete-started"}
    assert all(e.tenant_id is None for e in kept)
    assert w.media_files("tnt-acme") == {} and not (w.media_root / "tnt-acme").exists()
    assert w.media_files("tnt-globex") == before.globex_files
    [done] = _audit(w, "tenant.delete")
    assert done.tenant_id is None and done.target == "tenant:acme"
    assert done.details["tenant_id"] == "tnt-acme"
    assert len(_audit(w, "tenant.delete-started")) == 1
    return done


# -- the deletion -------------------------------------------------------------------------------


def test_delete_removes_every_row_of_the_tenant_and_nothing_else(world):
    w = world
    before = Before(w)
    result = _run(w, "--no-backup", "--yes")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["result"] == "deleted" and out["resumed"] is False and out["backup"] is None
    assert out["tenant"] == "acme" and out["tenant_id"] == "tnt-acme"
    deleted = out["deleted"]
    assert deleted["events"] == EVENTS and deleted["rooms"] == len(ROOMS)
    assert deleted["participants"] == 3 and deleted["workspaces"] == 2 and deleted["media"] == 5
    assert deleted["roles"] == 1 and deleted["role_permissions"] == 2
    assert deleted["role_overrides"] == 1 and deleted["role_assignments"] == 2
    assert deleted["scaikey_group_members"] == 2 and deleted["ai_token_usage"] == 2
    assert deleted["tenants"] == 1 and "audit_log" not in deleted
    assert out["audit_rows_moved"] == 4  # three seeded and tenant.delete-started
    assert out["media_files_removed"] == 4 and out["bytes_freed"] > 0
    assert "no backup" in result.stderr and "cannot be restored" in result.stderr
    done = _assert_deleted(w, before)
    assert done.details["deleted"]["events"] == EVENTS and done.details["backup"] is None


def test_backup_dir_holds_verified_room_bundles_people_and_backup_json(world, tmp_path):
    w = world
    before = Before(w)
    dest = tmp_path / "exports" / "acme"
    result = _run(w, "--backup-dir", str(dest), "--yes", "--batch-size", "3")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["backup"]["rooms"] == 2 and out["backup"]["kept"] == 0
    assert sorted(out["not_exported"]) == sorted(NOT_EXPORTED)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert sorted(os.listdir(dest)) == ["backup.json", "people.zip", "rooms"]
    assert sorted(os.listdir(dest / "rooms")) == ["room-acme-dm.zip", "room-acme-group.zip"]
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["format"] == "scaiwave.tenant-backup" and manifest["tenant"]["slug"] == "acme"
    assert {r["room_id"]: r["reason"] for r in manifest["not_exported"]} == NOT_EXPORTED
    for entry in manifest["rooms"]:
        path = dest / entry["file"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and _sha(path) == entry["sha256"]
        verified = w.cli.json("room", "verify", "--from", str(path))
        assert verified["valid"] is True and verified["source_room"] == entry["room_id"]
        assert verified["events"] == entry["events"] == (7 if "group" in entry["room_id"] else 2)
    assert manifest["people"]["participants"] == 3
    assert _sha(dest / "people.zip") == manifest["people"]["sha256"]
    people = w.cli.json("admin", "verify-export", str(dest / "people.zip"))
    assert people["valid"] is True and people["participants"] == 3
    done = _assert_deleted(w, before)
    assert done.details["backup"]["sha256"] == _sha(dest / "backup.json") == out["backup"]["sha256"]


# -- guards -------------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_changes_nothing(world, tmp_path):
    w = world
    before = Before(w)
    dest = tmp_path / "never-made"
    result = _run(w, "--backup-dir", str(dest), "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["result"] == "would delete" and out["dry_run"] is True
    assert out["counts"]["rooms"] == len(ROOMS) and out["counts"]["events"] == EVENTS
    assert out["counts"]["participants"] == 3 and out["counts"]["audit_rows"] == 3
    assert out["counts"]["media_files"] == 4 and out["tables"]["role_permissions"] == 2
    assert {r["room_id"]: r["reason"] for r in out["not_exportable"]} == NOT_EXPORTED
    for word in ("room-acme-incog", "incognito", "audit", "platform", str(dest)):
        assert word in result.stderr
    assert not dest.exists()
    before.unchanged(w)
    assert w.status("acme") == "suspended"


def test_guards_refuse_and_change_nothing(world, admin_token, tmp_path):
    w = world
    before = Before(w)
    active = w.cli.invoke("--output", "json", *DELETE, "globex", "--no-backup", "--yes")
    assert active.exit_code == 1
    assert _error(active)["code"] == "SW_TENANT_ACTIVE"
    assert "scaiwave admin update-tenant globex --status suspended" in _error(active)["hint"]
    for env in (
        admin_token.env("partner_admin", partner_id="prt_north"),
        admin_token.env("tenant_admin", tenant_id="tnt_acme"),
    ):
        scoped = _run(w, "--no-backup", "--yes", env=env)
        assert scoped.exit_code == 3, scoped.output
        assert _error(scoped)["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert _run(w, "--yes").exit_code == 2  # one of --backup-dir / --no-backup
    assert _run(w, "--no-backup", "--backup-dir", str(tmp_path / "b"), "--yes").exit_code == 2
    no_tty = _run(w, "--no-backup")
    assert no_tty.exit_code == 2 and _error(no_tty)["code"] == "SW_CONFIRMATION_REQUIRED"
    missing = w.cli.invoke("--output", "json", *DELETE, "acne", "--no-backup", "--yes")
    assert missing.exit_code == 1 and _error(missing)["code"] == "SW_TENANT_NOT_FOUND"
    before.unchanged(w)
    assert w.status("acme") == "suspended" and w.status("globex") == "active"


def test_a_backup_dir_holding_other_files_is_refused(world, tmp_path):
    w = world
    before = Before(w)
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    busy = _run(w, "--backup-dir", str(dest), "--yes")
    assert busy.exit_code == 1 and _error(busy)["code"] == "SW_TENANT_BACKUP_DIR_IN_USE"
    assert "notes.txt" in _error(busy)["message"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "backup.json").write_text(
        json.dumps({"format": "scaiwave.tenant-backup", "tenant": {"id": "tnt-globex"}})
    )
    theirs = _run(w, "--backup-dir", str(other), "--yes")
    assert theirs.exit_code == 1 and _error(theirs)["code"] == "SW_TENANT_BACKUP_DIR_IN_USE"
    before.unchanged(w)
    assert (dest / "notes.txt").read_text() == "mine" and os.listdir(dest) == ["notes.txt"]


def test_without_the_room_plugin_a_backup_is_refused_and_no_backup_works(world, tmp_path):
    w = world
    before = Before(w)
    env = {"SCAIWAVE_LOAD_PLUGINS": "admin"}
    result = _run(w, "--backup-dir", str(tmp_path / "b"), "--yes", env=env)
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["code"] == "SW_ROOM_PLUGIN_MISSING"
    assert "scaiwave-room" in error["hint"] and "--no-backup" in error["hint"]
    before.unchanged(w)
    assert _run(w, "--no-backup", "--yes", env=env).exit_code == 0
    _assert_deleted(w, before)


def test_the_room_export_rule_is_the_room_plugins(world):
    from scaiwave_admin.adapters.room_cli import REFUSED_EXPORT as ours
    from scaiwave_room.usecases.rooms import REFUSED_EXPORT

    assert ours == REFUSED_EXPORT


def test_help_is_light_and_has_an_example():
    assert_help_is_light("admin", "delete-tenant")


# -- interrupted: kill -9, then the same command -------------------------------------------------

POINTS = ["marked", "rows-txn", "rows", "audit", "media", "final"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_during_the_deletion_then_the_same_command_finishes(world, tmp_path, point):
    w = world
    before = Before(w)
    args = [*DELETE, "acme", "--no-backup", "--yes", "--batch-size", "2"]
    w.kill_at_hook(point, *args, marker_dir=tmp_path)
    assert w.status("acme") == "deleting"
    left = sum(w.rows_of("tnt-acme").values())  # the tenant row itself stays until the end
    if point in ("marked", "rows-txn"):
        assert w.rows_of("tnt-acme")["events"] == EVENTS
    elif point == "rows":
        assert 0 < left
    else:  # every row but the tenant's own is gone (audit rows: moving)
        assert w.rows_of("tnt-acme")["events"] == 0
    if point in ("final",):
        assert left == 0 and w.media_files("tnt-acme") == {}
    if point == "marked":  # while deleting, update-tenant leaves the status alone
        update = w.cli.invoke(
            "--output", "json", "admin", "update-tenant", "acme", "--status", "active", "--yes"
        )
        assert update.exit_code == 1 and _error(update)["code"] == "SW_TENANT_DELETING"
        assert "scaiwave admin delete-tenant acme" in _error(update)["hint"]
        listed = w.cli.json("admin", "list-tenants", "--status", "deleting")
        assert [t["slug"] for t in listed] == ["acme"]
        assert w.cli.json("admin", "show-tenant", "acme")["status"] == "deleting"
        late = _run(w, "--backup-dir", str(tmp_path / "late"), "--yes")
        assert late.exit_code == 1 and _error(late)["code"] == "SW_TENANT_BACKUP_MISSING"
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["resumed"] is True and out["result"] == "deleted"
    _assert_deleted(w, before)


def test_kill_9_during_the_backup_then_the_same_command_keeps_what_verified(world, tmp_path):
    w = world
    before = Before(w)
    dest = tmp_path / "backup"
    args = [*DELETE, "acme", "--backup-dir", str(dest), "--yes", "--batch-size", "2"]
    w.kill_at_hook("backup", *args, marker_dir=tmp_path)
    assert w.status("acme") == "suspended"  # nothing deleted, nothing marked
    assert not (dest / "backup.json").exists()
    assert len(os.listdir(dest / "rooms")) == 1
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["resumed"] is False and out["backup"]["kept"] == 1 and out["backup"]["rooms"] == 2
    for name in os.listdir(dest / "rooms"):
        assert w.cli.invoke("room", "verify", "--from", str(dest / "rooms" / name)).exit_code == 0
    done = _assert_deleted(w, before)
    assert done.details["backup"]["sha256"] == _sha(dest / "backup.json")


def test_resuming_checks_the_first_runs_backup(world, tmp_path):
    w = world
    before = Before(w)
    dest = tmp_path / "backup"
    args = [*DELETE, "acme", "--backup-dir", str(dest), "--yes", "--batch-size", "2"]
    w.kill_at_hook("rows", *args, marker_dir=tmp_path)
    assert w.status("acme") == "deleting"
    elsewhere = _run(w, "--backup-dir", str(tmp_path / "elsewhere"), "--yes")
    assert elsewhere.exit_code == 1 and _error(elsewhere)["code"] == "SW_TENANT_BACKUP_MISSING"
    assert "--no-backup" in _error(elsewhere)["hint"]
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["resumed"] is True and out["backup"]["sha256"] == _sha(dest / "backup.json")
    done = _assert_deleted(w, before)
    assert done.details["backup"]["sha256"] == _sha(dest / "backup.json")


def test_the_walk_covers_every_table_with_a_tenant_column():
    """The deletion's walk and these tests find the tenant's tables by the same rule (a
    ``tenant_id`` column or a foreign key to tenants), from the metadata; a table added later
    with one is covered without a list."""
    from scaiwave_admin.adapters import tenant_deletion as walk

    tables = m.Base.metadata.sorted_tables
    found = {t.name for t in tables if tenant_column(t) is not None}
    steps = walk.steps()
    assert {s.table.name for s in steps if s.kind in ("rows", "audit")} == found
    assert [s.table.name for s in steps if s.kind == "owned"] == ["role_permissions"]
    order = [s.table.name for s in steps]
    assert order.index("events") < order.index("rooms") < order.index("workspaces")
    assert order.index("role_permissions") < order.index("roles")
