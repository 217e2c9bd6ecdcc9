"""The sync respects what an operator decided (issue 16), through the CLI on SQLite and MariaDB
against the loopback fake ScaiKey:

- a participant deactivated with `admin deactivate-participant --force-local` (operator_hold)
  stays deactivated although ScaiKey says active (the Rocket.Chat failure), counted and listed
  as ``held``; after `admin reactivate-participant` the sync mirrors ScaiKey again;
- an erased participant (erased_at) is never updated, reactivated or deactivated;
- a tenant being deleted (status ``deleting``) is skipped; a suspended one is synced as before.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from scaiwave_cli import api

USER1 = "usr_acme_000001"
ROW_FIELDS = ("display_name", "email", "scaikey_user_id", "active", "deactivated_at",
              "last_synced_at")  # fmt: skip


def _admin(world, command, pid, *extra):
    result = world.cli.invoke("--output", "json", "admin", command, pid, "--tenant", "acme", *extra)
    return result


def test_force_local_survives_the_next_sync_until_reactivated(world, db_url):
    world.link("acme")
    world.ok()
    pid = world.participant(USER1).id

    refused = _admin(world, "deactivate-participant", pid, "--yes")
    assert refused.exit_code == 1, refused.output
    assert json.loads(refused.stderr.splitlines()[-1])["error"]["code"] == (
        "SW_PARTICIPANT_SCAIKEY_OWNED"
    )
    done = _admin(world, "deactivate-participant", pid, "--force-local", "--yes")
    assert done.exit_code == 0, done.output
    row = world.participant(USER1)
    assert not row.active and row.operator_hold

    # ScaiKey still says ACTIVE (and renames them): the sync keeps them deactivated
    world.fake.user(USER1)["display_name"] = "Ann Renamed"
    result = world.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["totals"]["reactivate"] == 0 and out["totals"]["held"] == 1
    assert out["tenants"][0]["held"] == 1
    assert out["held"] == [{"tenant": "acme", "id": pid, "scaikey_user_id": USER1}]
    assert "operator hold" in result.stderr and "reactivate-participant" in result.stderr
    row = world.participant(USER1)
    assert not row.active and row.operator_hold and row.display_name == "Ann Renamed"

    # a second run: still held, nothing to change
    again = world.ok()
    assert again["changes"] == 0 and again["totals"]["held"] == 1
    assert not world.participant(USER1).active
    # the table and --details name the hold too
    table = world.cli.invoke("sync", "--dry-run")
    assert table.exit_code == 0, table.output
    header = table.stdout.splitlines()[0]
    assert "held" in header.split()
    details = world.ok("--details", "--dry-run")["details"]
    assert {"tenant": "acme", "action": "hold", "scaikey_id": USER1, "local_id": pid,
            "detail": "operator hold: kept deactivated"} in details  # fmt: skip

    back = _admin(world, "reactivate-participant", pid, "--yes")
    assert back.exit_code == 0, back.output
    row = world.participant(USER1)
    assert row.active and not row.operator_hold
    assert world.ok()["totals"]["held"] == 0
    # from now on the sync mirrors ScaiKey again: disabled there, deactivated here
    world.fake.user(USER1)["status"] = "SUSPENDED"
    out = world.ok()
    assert out["totals"]["deactivate"] == 1 and not world.participant(USER1).active
    world.fake.user(USER1)["status"] = "ACTIVE"
    assert world.ok()["totals"]["reactivate"] == 1 and world.participant(USER1).active


def test_an_inactive_held_participant_does_not_count_against_the_valves(world, db_url):
    world.link("acme")
    world.ok()
    for n in (1, 2, 3):
        pid = world.participant(f"usr_acme_00000{n}").id
        assert _admin(world, "deactivate-participant", pid, "--force-local", "--yes").exit_code == 0
    out = world.ok()
    assert out["totals"]["held"] == 3 and out["totals"]["deactivate"] == 0


def _erase(world, scaikey_user_id, *, keep_link=False):
    """The tombstone `admin erase-participant` leaves (SPEC16), written directly."""
    m = world.m
    now = api.store.utcnow()
    with world.store.transaction() as s:
        s.execute(
            update(m.Participant)
            .where(m.Participant.scaikey_user_id == scaikey_user_id)
            .values(
                display_name="Erased participant", email=None, fqid=None, avatar_url=None,
                scaikey_user_id=scaikey_user_id if keep_link else None, active=False,
                deactivated_at=now, erased_at=now, operator_hold=False,
            )
        )  # fmt: skip


def _row(world, pid):
    with world.store.session() as s:
        row = s.get(world.m.Participant, pid)
        return {c: getattr(row, c) for c in ROW_FIELDS}


def test_the_sync_never_touches_an_erased_participant(world, db_url):
    world.link("acme")
    world.ok()
    tombstone = world.participant("usr_acme_000002").id
    kept_link = world.participant("usr_acme_000004").id
    _erase(world, "usr_acme_000002")
    _erase(world, "usr_acme_000004", keep_link=True)  # an erasure that kept the link
    before = (_row(world, tombstone), _row(world, kept_link))
    world.fake.user("usr_acme_000004")["display_name"] = "Back Again"  # still ACTIVE there
    world.fake.user("usr_acme_000002")["status"] = "SUSPENDED"
    out = world.ok()
    assert out["totals"]["reactivate"] == 0 and out["totals"]["update"] == 0
    assert (_row(world, tombstone), _row(world, kept_link)) == before
    # gone from ScaiKey: not deactivated again, not audited
    world.fake.remove_user("usr_acme_000004")
    out = world.ok()
    assert out["totals"]["deactivate"] == 0 and _row(world, kept_link) == before[1]
    m = world.m
    with world.store.session() as s:
        targets = set(
            s.scalars(
                select(m.AuditEntry.target).where(
                    m.AuditEntry.action.in_(["participant.deactivate", "participant.reactivate"])
                )
            )
        )
    assert not targets & {f"participant:{tombstone}", f"participant:{kept_link}"}


def test_a_tenant_being_deleted_is_skipped_a_suspended_one_is_synced(world, db_url):
    world.link("acme", "globex")
    m = world.m
    with world.store.transaction() as s:
        s.execute(update(m.Tenant).where(m.Tenant.slug == "globex").values(status="deleting"))
        s.execute(update(m.Tenant).where(m.Tenant.slug == "acme").values(status="suspended"))
    result = world.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [t["tenant"] for t in out["tenants"]] == ["acme"]
    assert any("globex" in w and "deleting" in w for w in out["warnings"])
    assert world.active("acme") == 6 and world.active("globex") == 0
    # named on its own: skipped too, with the same warning
    only = world.sync("--tenant", "globex")
    assert only.exit_code == 0, only.output
    out = json.loads(only.stdout)
    assert out["tenants"] == [] and any("deleting" in w for w in out["warnings"])
    assert world.count(m.Participant, m.Participant.tenant_id == "tnt-globex") == 0


def test_a_tenant_whose_deletion_starts_during_the_run_gets_nothing_more(
    world, db_url, monkeypatch
):
    from scaiwave_sync.usecases import reconcile

    real_collect = reconcile.collect
    m = world.m

    def collect_then_delete_starts(*args, **kwargs):
        collected = real_collect(*args, **kwargs)  # planned while acme was still active
        with world.store.transaction() as s:
            s.execute(update(m.Tenant).where(m.Tenant.slug == "acme").values(status="deleting"))
        return collected

    monkeypatch.setattr(reconcile, "collect", collect_then_delete_starts)
    world.link("acme")
    result = world.sync()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert any("acme" in w and "began to be deleted" in w for w in out["warnings"])
    assert world.count(m.Participant, m.Participant.tenant_id == "tnt-acme") == 0
