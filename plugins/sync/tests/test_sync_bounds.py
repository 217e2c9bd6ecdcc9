"""Bounded time and memory against a hostile ScaiKey (issue 14): a total deadline per HTTP call,
retries inside a budget, a listing cap, a body cap, hostile JSON as an invalid response. Every
shape is served by the loopback fake (``scaiwave_sync.testing``) and ends in exit 2 with its own
code, in bounded time, with nothing applied."""

from __future__ import annotations

import json
import time

import pytest
from scaiwave_sync.testing import DEFAULT_CLIENT_ID


@pytest.fixture
def synced(world, db_url):
    """acme and globex mirrored once; then ScaiKey loses user 5 of acme (a successful run would
    deactivate it): "nothing applied" is that user still active."""
    world.link("acme", "globex")
    world.ok()
    world.fake.remove_user("usr_acme_000005")
    return world


def refused(world, code, *, within: float, env=None):
    """Run the sync; assert exit 2 with ``code`` within ``within`` seconds and nothing applied."""
    started = time.monotonic()
    result = world.sync(env=env)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert json.loads(result.stderr.strip().splitlines()[-1])["error"]["code"] == code
    assert elapsed < within, f"took {elapsed:.1f} s"
    assert world.participant("usr_acme_000005").active  # nothing deactivated
    m = world.m
    assert world.count(m.Participant, m.Participant.active.is_(False)) == 0
    assert world.count(m.SyncLock) == 0  # released
    return result


# -- a total deadline per call; retries inside a budget -------------------------------------------


@pytest.mark.parametrize("head", [False, True], ids=["body", "status-line"])
def test_a_trickling_answer_ends_at_the_call_deadline(synced, head):
    # one byte every 0.2 s: no single read ever times out; only a total deadline ends it
    synced.fake.add_fault("trickle", path="/users/", interval=0.2, seconds=8, head=head, times=2)
    result = refused(
        synced,
        "SW_SCAIKEY_UNREACHABLE",
        within=5,
        env={"SCAIWAVE_SYNC_HTTP_TIMEOUT": "1", "SCAIWAVE_SYNC_RETRIES": "2"},
    )
    assert "deadline of 1 s" in result.stderr


def test_retries_stop_when_the_budget_is_spent(synced):
    synced.fake.add_fault("status", path="/users/", status=503, retry_after="3", times=None)
    env = {"SCAIWAVE_SYNC_HTTP_BUDGET": "2", "SCAIWAVE_SYNC_RETRY_AFTER_MAX": "3"}
    result = refused(synced, "SW_SCAIKEY_UNREACHABLE", within=2.5, env=env)
    assert "SCAIWAVE_SYNC_HTTP_BUDGET" in result.stderr


def test_an_attempt_never_outlives_the_budget(synced):
    synced.fake.add_fault("trickle", path="/users/", interval=0.2, seconds=8, times=3)
    env = {"SCAIWAVE_SYNC_HTTP_TIMEOUT": "30", "SCAIWAVE_SYNC_HTTP_BUDGET": "1.5"}
    refused(synced, "SW_SCAIKEY_UNREACHABLE", within=4, env=env)


# -- the listing cap and the body cap --------------------------------------------------------------


def test_an_endless_listing_stops_at_the_cap(synced):
    # claims a total of 1e9 and has new ids on every page: refused at page 1 (default cap 1e6)
    synced.fake.add_fault("endless", path="/users/", times=200)
    before = synced.fake.count("/users/")
    result = refused(synced, "SW_SCAIKEY_LISTING_TOO_LARGE", within=5)
    assert synced.fake.count("/users/") - before <= 2
    assert "SCAIWAVE_SYNC_MAX_LISTING" in result.stderr


def test_a_listing_larger_than_the_cap_is_refused(synced):
    result = refused(
        synced, "SW_SCAIKEY_LISTING_TOO_LARGE", within=5, env={"SCAIWAVE_SYNC_MAX_LISTING": "5"}
    )
    assert "more than 5" in result.stderr


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "close-delimited"])
def test_an_answer_over_the_body_cap_is_refused(synced, length):
    synced.fake.add_fault("huge", path="/users/", size=2_000_000, length=length, times=None)
    env = {"SCAIWAVE_SYNC_MAX_RESPONSE_BYTES": "100000"}
    result = refused(synced, "SW_SCAIKEY_RESPONSE_TOO_LARGE", within=5, env=env)
    assert "100000 bytes" in result.stderr


# -- malformed or hostile JSON ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/", "/tenants/", "/oauth/token"])
def test_deeply_nested_json_is_an_invalid_response(synced, path):
    synced.fake.add_fault("deep", path=path, depth=100_000, times=None)
    result = refused(synced, "SW_SCAIKEY_INVALID_RESPONSE", within=5)
    assert "RecursionError" not in result.stderr


def test_truncated_json_is_an_invalid_response(synced):
    synced.fake.add_fault("truncated", path="/groups/", times=None)
    refused(synced, "SW_SCAIKEY_INVALID_RESPONSE", within=5)


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a page",
        {"items": {"id": "usr_x"}, "total": 1, "page": 1, "per_page": 4},
        {"items": [[[[]]]], "total": 1, "page": 1, "per_page": 4},
        {"items": [{"id": 5, "tenant_id": "tnt_acme"}], "total": 1, "page": 1, "per_page": 4},
        {"items": [], "total": "many", "page": 1, "per_page": 4},
    ],
    ids=["list", "string", "items-dict", "items-nested", "id-number", "total-string"],
)
def test_a_page_of_the_wrong_shape_is_an_invalid_response(synced, body):
    original = synced.fake._admin

    def wrong(path, query, fault):
        if "/users/" in path:
            return 200, {}, body
        return original(path, query, fault)

    synced.fake._admin = wrong
    refused(synced, "SW_SCAIKEY_INVALID_RESPONSE", within=5)


# -- a partner admin is matched by the ScaiKey partner id only ----------------------------------


def test_a_partner_admin_token_never_matches_a_partner_by_its_slug(world, db_url, admin_token):
    """acme's partner has no ScaiKey id and the slug "prt_north": a token whose partner_id is
    "prt_north" is not that partner's admin; globex's partner has the ScaiKey id: it is."""
    m = world.m
    with world.store.transaction() as s:
        s.add(m.Partner(id="ptn-a", slug="prt_north", name="North", scaikey_partner_id=None))
        s.add(m.Partner(id="ptn-b", slug="south", name="South", scaikey_partner_id="prt_north"))
    world.link("acme", "globex")
    with world.store.transaction() as s:
        s.get(m.Tenant, "tnt-acme").partner_id = "ptn-a"
        s.get(m.Tenant, "tnt-globex").partner_id = "ptn-b"
    env = admin_token.env("partner_admin", partner_id="prt_north", aud=DEFAULT_CLIENT_ID)
    denied = world.sync("--tenant", "acme", env=env)
    assert denied.exit_code == 3, denied.output
    assert "SW_AUTH_INSUFFICIENT_PERMISSION" in denied.stderr
    out = world.ok(env=env)
    assert [t["tenant"] for t in out["tenants"]] == ["globex"]
    assert world.active("acme") == 0 and world.active("globex") == 6
