"""`scaiwave admin erase-participant`: nothing of the person is left in any table, the room
history stays whole, guards, dry run, confirmation, kill -9 then the same command finishes, the
backup still verifies after the erasure, and a sync afterwards leaves the tombstone alone. Both
engines through ``db_url``.

The no-trace check dumps every table of ``api.store.models.Base.metadata`` (enumerated, never
listed by hand: a table added later is searched too) and looks for the e-mail, the display name,
the FQID, the avatar URL, the ScaiKey user id and the texts the person wrote.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile

import pytest
from sqlalchemy import func, select

from scaiwave_cli import api

m = api.store.models

ZOE = "prt-zq"  # the person erased (its id is allowed to stay)
EMAIL = "Zoe.Quandary@acme.test"
NAME = "Zoë Quandary"
SK = "usr_zoe_q"
FQID = "@zoe.q:wave.test"
AVATAR = "https://avatars.test/zoe-q.png"
SECRET = "the eagle lands at midnight"
OLD_SECRET = "the eagle lands at noon"
OWN_FILE = b"zoe-passport-scan " * 40
SHARED_FILE = b"team-logo " * 40
CAROL = {"display_name": "Carol Far", "avatar_url": None, "fqid": "@carol:far.test"}
CAROL_FILE = b"carol-slides " * 40
TRACES = (EMAIL, NAME, SK, FQID, AVATAR, SECRET, OLD_SECRET, "zoe-passport")
TOMBSTONE = "Erased participant"


# -- the world ----------------------------------------------------------------------------------


class World:
    """Tenant acme with Zoë (to erase), Ada and Bob, and tenant globex; every place a person's
    identity can end up holds hers."""

    def __init__(self, cli, store, factory, admin_token):
        self.cli, self.store, self.factory, self.admin_token = cli, store, factory, admin_token
        self.events: dict[str, str] = {}

    def run(self, *args, env=None):
        result = self.cli.invoke(*args, env=env)
        assert result.exit_code == 0, (args, result.output)
        return result

    def seed(self, *, personal_room=False, bulk=0):
        f = self.factory
        acme = f.tenant("acme")
        f.tenant("globex")
        zoe = f.participant(
            acme, "zq", email=EMAIL, display_name=NAME, scaikey_user_id=SK, fqid=FQID,
            avatar_url=AVATAR,
        )  # fmt: skip
        ada = f.participant(acme, "ada", display_name="Ada Lovelace")
        bob = f.participant(acme, "bob", display_name="Bob Builder")
        design = f.workspace(acme, "design", owner=ada)
        home = f.workspace(acme, "zq-home", name=NAME, description=f"{NAME}'s notes",
                           personal=True, owner=zoe)  # fmt: skip
        plans = f.room(acme, design, name="Plans", members=[ada, zoe, bob])
        dm = f.room(acme, design, name=f"{NAME} / Bob Builder", topic=f"ask {EMAIL}",
                    type="dm", members=[zoe, bob])  # fmt: skip
        if personal_room:
            f.room(acme, home, name="Diary", members=[zoe], id="room-diary")
        # roles through the CLI: the audit trail names her (target, and her token as actor)
        self.run("role", "assign", ZOE, "owner", "--tenant", "acme", "--workspace", "design",
                 "--yes")  # fmt: skip
        self.run("role", "assign", "prt-ada", "tenant_admin", "--tenant", "acme", "--yes")
        self.run("role", "assign", EMAIL.lower(), "tenant_admin", "--tenant", "acme", "--yes")
        hers = self.admin_token.env("tenant_admin", tenant_id="tnt_acme", sub=SK)
        self.run("role", "assign", "prt-bob", "tenant_admin", "--tenant", "acme", "--yes", env=hers)
        self.run("role", "create", "deputy", "--tenant", "acme", "--from", "editor",
                 "--description", f"stands in for {NAME}", env=hers)  # fmt: skip
        # messages: hers with an edit, Bob's reply, reactions both ways, uploads, a mention
        e = self.events
        e["msg"] = f.event(plans, zoe, content={"msgtype": "swp.text", "body": SECRET},
                           original_content={"msgtype": "swp.text", "body": OLD_SECRET},
                           edited_at=api.store.utcnow()).id  # fmt: skip
        e["reply"] = f.event(plans, bob, content={"body": "hello from bob",
                             "reply_to_event_id": e["msg"], "mentions": [ZOE]}).id  # fmt: skip
        e["her_reaction"] = f.event(plans, zoe, event_type="swp.reaction",
                                    content={"key": "+1"}, relation_type="reaction",
                                    relates_to_id=e["reply"]).id  # fmt: skip
        e["bob_reaction"] = f.event(plans, bob, event_type="swp.reaction",
                                    content={"key": "tada"}, relation_type="reaction",
                                    relates_to_id=e["msg"]).id  # fmt: skip
        e["upload"] = f.event(dm, zoe, content={"msgtype": "swp.media",
                              "body": "zoe-passport.png", "media_id": "med-zq-1"}).id  # fmt: skip
        e["shared"] = f.event(dm, zoe, content={"body": "logo", "media_id": "med-zq-2"}).id
        e["bob_upload"] = f.event(dm, bob, content={"body": "logo", "media_id": "med-bob"}).id
        e["mail"] = f.event(dm, zoe, content={"body": f"write to {EMAIL}"}).id
        e["bob_says"] = f.event(dm, bob, content={"body": "see you"}).id
        # a message she imported on behalf of another author (room import): not hers, kept
        e["imported"] = f.event(dm, zoe, content={"body": "carol's words", "media_id": "med-zq-imp",
                                "_imported_sender": CAROL}).id  # fmt: skip
        for i in range(bulk):
            f.event(plans, zoe, body=f"{SECRET} #{i}")
        media = self.store.media
        own, _ = media.put_bytes("tnt-acme", OWN_FILE)
        shared, _ = media.put_bytes("tnt-acme", SHARED_FILE)
        carols, _ = media.put_bytes("tnt-acme", CAROL_FILE)
        self.own_sha, self.shared_sha, self.carol_sha = own, shared, carols
        with self.store.transaction() as s:
            for mid, sha, data, event, who, name in (
                ("med-zq-1", own, OWN_FILE, e["upload"], ZOE, "zoe-passport.png"),
                ("med-zq-2", shared, SHARED_FILE, e["shared"], ZOE, "logo.png"),
                ("med-bob", shared, SHARED_FILE, e["bob_upload"], "prt-bob", "logo.png"),
                ("med-zq-imp", carols, CAROL_FILE, e["imported"], ZOE, "carol.pdf"),
            ):
                s.add(m.Media(id=mid, tenant_id="tnt-acme", sha256=sha, name=name,
                              size=len(data), storage_key=api.store.media.storage_key(
                                  "tnt-acme", sha), room_id=dm.id, event_id=event,
                              uploader_id=who))  # fmt: skip
            group = m.ScaikeyGroup(tenant_id="tnt-acme", scaikey_group_id="grp_ops", name="Ops")
            s.add(group)
            s.flush()
            for pid in (ZOE, "prt-bob"):
                s.add(m.ScaikeyGroupMember(group_id=group.id, participant_id=pid,
                                           tenant_id="tnt-acme"))  # fmt: skip
            # what a sync, a failed sync run and a registration leave behind
            s.add(
                m.AuditEntry(
                    actor="scaikey-sync",
                    action="sync.participants.update",
                    target="tenant:acme",
                    tenant_id="tnt-acme",
                    details={
                        "count": 1,
                        "changes": {ZOE: {"email": EMAIL, "display_name": NAME, "fqid": FQID}},
                    },
                )
            )
            s.add(
                m.AuditEntry(
                    actor="local:ops",
                    action="participant.deactivate",
                    target=f"participant:{ZOE}",
                    tenant_id="tnt-acme",
                    details={"scaikey_user_id": SK, "note": f"asked by {NAME}"},
                )
            )
            s.add(
                m.AuditEntry(
                    actor="local:ops",
                    action="sync.run",
                    target="sync-run:1",
                    details={"error": f"ScaiKey refused {EMAIL.upper()}"},
                )
            )
            s.add(
                m.SyncRun(
                    status="failed",
                    counts={"errors": 1},
                    error=f"user {EMAIL.lower()} ({NAME}): bad avatar {AVATAR}",
                )
            )
            s.add(
                m.ScaikeyRegistration(
                    request_id="req-1",
                    scaikey_url="https://sk.test",
                    server_url="https://wave.test",
                    contact_email=EMAIL,
                    scope="tenant",
                    scope_ref="tnt_acme",
                    name="Acme wave",
                )
            )
            s.add(
                m.AiTokenUsage(
                    tenant_id="tnt-acme",
                    day=dt.date(2026, 1, 2),
                    model="scaigrid/default",
                    tokens=1234,
                )
            )
            # and another tenant's look-alike, which stays as it is
            s.add(
                m.Participant(
                    id="prt-globex-zq",
                    tenant_id="tnt-globex",
                    display_name="Zed Globex",
                    email="zed@globex.test",
                )
            )
        # fmt: on
        return self

    # -- inspecting -----------------------------------------------------------------------------
    def dump(self) -> dict[str, list[str]]:
        """Every row of every table of the schema, as text (table -> rows)."""
        out = {}
        with self.store.session() as s:
            for table in m.Base.metadata.sorted_tables:
                rows = s.execute(select(table)).all()
                out[table.name] = sorted(repr(tuple(r)) for r in rows)
        return out

    def traces(self) -> list[str]:
        found = []
        for table, rows in self.dump().items():
            for row in rows:
                low = row.lower()
                found += [f"{table}: {t!r} in {row}" for t in TRACES if t.lower() in low]
        return found

    def get(self, model, key):
        with self.store.session() as s:
            return s.get(model, key)

    def rows(self, model, *where, order_by=None):
        with self.store.session() as s:
            q = select(model).where(*where)
            if order_by is not None:
                q = q.order_by(order_by)
            return list(s.scalars(q))

    def count(self, model, *where) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))

    def others(self) -> dict:
        """Everything of the other people that an erasure must leave exactly as it was."""
        dump = self.dump()
        keep = {}
        for table, rows in dump.items():
            keep[table] = [r for r in rows if ZOE not in r and "zq" not in r]
        return keep

    def media_files(self) -> set[str]:
        return {e.sha256 for e in self.store.media.files("tnt-acme")}


@pytest.fixture
def world(cli, store, factory, admin_token):
    return World(cli, store, factory, admin_token)


def erase(w, *args, env=None):
    return w.cli.invoke("--output", "json", "admin", "erase-participant", *map(str, args),
                        env=env)  # fmt: skip


def assert_erased(w, *, events_total):
    """The end state of a finished erasure of Zoë (the same after a resumed one)."""
    assert w.traces() == []
    p = w.get(m.Participant, ZOE)
    assert p.display_name == TOMBSTONE
    assert (p.email, p.fqid, p.avatar_url, p.scaikey_user_id) == (None, None, None, None)
    assert p.active is False and p.operator_hold is False
    assert p.erased_at is not None and p.deactivated_at is not None
    # her events: rows and relations kept, bodies gone
    hers = w.rows(m.Event, m.Event.sender_id == ZOE, m.Event.id != w.events["imported"])
    assert len(hers) == events_total
    assert all(e.content == {} and e.original_content is None for e in hers)
    assert all(e.redacted_at is not None for e in hers)
    imported = w.get(m.Event, w.events["imported"])  # another author's words stay
    assert imported.content["_imported_sender"] == CAROL and imported.redacted_at is None
    reaction = w.get(m.Event, w.events["her_reaction"])
    assert (reaction.relation_type, reaction.relates_to_id) == ("reaction", w.events["reply"])
    # the others' events untouched, their relation to her message intact
    reply = w.get(m.Event, w.events["reply"])
    assert reply.content == {"body": "hello from bob", "reply_to_event_id": w.events["msg"],
                             "mentions": [ZOE]}  # fmt: skip
    assert w.get(m.Event, w.events["bob_reaction"]).relates_to_id == w.events["msg"]
    assert w.get(m.Event, w.events["bob_says"]).content == {"body": "see you"}
    # memberships, roles, groups: none left; the others keep theirs
    for model in (m.WorkspaceMember, m.RoomMember, m.RoleAssignment, m.ScaikeyGroupMember):
        assert w.count(model, model.participant_id == ZOE) == 0, model
    assert w.count(m.WorkspaceMember, m.WorkspaceMember.participant_id == "prt-ada") == 1
    assert w.count(m.RoomMember, m.RoomMember.participant_id == "prt-bob") == 2
    assert w.count(m.ScaikeyGroupMember) == 1
    # media: her rows gone, her own file gone, the file Bob's row names stays
    assert sorted(r.id for r in w.rows(m.Media)) == ["med-bob", "med-zq-imp"]
    assert w.media_files() == {w.shared_sha, w.carol_sha}
    # AI usage counts kept (they never named anyone)
    assert w.count(m.AiTokenUsage) == 1
    # audited once each, never with the erased data
    started = w.rows(m.AuditEntry, m.AuditEntry.action == "participant.erase-started")
    done = w.rows(m.AuditEntry, m.AuditEntry.action == "participant.erase")
    assert len(started) == 1 and len(done) == 1
    assert done[0].target == f"participant:{ZOE}" and done[0].tenant_id == "tnt-acme"
    assert done[0].details["events_redacted"] == events_total
    # the globex look-alike is untouched
    assert w.get(m.Participant, "prt-globex-zq").email == "zed@globex.test"


# -- the no-trace test --------------------------------------------------------------------------


def test_erasure_leaves_no_trace_of_the_person_and_keeps_the_rooms_whole(world):
    w = world.seed()
    assert len(w.traces()) > 10  # the dump does see her before
    before = w.others()
    events_before = w.count(m.Event)
    result = erase(w, EMAIL.upper(), "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["result"] == "erased" and summary["participant_id"] == ZOE
    assert summary["resumed"] is False and summary["backup"] is None
    assert summary["events_redacted"] == 5 and summary["imported_events_kept"] == 1
    assert (summary["media_rows_deleted"], summary["media_files_removed"]) == (2, 1)
    assert summary["workspace_memberships"] == 2 and summary["room_memberships"] == 2
    assert summary["role_assignments"] == 1 and summary["group_memberships"] == 1
    assert summary["personal_workspaces"] == [{"slug": "zq-home", "action": "deleted"}]
    assert summary["scrubbed_rows"] >= 7
    assert_erased(w, events_total=5)
    assert w.count(m.Event) == events_before
    assert w.count(m.Workspace, m.Workspace.slug == "zq-home") == 0
    # every row of the others is as it was, except the rows that named her (scrubbed in place)
    after = w.others()
    for table, rows in before.items():
        if table in ("audit_log", "rooms", "sync_runs", "scaikey_registrations", "workspaces",
                     "role_assignments", "roles"):  # fmt: skip
            continue
        assert after[table] == rows, table
    dm = w.rows(m.Room, m.Room.type == "dm")[0]
    assert (dm.name, dm.topic) == (f"{ZOE} / Bob Builder", f"ask {ZOE}")
    assert w.rows(m.ScaikeyRegistration)[0].contact_email == ZOE
    granted = w.rows(m.RoleAssignment, m.RoleAssignment.participant_id == "prt-bob")[0]
    assert granted.created_by == f"scaikey:{ZOE}"
    deputy = w.rows(m.Role, m.Role.name == "deputy")[0]
    assert deputy.description == f"stands in for {ZOE}"


def test_a_personal_workspace_with_rooms_is_kept_without_her_name(world):
    w = world.seed(personal_room=True)
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["personal_workspaces"] == [
        {"slug": "zq-home", "action": "kept", "renamed_to": f"erased-{ZOE}", "rooms": 1}
    ]
    ws = w.get(m.Workspace, "ws-acme-zq-home")
    assert (ws.slug, ws.name, ws.description) == (f"erased-{ZOE}", "Erased participant's "
                                                  "workspace", None)  # fmt: skip
    assert w.get(m.Room, "room-diary").workspace_id == ws.id
    assert w.count(m.WorkspaceMember, m.WorkspaceMember.workspace_id == ws.id) == 0
    assert w.traces() == []


# -- plan, dry run, confirmation, guards --------------------------------------------------------


def test_dry_run_prints_the_plan_and_writes_nothing(world, tmp_path):
    w = world.seed()
    before, files = w.dump(), w.media_files()
    result = erase(w, ZOE, "--tenant", "acme", "--backup", tmp_path / "z.zip", "--dry-run")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["dry_run"] is True and record["participant_id"] == ZOE
    assert record["events"] == 6 and record["imported_events_kept"] == 1
    assert record["media_rows"] == 2 and record["media_files"] == 1
    assert record["workspace_memberships"] == 2 and record["room_memberships"] == 2
    assert record["role_assignments"] == 1 and record["group_memberships"] == 1
    assert record["scrub"]["audit_log"] >= 3
    plan = result.stderr
    for words in ("6 events", "1 imported on behalf of another author", "2 media rows",
                  "tombstone", "zq-home", "ai_token_usage", "kept, they never named anyone",
                  "ScaiKey", "backup:"):  # fmt: skip
        assert words in plan, (words, plan)
    assert not (tmp_path / "z.zip").exists()
    assert w.dump() == before and w.media_files() == files


def test_backup_choice_is_required_and_no_terminal_needs_yes(world, tmp_path):
    w = world.seed()
    before = w.dump()
    for args in ([], ["--backup", str(tmp_path / "z.zip"), "--no-backup"]):
        result = erase(w, ZOE, "--tenant", "acme", *args)
        assert result.exit_code == 2 and "--no-backup" in result.stderr, result.output
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup")
    assert result.exit_code == 2 and "SW_CONFIRMATION_REQUIRED" in result.stderr
    assert "erase participant" in result.stderr  # the plan came first
    assert w.dump() == before


def test_guards_refuse_the_last_owner_and_the_last_tenant_admin_with_the_hand_over(world):
    w = world.seed()
    # Ada leaves design's owners: Zoë is its last active owner (her personal one is no bar)
    w.run("role", "assign", "prt-ada", "editor", "--tenant", "acme", "--workspace", "design",
          "--yes")  # fmt: skip
    before = w.dump()
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_WORKSPACE_NEEDS_OWNER"
    assert "scaiwave role assign OTHER owner --tenant acme --workspace design" in error["hint"]
    assert "zq-home" not in error["message"]
    assert w.dump() == before
    # a dry run refuses the same way (the guards come before the plan)
    assert erase(w, ZOE, "--tenant", "acme", "--no-backup", "--dry-run").exit_code == 1
    w.run("role", "assign", "prt-ada", "owner", "--tenant", "acme", "--workspace", "design",
          "--yes")  # fmt: skip
    # the other tenant admins lose the role: Zoë is the last one
    for pid in ("prt-ada", "prt-bob"):
        w.run("role", "unassign", pid, "tenant_admin", "--tenant", "acme")
    before = w.dump()
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_TENANT_NEEDS_ADMIN"
    assert "scaiwave role assign OTHER tenant_admin --tenant acme" in error["hint"]
    assert w.dump() == before
    # an inactive holder does not count; an active one does
    w.run("role", "assign", "prt-bob", "tenant_admin", "--tenant", "acme", "--yes")
    with w.store.transaction() as s:
        s.get(m.Participant, "prt-bob").active = False
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1 and "SW_TENANT_NEEDS_ADMIN" in result.stderr
    with w.store.transaction() as s:
        s.get(m.Participant, "prt-bob").active = True
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 0, result.output


def test_erased_again_is_already_erased_and_the_scope_comes_from_the_token(world, admin_token):
    w = world.seed()
    env = admin_token.env("tenant_admin", tenant_id="tnt_globex")
    result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes", env=env)
    assert result.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    assert erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes", env=env).exit_code == 0
    audit_rows = w.count(m.AuditEntry)
    again = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes", env=env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["result"] == "already erased"
    assert "already erased" in again.stderr
    assert w.count(m.AuditEntry) == audit_rows
    # the e-mail names nobody any more
    result = erase(w, EMAIL, "--tenant", "acme", "--no-backup", "--yes")
    assert result.exit_code == 1 and "SW_PARTICIPANT_NOT_FOUND" in result.stderr


# -- kill -9, then the same command --------------------------------------------------------------


def kill_at_hook(w, point, args, tmp_path):
    """``scaiwave ARGS`` killed with SIGKILL at the kill point ``point``."""
    w.cli.kill_at("SCAIWAVE_ADMIN_TEST_HOOK", point, *args, marker_dir=tmp_path)


POINTS = ["started", "scrub", "events-txn", "events", "media", "final"]


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_then_the_same_command_finishes_with_the_same_end_state(world, tmp_path, point):
    w = world.seed(bulk=1200)
    total = 5 + 1200
    backup = tmp_path / "zoe.zip"
    args = ["admin", "erase-participant", EMAIL, "--tenant", "acme", "--backup", str(backup),
            "--yes", "--batch-size", "500"]  # fmt: skip
    kill_at_hook(w, point, args, tmp_path)
    p = w.get(m.Participant, ZOE)
    # under way: inactive, held against a sync, still found by e-mail, nothing half-written
    assert p.erased_at is not None and p.active is False and p.operator_hold is True
    assert p.email == EMAIL and p.display_name == NAME
    redacted = w.count(m.Event, m.Event.sender_id == ZOE, m.Event.redacted_at.is_not(None))
    # the first batch of 500 holds the message she imported for Carol, which stays
    expected = {"events": 499, "media": total, "final": total}.get(point, 0)
    assert redacted == expected
    assert w.count(m.RoleAssignment, m.RoleAssignment.participant_id == ZOE) == 1
    written = backup.read_bytes()
    # the same command finishes it, without a new backup (the first run's is named)
    result = w.cli.invoke("--output", "json", *args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["resumed"] is True and summary["result"] == "erased"
    assert "under way" in result.stderr and f"the first run's is {backup}" in result.stderr
    assert summary["backup"]["file"] == str(backup)
    assert summary["backup"]["sha256"] == hashlib.sha256(written).hexdigest()
    assert backup.read_bytes() == written
    assert_erased(w, events_total=total)
    # and the backup still verifies, holding what she wrote
    verified = w.cli.invoke("--output", "json", "admin", "verify-export", str(backup))
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["events"] == total


# -- the backup ---------------------------------------------------------------------------------


def test_backup_is_written_and_verified_first_and_still_verifies_after(world, tmp_path):
    w = world.seed()
    backup = tmp_path / "zoe.zip"
    result = erase(w, ZOE, "--tenant", "acme", "--backup", backup, "--yes")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    data = backup.read_bytes()
    assert summary["backup"]["file"] == str(backup)
    assert summary["backup"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["backup"]["events"] == 5  # hers; Carol's imported message is not
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(backup) as zf:
        events = zf.read("events.jsonl").decode()
    assert SECRET in events and OLD_SECRET in events  # the backup holds what was erased
    assert_erased(w, events_total=5)
    started = w.rows(m.AuditEntry, m.AuditEntry.action == "participant.erase-started")[0]
    assert started.details["backup"] == str(backup)
    assert started.details["backup_sha256"] == summary["backup"]["sha256"]
    verified = w.cli.invoke("--output", "json", "admin", "verify-export", str(backup))
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["valid"] is True


def test_a_backup_that_cannot_be_written_erases_nothing(world, tmp_path):
    w = world.seed()
    w.store.media.delete("tnt-acme", w.own_sha)  # her upload is missing from the media store
    before = w.dump()
    result = erase(w, ZOE, "--tenant", "acme", "--backup", tmp_path / "zoe.zip", "--yes")
    assert result.exit_code == 1, result.output
    assert "SW_MEDIA_MISSING" in result.stderr and "nothing was erased" in result.stderr
    assert not (tmp_path / "zoe.zip").exists()
    assert w.dump() == before


# -- a sync afterwards ----------------------------------------------------------------------------


def test_a_sync_after_the_erasure_leaves_the_tombstone_alone(world):
    testing = pytest.importorskip("scaiwave_sync.testing")
    fake = testing.FakeScaiKey(tenants=1, users_per_tenant=3, groups_per_tenant=1)
    fake.start()
    try:
        w = world.seed()
        # link Zoë to a user the fake knows, who is still there after the erasure
        with w.store.transaction() as s:
            s.get(m.Participant, ZOE).scaikey_user_id = "usr_acme_000001"
        env = {
            "SCAIKEY_BASE_URL": fake.url,
            "SCAIKEY_CLIENT_ID": testing.DEFAULT_CLIENT_ID,
            "SCAIKEY_CLIENT_SECRET": testing.DEFAULT_CLIENT_SECRET,
            "SCAIWAVE_SYNC_BACKOFF": "0",
            "SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": "100",
        }
        result = erase(w, ZOE, "--tenant", "acme", "--no-backup", "--yes")
        assert result.exit_code == 0, result.output
        tomb = [tuple(r) for r in w.dump()["participants"] if ZOE in r]
        sync = w.cli.invoke("--output", "json", "sync", "--tenant", "acme",
                            "--allow-mass-deactivation", env=env)  # fmt: skip
        assert sync.exit_code == 0, sync.output
        assert [tuple(r) for r in w.dump()["participants"] if ZOE in r] == tomb
        assert w.count(m.WorkspaceMember, m.WorkspaceMember.participant_id == ZOE) == 0
        assert w.count(m.RoleAssignment, m.RoleAssignment.participant_id == ZOE) == 0
        assert w.count(m.ScaikeyGroupMember, m.ScaikeyGroupMember.participant_id == ZOE) == 0
        # still in ScaiKey, she comes back as a new participant (the plan says: remove her there)
        back = w.rows(m.Participant, m.Participant.scaikey_user_id == "usr_acme_000001")
        assert [p.id for p in back] != [ZOE] and len(back) == 1
    finally:
        fake.stop()
