"""Fault modes of the loopback fake ScaiKey: every one ends with a retry that succeeds, or with
exit 2 and zero deactivations. Also the safety valves and the empty-listing guard."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def synced(world, db_url):
    """acme and globex mirrored once; then ScaiKey loses user 5 of acme (a successful listing
    would deactivate it)."""
    world.link("acme", "globex")
    world.ok()
    world.fake.remove_user("usr_acme_000005")
    return world


def deactivated(world) -> int:
    m = world.m
    return world.count(m.Participant, m.Participant.active.is_(False))


@pytest.mark.parametrize(
    "fault",
    [
        dict(kind="status", path="/users/", status=429, retry_after="0", times=2),
        dict(kind="status", path="/groups/", status=503, times=2),
        dict(kind="drop", path="/users/", page=2, times=1),
        dict(kind="delay", path="/tenants/", delay=0.6, times=1),
        dict(kind="status", path="/oauth/token", status=500, times=1),
    ],
    ids=["429-retry-after", "503", "dropped-connection", "slow-response", "token-500"],
)
def test_transient_faults_are_retried_and_the_run_succeeds(synced, fault):
    synced.fake.add_fault(**fault)
    out = synced.ok(env={"SCAIWAVE_SYNC_HTTP_TIMEOUT": "0.3"})
    assert out["retries"] >= 1
    assert out["totals"]["deactivate"] == 1
    assert not synced.participant("usr_acme_000005").active


@pytest.mark.parametrize(
    "fault, code",
    [
        (
            dict(kind="status", path="/users/", page=2, status=500, times=None),
            "SW_SCAIKEY_UNREACHABLE",
        ),
        (dict(kind="drop", path="/members", times=None), "SW_SCAIKEY_UNREACHABLE"),
        (
            dict(kind="status", path="/users/", status=429, retry_after="0", times=None),
            "SW_SCAIKEY_UNREACHABLE",
        ),
        (
            dict(kind="shift", path="/users/", page=2, tenant="tnt_globex", times=None),
            "SW_SCAIKEY_LISTING_INCONSISTENT",
        ),
        (
            dict(kind="status", path="/groups/", status=404, times=None),
            "SW_SCAIKEY_REQUEST_REJECTED",
        ),
    ],
    ids=["page-errors-half-way", "members-dropped", "429-forever", "total-shifts", "404"],
)
def test_persistent_faults_exit_2_and_deactivate_nothing(synced, fault, code):
    synced.fake.add_fault(**fault)
    result = synced.sync()
    assert result.exit_code == 2, result.output
    assert code in result.stderr
    assert deactivated(synced) == 0
    m = synced.m
    assert synced.count(m.SyncRun, m.SyncRun.status == "failed") == 1
    assert synced.count(m.SyncLock) == 0  # released


def test_slow_responses_beyond_every_retry_exit_2(synced):
    synced.fake.add_fault("delay", path="/tenants/", delay=0.4, times=None)
    result = synced.sync(env={"SCAIWAVE_SYNC_HTTP_TIMEOUT": "0.1", "SCAIWAVE_SYNC_RETRIES": "2"})
    assert result.exit_code == 2 and "ReadTimeout" in result.stderr
    assert synced.fake.url in result.stderr
    assert deactivated(synced) == 0


def test_unreachable_scaikey_exit_2_naming_the_url(world, db_url):
    world.link("acme")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = world.sync(env={"SCAIKEY_BASE_URL": url})
    assert result.exit_code == 2 and "SW_SCAIKEY_UNREACHABLE" in result.stderr
    assert url in result.stderr


def test_expired_token_is_refreshed_once(synced):
    synced.fake.token_ttl = 3600
    original = synced.fake._admin
    calls = []

    def expire_once(path, query, fault):
        if not calls:
            calls.append(1)
            synced.fake.expire_tokens()
            return 401, {}, {"detail": "expired"}
        return original(path, query, fault)

    synced.fake._admin = expire_once
    out = synced.ok()
    assert out["totals"]["deactivate"] == 1


def test_empty_listing_for_a_tenant_with_participants_is_refused(synced):
    synced.fake.add_fault("empty", path="/users/", tenant="tnt_acme", times=None)
    result = synced.sync()
    assert result.exit_code == 2 and "SW_SYNC_EMPTY_LISTING" in result.stderr
    assert "acme (6 participants)" in result.stderr
    assert deactivated(synced) == 0
    # the operator confirms: the tenant really is empty (and the mass valve too)
    out = synced.ok("--allow-empty", "--allow-mass-deactivation")
    assert (out["totals"]["deactivate"], out["totals"]["kept_last_admin"]) == (5, 1)
    assert synced.active("acme") == 1  # its last tenant_admin stays


def test_mass_deactivation_is_refused_unless_allowed(synced):
    for n in range(1, 5):
        synced.fake.remove_user(f"usr_globex_{n:06d}")
    result = synced.sync(env={"SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": "10"})
    assert result.exit_code == 1, result.output
    assert "SW_SYNC_MASS_DEACTIVATION" in result.stderr
    assert "globex: 4 of 6 (limit 1)" in result.stderr
    assert deactivated(synced) == 0
    out = synced.ok("--allow-mass-deactivation", env={"SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": "10"})
    assert out["totals"]["deactivate"] == 5


def test_absolute_deactivation_cap(synced):
    for n in range(1, 4):
        synced.fake.remove_user(f"usr_globex_{n:06d}")
    result = synced.sync(
        env={"SCAIWAVE_SYNC_MAX_DEACTIVATE": "2", "SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": "100"}
    )
    assert result.exit_code == 1 and "(limit 2)" in result.stderr
