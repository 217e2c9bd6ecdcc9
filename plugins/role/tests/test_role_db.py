"""Unit tests of ``scaiwave_role.adapters.db`` and of the core's seeding under concurrency, on
SQLite and MariaDB.

The concurrency tests: transaction A takes its locks, then B starts in a thread. On MariaDB, A
commits only once B is seen waiting for a lock (``information_schema.INNODB_TRX``) or has
finished: with the locking reads B waits and then reads A's result; without them B would finish
first and the assertion fails, whatever the timing. On SQLite transactions are serialized by
``BEGIN IMMEDIATE`` (B waits at its start), so there A commits straight away.
"""

from __future__ import annotations

import threading

from scaiwave_role.adapters import db

from scaiwave_cli import api

P = api.permissions


def test_participants_by_ref_ids_and_case_insensitive_emails(world):
    with world.store.session() as s:
        found = db.participants_by_ref(
            s, "tnt-acme", ["prt-bob", "Carol@ACME.test", "erin@beta.test", "prt-erin", "x@y"]
        )
    assert {ref: p.id for ref, p in found.items()} == {
        "prt-bob": "prt-bob",
        "Carol@ACME.test": "prt-carol",
    }


def test_participants_by_ref_in_chunks(world, monkeypatch):
    monkeypatch.setattr(db, "CHUNK", 2)
    refs = ["prt-alice", "prt-bob", "prt-carol", "dave@acme.test", "alice@acme.test"]
    with world.store.session() as s:
        found = db.participants_by_ref(s, "tnt-acme", refs)
    assert set(found) == set(refs)


def test_counts_group_by_role(world):
    world.member("acme", "ops", "alice", "editor")
    world.member("acme", "design", "bob", "editor")
    with world.store.session() as s:
        assert db.member_counts(s, ["tnt-acme"]) == {"owner": (1, 1), "editor": (2, 2)}
        assert db.member_counts(s) == {"owner": (2, 2), "editor": (2, 2)}
        assert db.member_counts(s, []) == {}


def _wait_until_blocked_or_done(world, thread) -> None:
    """MariaDB: return once ``thread``'s transaction waits for a lock, or the thread ended."""
    if world.store.dialect == "sqlite":
        return
    from sqlalchemy import text

    with world.store.engine.connect() as conn:
        # INNODB_TRX is a cache refreshed only when not read for 100 ms: poll slower than that
        for _ in range(300):  # ~60 s at most
            waiting = conn.execute(
                text(
                    "SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                    "WHERE trx_state = 'LOCK WAIT'"
                )
            ).scalar()
            conn.rollback()
            if waiting or not thread.is_alive():
                return
            thread.join(0.2)
    raise AssertionError("the second transaction neither waited nor finished")


def _run(target):
    """Run ``target`` in a thread; returns (thread, box) where box gets the result or error."""
    box = {}

    def body():
        try:
            box["result"] = target()
        except BaseException as exc:  # surfaced by the test
            box["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    return thread, box


def test_two_concurrent_owner_removals_cannot_both_pass(world):
    world.member("acme", "design", "bob", "owner")
    ws = "ws-acme-design"

    def remove_if_not_last(session, pid):
        owners = db.active_owners(session, [ws])[ws] - {pid}
        if not owners:
            return "refused"
        db.remove_member(session, ws, pid)
        return "removed"

    with world.store.transaction() as a:
        assert remove_if_not_last(a, "prt-alice") == "removed"

        def b():
            with world.store.transaction() as s:
                return remove_if_not_last(s, "prt-bob")

        thread, box = _run(b)
        _wait_until_blocked_or_done(world, thread)
    thread.join(60)
    assert box == {"result": "refused"}
    assert world.members() == {"prt-bob": "owner"}


def test_two_concurrent_tenant_admin_removals_cannot_both_pass(world):
    for pid in ("prt-alice", "prt-bob"):
        world.json("role", "assign", pid, "tenant_admin", "--tenant", "acme")
    role_id = world.scalar("SELECT id FROM roles WHERE name = 'tenant_admin'")

    def remove_if_not_last(session, pid):
        if not db.active_holders(session, "tnt-acme", role_id) - {pid}:
            return "refused"
        db.remove_assignment(session, db.find_assignment(session, pid, role_id, None).id)
        return "removed"

    with world.store.transaction() as a:
        assert remove_if_not_last(a, "prt-alice") == "removed"

        def b():
            with world.store.transaction() as s:
                return remove_if_not_last(s, "prt-bob")

        thread, box = _run(b)
        _wait_until_blocked_or_done(world, thread)
    thread.join(60)
    assert box == {"result": "refused"}
    assert world.assignments() == {("prt-bob", "tenant_admin", None)}


def test_concurrent_first_uses_seed_the_builtins_once(world):
    with world.store.transaction() as a:
        assert P.ensure_builtin_roles(a) == len(P.BUILTIN_ROLES)

        def b():
            with world.store.transaction() as s:
                return P.ensure_builtin_roles(s)

        thread, box = _run(b)
        _wait_until_blocked_or_done(world, thread)
    thread.join(60)
    assert box == {"result": 0}
    count = world.scalar("SELECT COUNT(*) FROM roles WHERE tenant_id IS NULL")
    assert count == len(P.BUILTIN_ROLES)
