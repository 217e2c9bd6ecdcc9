"""One look-up per thing an operator names (tenant, participant, workspace): one code, one
hint, on SQLite and on MariaDB."""

from __future__ import annotations

import pytest

from scaiwave_cli import api


@pytest.fixture
def acme(factory):
    acme = factory.tenant("acme", partner="north")
    beta = factory.tenant("beta")
    factory.participant(acme, "ada", email="Ada.Lovelace@Acme.Test")
    factory.participant(acme, "bob")
    factory.participant(beta, "eve", email="ada.lovelace@acme.test")  # same e-mail, other tenant
    factory.workspace(acme, "design")
    return acme


def test_tenant_by_slug_or_id_with_its_partner(store, acme):
    with store.read_session() as s:
        assert api.find_tenant(s, "acme").id == "tnt-acme"
        found = api.find_tenant(s, "tnt-acme")
        assert found.slug == "acme" and found.partner.slug == "north"


def test_unknown_tenant_is_one_code_and_one_hint(store, acme):
    with store.read_session() as s, pytest.raises(api.NotFoundError) as err:
        api.find_tenant(s, "acem")
    assert err.value.code == "SW_TENANT_NOT_FOUND" and err.value.exit_code == 1
    assert "scaiwave admin list-tenants" in err.value.hint


def test_tenant_outside_the_actors_scope_is_exit_3(store, acme):
    actor = api.access.Actor(name="scaikey:x", kind="token", scope="tenant", tenant_id="tnt_beta")
    with store.read_session() as s, pytest.raises(api.PermissionDenied) as err:
        api.find_tenant(s, "acme", actor=actor)
    assert err.value.exit_code == 3


@pytest.mark.parametrize("ref", ["prt-ada", "ada.lovelace@acme.test", "ADA.LOVELACE@ACME.TEST"])
def test_participant_by_id_or_email_in_any_case(store, acme, ref):
    with store.read_session() as s:
        tenant = api.find_tenant(s, "acme")
        assert api.find_participant(s, tenant, ref).id == "prt-ada"


@pytest.mark.parametrize("ref", ["prt-eve", "nobody@acme.test", "prt-nobody"])
def test_participant_of_another_tenant_or_unknown_is_not_found_exit_1(store, acme, ref):
    with store.read_session() as s:
        tenant = api.find_tenant(s, "acme")
        with pytest.raises(api.NotFoundError) as err:
            api.find_participant(s, tenant, ref)
    assert err.value.code == "SW_PARTICIPANT_NOT_FOUND" and err.value.exit_code == 1
    assert "list-participants --tenant acme" in err.value.hint


def test_shared_email_is_ambiguous_and_lists_the_ids(store, factory, acme):
    factory.participant(acme, "ada2", email="ada.lovelace@acme.test")
    with store.read_session() as s:
        tenant = api.find_tenant(s, "acme")
        with pytest.raises(api.DomainError) as err:
            api.find_participant(s, tenant, "ada.lovelace@acme.test")
    assert err.value.code == "SW_PARTICIPANT_AMBIGUOUS"
    assert err.value.details == {"ids": ["prt-ada", "prt-ada2"]}


def test_inactive_participant_is_not_found_when_only_active_ones_count(store, factory, acme):
    factory.participant(acme, "dave", active=False)
    with store.read_session() as s:
        tenant = api.find_tenant(s, "acme")
        assert api.find_participant(s, tenant, "prt-dave").active is False
        with pytest.raises(api.NotFoundError, match="active participant"):
            api.find_participant(s, tenant, "prt-dave", active_only=True)


def test_workspace_by_slug_or_id_only_in_its_tenant(store, factory, acme):
    factory.workspace(_beta(store), "general")
    with store.read_session() as s:
        tenant = api.find_tenant(s, "acme")
        assert api.find_workspace(s, tenant, "design").id == "ws-acme-design"
        assert api.find_workspace(s, tenant, "ws-acme-design").slug == "design"
        with pytest.raises(api.NotFoundError) as err:
            api.find_workspace(s, tenant, "general")
    assert err.value.code == "SW_WORKSPACE_NOT_FOUND"
    assert "list-workspaces --tenant acme" in err.value.hint


def _beta(store):
    with store.read_session() as s:
        return api.find_tenant(s, "beta")


def test_unknown_tenant_suggests_the_closest_slugs(store, acme):
    with store.read_session() as s, pytest.raises(api.NotFoundError) as err:
        api.find_tenant(s, "acem")
    assert "did you mean 'acme'?" in err.value.format_message()
    assert err.value.details == {"did_you_mean": ["acme"]}
    with store.read_session() as s, pytest.raises(api.NotFoundError) as err:
        api.find_tenant(s, "zzzzzz")
    assert "did you mean" not in err.value.format_message() and not err.value.details


def test_suggestions_stay_within_the_actors_scope(store, factory, acme):
    """A scoped actor is never told the slug of a tenant it may not see."""
    factory.tenant("acne")  # close to "acmee", not the actor's
    actor = api.access.Actor(name="scaikey:x", kind="token", scope="tenant", tenant_id="tnt_acme")
    with store.read_session() as s, pytest.raises(api.NotFoundError) as err:
        api.find_tenant(s, "acmee", actor=actor)
    assert "'acme'" in err.value.format_message() and "acne" not in err.value.format_message()
    assert err.value.details == {"did_you_mean": ["acme"]}
