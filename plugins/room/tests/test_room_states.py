"""`room archive|restore|close`: open <-> archived, closed for good (with a plan and a
confirmation), the refusals, the audit rows, `room list` by state. Through the CLI, on every
engine of ``db_url``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from scaiwave_cli import api

m = api.store.models


@pytest.fixture
def acme(factory):
    """Tenant acme: ada owns workspace general, ed is its editor, vic its viewer; a room with
    ada (creator, power level 100) and ed as members and three events."""
    tenant = factory.tenant("acme")
    ada = factory.participant(tenant, "ada")
    ed = factory.participant(tenant, "ed")
    vic = factory.participant(tenant, "vic")
    general = factory.workspace(tenant, "general", owner=ada)
    with factory.store.transaction() as s:
        for who, role in ((ed, "editor"), (vic, "viewer")):
            s.add(
                m.WorkspaceMember(
                    workspace_id=general.id,
                    participant_id=who.id,
                    tenant_id=tenant.id,
                    role=role,
                )
            )
    room = factory.room(tenant, general, name="Plans", members=[ada, ed], id="room-plans")
    for n in range(3):
        factory.event(room, ada, body=f"message {n}")
    return room


def _state(store, room_id="room-plans") -> str:
    with store.session() as s:
        return s.scalar(select(m.Room.state).where(m.Room.id == room_id))


def _audit(store, action) -> list:
    with store.session() as s:
        return list(s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action)))


def _run(cli, *args, **kwargs):
    return cli.invoke("--output", "json", "room", *args, **kwargs)


def test_archive_then_restore_round_trip_with_audit(cli, store, acme):
    result = _run(cli, "archive", "room-plans", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["result"] == "archived"
    assert (record["from_state"], record["state"]) == ("open", "archived")
    assert (record["events"], record["members"]) == (3, 2)
    assert _state(store) == "archived"
    [entry] = _audit(store, "room.archive")
    assert entry.target == "room:room-plans" and entry.tenant_id == "tnt-acme"
    assert entry.details["from"] == "open" and entry.details["to"] == "archived"
    assert entry.details["events"] == 3 and entry.details["members"] == 2

    result = _run(cli, "restore", "room-plans", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"] == "restored"
    assert _state(store) == "open"
    assert len(_audit(store, "room.restore")) == 1


def test_archive_of_an_archived_room_is_unchanged_exit_0(cli, store, acme):
    assert _run(cli, "archive", "room-plans", "--tenant", "acme").exit_code == 0
    again = _run(cli, "archive", "room-plans", "--tenant", "acme")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["result"] == "unchanged"
    assert _state(store) == "archived"
    assert len(_audit(store, "room.archive")) == 1  # nothing changed, nothing audited


def test_restore_of_an_open_room_is_unchanged_exit_0(cli, store, acme):
    result = _run(cli, "restore", "room-plans", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"] == "unchanged"
    assert _audit(store, "room.restore") == []


def test_close_needs_a_confirmation_without_a_terminal(cli, store, acme):
    result = _run(cli, "close", "room-plans", "--tenant", "acme")
    assert result.exit_code == 2, result.output
    assert "SW_CONFIRMATION_REQUIRED" in result.stderr
    assert "close room room-plans" in result.stderr  # the plan was shown
    assert _state(store) == "open"
    assert _audit(store, "room.close") == []


def test_close_dry_run_prints_the_plan_and_writes_nothing(cli, store, acme):
    result = _run(cli, "close", "room-plans", "--tenant", "acme", "--dry-run")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["result"] == "would close" and record["dry_run"] is True
    assert "3 events" in result.stderr and "cannot be restored" in result.stderr
    assert "dry run: nothing written" in result.stderr
    assert _state(store) == "open"
    assert _audit(store, "room.close") == []


def test_close_with_yes_is_terminal_and_refuses_restore_and_archive(cli, store, acme):
    result = _run(cli, "close", "room-plans", "--tenant", "acme", "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"] == "closed"
    assert _state(store) == "closed"
    [entry] = _audit(store, "room.close")
    assert entry.details["from"] == "open" and entry.details["events"] == 3

    for command in ("restore", "archive"):
        refused = _run(cli, command, "room-plans", "--tenant", "acme")
        assert refused.exit_code == 1, refused.output
        error = json.loads(refused.stderr)["error"]
        assert error["code"] == "SW_ROOM_CLOSED"
        assert _state(store) == "closed"

    again = _run(cli, "close", "room-plans", "--tenant", "acme")  # no --yes: nothing to confirm
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["result"] == "unchanged"
    assert len(_audit(store, "room.close")) == 1


def test_an_archived_room_can_be_closed(cli, store, acme):
    assert _run(cli, "archive", "room-plans", "--tenant", "acme").exit_code == 0
    result = _run(cli, "close", "room-plans", "--tenant", "acme", "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["from_state"] == "archived"
    assert _state(store) == "closed"


def test_a_closed_room_can_still_be_exported(cli, store, acme, tmp_path):
    assert _run(cli, "close", "room-plans", "--tenant", "acme", "--yes").exit_code == 0
    bundle = tmp_path / "closed.zip"
    result = cli.invoke("room", "export", "room-plans", "--tenant", "acme", "--to", str(bundle))
    assert result.exit_code == 0, result.output
    verified = cli.invoke("--output", "json", "room", "verify", "--from", str(bundle))
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["events"] == 3


def test_room_list_shows_the_state_and_filters_by_it(cli, factory, store, acme):
    factory.room(
        _row(store, m.Tenant, "tnt-acme"), _row(store, m.Workspace, "ws-acme-general"), id="room-b"
    )
    assert _run(cli, "archive", "room-plans", "--tenant", "acme").exit_code == 0
    rows = cli.json("room", "list", "--tenant", "acme")
    assert {r["id"]: r["state"] for r in rows} == {"room-plans": "archived", "room-b": "open"}
    archived = cli.json("room", "list", "--tenant", "acme", "--state", "archived")
    assert [r["id"] for r in archived] == ["room-plans"]
    opened = cli.json("room", "list", "--tenant", "acme", "--state", "open")
    assert [r["id"] for r in opened] == ["room-b"]


def _row(store, model, key):
    with store.session() as s:
        row = s.get(model, key)
        s.expunge(row)
        return row


def test_unknown_room_and_a_room_of_another_tenant_are_not_found(cli, factory, store, acme):
    factory.tenant("globex")
    for tenant in ("acme", "globex"):
        ref = "room-nope" if tenant == "acme" else "room-plans"
        result = _run(cli, "archive", ref, "--tenant", tenant)
        assert result.exit_code == 1, result.output
        assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_NOT_FOUND"
    assert _state(store) == "open"


def test_the_admin_token_scopes_the_tenant(cli, factory, store, acme, admin_token):
    factory.tenant("globex")
    outsider = admin_token.env("tenant_admin", tenant_id="tnt_globex")
    refused = _run(cli, "archive", "room-plans", "--tenant", "acme", env=outsider)
    assert refused.exit_code == 3, refused.output
    assert "SW_AUTH_INSUFFICIENT_PERMISSION" in refused.stderr
    assert _state(store) == "open"

    insider = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    result = _run(cli, "archive", "room-plans", "--tenant", "acme", env=insider)
    assert result.exit_code == 0, result.output
    [entry] = _audit(store, "room.archive")
    assert entry.actor_kind != "local"


def test_as_needs_room_archive_in_the_workspace(cli, store, acme):
    refused = _run(cli, "archive", "room-plans", "--tenant", "acme", "--as", "ed@acme.test")
    assert refused.exit_code == 3, refused.output
    error = json.loads(refused.stderr)["error"]
    assert error["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION" and "room.archive" in error["message"]
    assert _state(store) == "open"

    result = _run(cli, "archive", "room-plans", "--tenant", "acme", "--as", "prt-ada")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["as"] == "prt-ada"
    assert _audit(store, "room.archive")[0].details["as"] == "prt-ada"


def test_as_unknown_participant_is_not_found(cli, store, acme):
    result = _run(cli, "archive", "room-plans", "--tenant", "acme", "--as", "nobody@acme.test")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stderr)["error"]["code"] == "SW_PARTICIPANT_NOT_FOUND"


def test_close_as_the_creator_or_room_close_only(cli, store, acme):
    # vic: a viewer and no member of the room: refused
    refused = _run(cli, "close", "room-plans", "--tenant", "acme", "--as", "prt-vic", "--yes")
    assert refused.exit_code == 3, refused.output
    assert "room.close" in json.loads(refused.stderr)["error"]["message"]
    # ed: an editor (no room.close) and power level 0 in the room: refused
    refused = _run(cli, "close", "room-plans", "--tenant", "acme", "--as", "prt-ed", "--yes")
    assert refused.exit_code == 3, refused.output
    assert _state(store) == "open"


def test_close_as_the_room_creator_without_a_workspace_right(cli, factory, store, acme):
    with store.transaction() as s:  # ada keeps the room (creator, power level 100), not the ws
        s.query(m.WorkspaceMember).filter_by(participant_id="prt-ada").delete()
    result = _run(cli, "close", "room-plans", "--tenant", "acme", "--as", "prt-ada", "--yes")
    assert result.exit_code == 0, result.output
    assert _state(store) == "closed"


def test_states_never_touch_events_or_members(cli, store, acme):
    def counts():
        with store.session() as s:
            events = s.scalar(select(func.count()).select_from(m.Event))
            members = s.scalar(select(func.count()).select_from(m.RoomMember))
            return events, members

    before = counts()
    assert _run(cli, "archive", "room-plans", "--tenant", "acme").exit_code == 0
    assert _run(cli, "close", "room-plans", "--tenant", "acme", "--yes").exit_code == 0
    assert counts() == before


@pytest.mark.parametrize("command", ["archive", "restore", "close"])
def test_help_has_a_runnable_example(cli, command):
    result = cli.invoke("room", command, "--help")
    assert result.exit_code == 0
    assert f"Example: scaiwave room {command} room-123 --tenant acme" in result.output


@pytest.mark.parametrize("command", ["archive", "restore", "close", "move"])
def test_help_of_the_lifecycle_commands_is_light(scaiwave_env, command):
    from scaiwave_cli.testing import assert_help_is_light

    modules = assert_help_is_light("room", command)
    assert "scaiwave_room.state" in modules and "scaiwave_room.move" in modules
    assert "scaiwave_room.usecases.lifecycle" not in modules


@pytest.mark.parametrize(
    "argv",
    [
        ("archive",),
        ("restore",),
        ("close", "--yes"),
        ("close", "--dry-run"),
        ("move", "--to-workspace", "general"),
    ],
)
def test_a_room_marked_deleting_is_refused_by_every_lifecycle_command(cli, store, acme, argv):
    with store.transaction() as s:  # an interrupted `room delete` leaves this
        s.query(m.Room).filter_by(id="room-plans").update({"state": "deleting"})
    result = _run(cli, argv[0], "room-plans", "--tenant", "acme", *argv[1:])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_DELETING"
    assert _state(store) == "deleting"
    assert _audit(store, f"room.{argv[0]}") == []
