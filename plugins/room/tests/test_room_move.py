"""`room move ROOM --tenant T --to-workspace W`: the room changes workspace and keeps every
event, member and media row; the acting participant needs ``room.move`` in both workspaces;
a frozen room (archived or closed) is refused. Through the CLI, on every engine of ``db_url``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from scaiwave_cli import api

m = api.store.models


@pytest.fixture
def acme(factory):
    """Tenant acme: workspaces general (owner ada, editor ed) and design (owner ada, owner olga,
    editor ed); room-plans in general with ada, ed and mo (no workspace role) as members, five
    events (one with a media row)."""
    tenant = factory.tenant("acme")
    ada, ed, olga, mo = (factory.participant(tenant, n) for n in ("ada", "ed", "olga", "mo"))
    general = factory.workspace(tenant, "general", owner=ada)
    design = factory.workspace(tenant, "design", owner=ada)
    with factory.store.transaction() as s:
        for ws, who, role in (
            (general, ed, "editor"),
            (design, olga, "owner"),
            (design, ed, "editor"),
        ):
            s.add(
                m.WorkspaceMember(
                    workspace_id=ws.id, participant_id=who.id, tenant_id=tenant.id, role=role
                )
            )
    room = factory.room(tenant, general, name="Plans", members=[ada, ed, mo], id="room-plans")
    events = [factory.event(room, ada, body=f"message {n}") for n in range(5)]
    with factory.store.transaction() as s:
        s.add(
            m.Media(
                id="med-1",
                tenant_id=tenant.id,
                sha256="a" * 64,
                name="a.txt",
                size=3,
                storage_key="x",
                room_id=room.id,
                event_id=events[0].id,
            )
        )
    return tenant


def _snapshot(store, room_id="room-plans") -> dict:
    with store.session() as s:
        return {
            "workspace": s.scalar(select(m.Room.workspace_id).where(m.Room.id == room_id)),
            "events": sorted(
                s.execute(
                    select(m.Event.id, m.Event.stream_position).where(m.Event.room_id == room_id)
                ).all()
            ),
            "members": sorted(
                s.execute(
                    select(m.RoomMember.participant_id, m.RoomMember.power_level).where(
                        m.RoomMember.room_id == room_id
                    )
                ).all()
            ),
            "media": s.scalar(
                select(func.count()).select_from(m.Media).where(m.Media.room_id == room_id)
            ),
        }


def _audit(store, action="room.move") -> list:
    with store.session() as s:
        return list(s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action)))


def _move(cli, *extra, to="design", room="room-plans", **kwargs):
    return cli.invoke(
        "--output",
        "json",
        "room",
        "move",
        room,
        "--tenant",
        "acme",
        "--to-workspace",
        to,
        *extra,
        **kwargs,
    )


def test_move_keeps_every_event_member_and_media_row(cli, store, acme):
    before = _snapshot(store)
    assert before["workspace"] == "ws-acme-general" and len(before["events"]) == 5
    result = _move(cli)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["result"] == "moved"
    assert (record["from_workspace"], record["to_workspace"]) == ("general", "design")
    assert (record["events"], record["members"], record["media"]) == (5, 3, 1)
    # mo holds no role in design: still a member of the room, with design's rights (none)
    assert record["members_without_role_in_target"] == ["prt-mo"]
    after = _snapshot(store)
    assert after["workspace"] == "ws-acme-design"
    assert {k: v for k, v in after.items() if k != "workspace"} == {
        k: v for k, v in before.items() if k != "workspace"
    }
    [entry] = _audit(store)
    assert entry.target == "room:room-plans" and entry.tenant_id == "tnt-acme"
    assert entry.details["from_workspace"] == "general"
    assert entry.details["to_workspace"] == "design"
    assert entry.details["events"] == 5 and entry.details["members"] == 3


def test_room_list_shows_the_new_workspace(cli, store, acme):
    assert _move(cli).exit_code == 0
    [row] = cli.json("room", "list", "--tenant", "acme", "--workspace", "design")
    assert row["id"] == "room-plans" and row["events"] == 5
    assert cli.json("room", "list", "--tenant", "acme", "--workspace", "general") == []


def test_move_to_the_same_workspace_is_unchanged(cli, store, acme):
    result = _move(cli, to="general")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"] == "unchanged"
    assert _audit(store) == []


def test_dry_run_prints_the_plan_and_writes_nothing(cli, store, acme):
    before = _snapshot(store)
    result = _move(cli, "--dry-run")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["result"] == "would move" and record["dry_run"] is True
    assert "move room room-plans" in result.stderr and "dry run: nothing written" in result.stderr
    assert _snapshot(store) == before
    assert _audit(store) == []


def test_as_needs_room_move_in_both_workspaces(cli, store, acme):
    before = _snapshot(store)
    # ed: editor in both (no room.move anywhere)
    refused = _move(cli, "--as", "prt-ed")
    assert refused.exit_code == 3, refused.output
    error = json.loads(refused.stderr)["error"]
    assert error["code"] == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert "room.move" in error["message"] and "general" in error["message"]
    # olga: owner of design (the target) only
    refused = _move(cli, "--as", "olga@acme.test")
    assert refused.exit_code == 3, refused.output
    assert "general" in json.loads(refused.stderr)["error"]["message"]
    assert _snapshot(store) == before

    # ada: owner of both
    result = _move(cli, "--as", "prt-ada")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["as"] == "prt-ada"
    assert _audit(store)[0].details["as"] == "prt-ada"


def test_as_owner_of_the_source_only_is_refused_naming_the_target(cli, factory, store, acme):
    lab = factory.workspace(acme, "lab")  # nobody's
    assert lab.slug == "lab"
    refused = _move(cli, "--as", "prt-ada", to="lab")
    assert refused.exit_code == 3, refused.output
    assert "'lab'" in json.loads(refused.stderr)["error"]["message"]
    assert _snapshot(store)["workspace"] == "ws-acme-general"


@pytest.mark.parametrize("state", ["archived", "closed"])
def test_a_frozen_room_is_not_moved(cli, store, acme, state):
    command = ["archive"] if state == "archived" else ["close", "--yes"]
    result = cli.invoke("room", command[0], "room-plans", "--tenant", "acme", *command[1:])
    assert result.exit_code == 0, result.output
    refused = _move(cli)
    assert refused.exit_code == 1, refused.output
    error = json.loads(refused.stderr)["error"]
    assert error["code"] == "SW_ROOM_FROZEN" and state in error["message"]
    assert _snapshot(store)["workspace"] == "ws-acme-general"


def test_a_workspace_of_another_tenant_is_not_found(cli, factory, store, acme):
    globex = factory.tenant("globex")
    factory.workspace(globex, "elsewhere")
    refused = _move(cli, to="ws-globex-elsewhere")
    assert refused.exit_code == 1, refused.output
    assert json.loads(refused.stderr)["error"]["code"] == "SW_WORKSPACE_NOT_FOUND"
    assert _snapshot(store)["workspace"] == "ws-acme-general"


def test_the_admin_token_scopes_the_tenant(cli, factory, store, acme, admin_token):
    factory.tenant("globex")
    refused = _move(cli, env=admin_token.env("tenant_admin", tenant_id="tnt_globex"))
    assert refused.exit_code == 3, refused.output
    assert _snapshot(store)["workspace"] == "ws-acme-general"
    result = _move(cli, env=admin_token.env("tenant_admin", tenant_id="tnt_acme"))
    assert result.exit_code == 0, result.output


def test_unknown_room_is_not_found(cli, store, acme):
    refused = _move(cli, room="room-nope")
    assert refused.exit_code == 1, refused.output
    assert json.loads(refused.stderr)["error"]["code"] == "SW_ROOM_NOT_FOUND"


def test_help_has_a_runnable_example(cli):
    result = cli.invoke("room", "move", "--help")
    assert result.exit_code == 0
    assert "Example: scaiwave room move room-123 --tenant acme --to-workspace design" in (
        result.output
    )
