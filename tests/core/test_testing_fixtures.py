"""The test aids a plugin author gets from `scaiwave_cli.testing` do what their docstrings say,
and can fail."""

from __future__ import annotations

import pytest

from scaiwave_cli.testing import assert_help_is_light


def test_unusable_db_url_is_refused_with_exit_2_and_its_code(cli, unusable_db_url):
    url, code = unusable_db_url()
    result = cli.invoke("db", "check", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2 and code in result.output, result.output
    assert "secret-pw" not in result.output


def test_help_is_light_passes_for_the_core_and_names_what_it_found():
    modules = assert_help_is_light("db")
    assert "scaiwave_cli.db_cmd" in modules


def test_help_is_light_fails_naming_the_heavy_module():
    with pytest.raises(AssertionError, match=r"imported \['click"):
        assert_help_is_light("db", forbidden=("click",))


def test_admin_token_is_verified_offline_and_odd_tokens_are_refused(cli, admin_token, store):
    ok = cli.invoke("db", "current", env=admin_token.env())
    assert ok.exit_code == 0, ok.output
    signer = admin_token.signer
    expired = signer.sign({"sub": "x", "role": "super_admin", "exp": 1})
    result = cli.invoke("--output", "json", "admin", "list-tenants",
                        env={"SCAIWAVE_ADMIN_TOKEN": expired})  # fmt: skip
    assert result.exit_code == 3 and "SW_AUTH_EXPIRED_TOKEN" in result.stderr, result.output


def test_factory_rows_are_committed_and_linked(factory, store):
    acme = factory.tenant("acme", partner="north")
    ada = factory.participant(acme, "ada")
    ws = factory.workspace(acme, "design", owner=ada)
    room = factory.room(acme, ws, members=[ada])
    first, second = factory.event(room, ada), factory.event(room, ada, body="again")
    assert second.stream_position > first.stream_position
    from scaiwave_cli import api

    m = api.store.models
    with store.read_session() as s:
        assert s.get(m.Tenant, "tnt-acme").partner.slug == "north"
        assert s.get(m.WorkspaceMember, (ws.id, ada.id)).role == "owner"
        assert s.get(m.Room, room.id).creator_id == "prt-ada"
        assert s.query(m.Event).filter_by(room_id=room.id).count() == 2
