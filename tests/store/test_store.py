"""The store on both engines: schema vs migrations, URLs and errors, streaming, positions,
media, audit. Everything through what a user or a plugin sees."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from scaiwave_cli import audit
from scaiwave_cli import store as st
from scaiwave_cli.access import Actor
from scaiwave_cli.errors import DomainError
from scaiwave_cli.store import media, migrate
from scaiwave_cli.store import models as m


def test_head_revision_constant_matches_alembic():
    assert st.HEAD_REVISION == migrate.head()


def test_models_and_migrations_agree(store):
    # the `alembic check` comparison, on each engine
    assert migrate.diff(store.engine) == []


@pytest.mark.parametrize(
    "given, expected",
    [
        ("mysql+aiomysql://u:p@h/db", "mysql+pymysql://u:p@h/db"),
        ("mysql+asyncmy://u:p@h:3307/db?charset=utf8mb4", "mysql+pymysql://u:p@h:3307/db?charset=utf8mb4"),
        ("sqlite+aiosqlite:///x.db", "sqlite:///x.db"),
        ("mysql+pymysql://u:p@h/db", "mysql+pymysql://u:p@h/db"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
    ],
)  # fmt: skip
def test_async_urls_are_rewritten(given, expected):
    assert st.normalize_url(given)[0] == expected


def test_unknown_driver_is_a_config_error(cli):
    result = cli.invoke("db", "current", env={"SCAIWAVE_DB_URL": "postgresql://u:hunter22@h/db"})
    assert result.exit_code == 2
    assert "SW_DB_DRIVER_UNKNOWN" in result.output
    assert "hunter22" not in result.output


def test_embedded_default_is_created_and_migrated(cli):
    data = cli.json("db", "current")
    assert data["status"] == "up-to-date" and data["dialect"] == "sqlite"
    assert (cli.home / "scaiwave.db").exists()
    import sqlite3

    conn = sqlite3.connect(cli.home / "scaiwave.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM stream_counter WHERE id = 1").fetchone() == (0,)


def test_server_database_is_never_migrated_implicitly(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    result = cli.invoke("admin", "--help", env={"SCAIWAVE_DB_URL": url})  # help never opens it
    assert result.exit_code == 0
    result = cli.invoke("db", "check", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2
    assert "SW_DB_SCHEMA_BEHIND" in result.output and "scaiwave db upgrade" in result.output
    up = cli.json("db", "upgrade", "--dry-run", env={"SCAIWAVE_DB_URL": url})
    assert up["result"] == "would upgrade" and up["revision"] is None
    up = cli.json("db", "upgrade", env={"SCAIWAVE_DB_URL": url})
    assert up == {"database": url, "from": None, "to": "0004", "result": "upgraded",
                  "revision": "0004"}  # fmt: skip
    assert cli.json("db", "upgrade", env={"SCAIWAVE_DB_URL": url})["result"] == "unchanged"
    assert cli.json("db", "check", env={"SCAIWAVE_DB_URL": url})["status"] == "ok"


def test_fresh_mariadb_database_is_behind_then_upgraded(cli, mariadb_server):
    url = mariadb_server.create_database("scaiwave_fresh")
    result = cli.invoke("--output", "json", "db", "check", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2
    assert '"SW_DB_SCHEMA_BEHIND"' in result.stderr
    assert mariadb_server.password not in result.output
    assert cli.json("db", "upgrade", env={"SCAIWAVE_DB_URL": url})["result"] == "upgraded"
    assert cli.json("db", "check", env={"SCAIWAVE_DB_URL": url})["status"] == "ok"


def test_async_mariadb_url_works_and_debug_says_rewritten(cli, mariadb_server):
    url = mariadb_server.create_database("scaiwave_async").replace("+pymysql", "+aiomysql")
    result = cli.invoke("--debug", "db", "upgrade", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 0, result.output
    assert "rewritten to mysql+pymysql" in result.stderr
    assert mariadb_server.password not in result.output


def test_wrong_credentials_exit_2_with_password_masked(cli, mariadb_server):
    url = mariadb_server.url("scaiwave_test").replace(mariadb_server.password, "wrong-secret")
    result = cli.invoke("db", "current", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2
    assert "SW_DB_AUTH_FAILED" in result.output
    assert "wrong-secret" not in result.output and "***" in result.output


def test_unreachable_server_exit_2(cli):
    url = "mysql+pymysql://u:topsecret@127.0.0.1:9/scaiwave"
    result = cli.invoke("db", "current", env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2
    assert "SW_DB_UNREACHABLE" in result.output and "127.0.0.1:9" in result.output
    assert "topsecret" not in result.output


def _tenant(session, slug="acme"):
    t = m.Tenant(id=st.new_id("tnt"), slug=slug, name=slug.title(), scaikey_tenant_id=f"sk-{slug}")
    session.add(t)
    session.flush()
    return t


def _room(session, tenant):
    p = m.Participant(id=st.new_id("prt"), tenant_id=tenant.id, display_name="Ann")
    ws = m.Workspace(id=st.new_id("ws"), tenant_id=tenant.id, slug="general", name="General")
    session.add_all([p, ws])
    session.flush()
    room = m.Room(id=st.new_id("room"), tenant_id=tenant.id, workspace_id=ws.id, name="R",
                  creator_id=p.id)  # fmt: skip
    session.add(room)
    session.flush()
    return p, room


def test_unique_slug_and_json_and_utc_round_trip(store):
    with store.transaction() as s:
        t = _tenant(s)
        t.features = {"prompt_studio": {"enabled": True}}
    with store.session() as s:
        got = s.scalar(select(m.Tenant).where(m.Tenant.slug == "acme"))
        assert got.features == {"prompt_studio": {"enabled": True}}
        assert got.created_at.tzinfo is dt.UTC
        assert abs(got.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    with pytest.raises(IntegrityError), store.transaction() as s:
        _tenant(s)


def test_foreign_keys_are_enforced(store):
    with pytest.raises(IntegrityError), store.transaction() as s:
        s.add(m.Participant(id="prt-x", tenant_id="tnt-missing", display_name="x"))
        s.flush()


def test_insert_batches_and_stream_in_order(store):
    with store.transaction() as s:
        t = _tenant(s)
        p, room = _room(s, t)
        positions = st.next_stream_positions(s, block=700)
        rows = (
            {"id": f"evt-{i:05d}", "tenant_id": t.id, "room_id": room.id, "sender_id": p.id,
             "event_type": "swp.room.message", "content": {"body": f"m{i}", "n": i},
             "stream_position": next(positions), "origin_ts": i, "created_at": st.utcnow(),
             "do_not_index": False}
            for i in range(5000)
        )  # fmt: skip
        assert st.insert_batches(s, m.Event, rows, batch_size=999) == 5000
    with store.session() as s:
        stmt = (
            select(m.Event.id, m.Event.content, m.Event.stream_position)
            .where(m.Event.room_id == room.id)
            .order_by(m.Event.stream_position)
        )
        got = list(st.stream(s, stmt, batch_size=500))
    assert [r.content["n"] for r in got] == list(range(5000))
    assert [r.stream_position for r in got] == list(range(1, 5001))


def test_stream_positions_continue_above_existing_events(store):
    with store.transaction() as s:
        t = _tenant(s)
        p, room = _room(s, t)
        s.add(m.Event(id="evt-a", tenant_id=t.id, room_id=room.id, sender_id=p.id,
                      event_type="x", content={}, stream_position=5000, origin_ts=0))  # fmt: skip
    with store.transaction() as s:
        first = list(zip(range(3), st.next_stream_positions(s), strict=False))
    with store.transaction() as s:
        second = next(st.next_stream_positions(s))
    assert [pos for _, pos in first] == [5001, 5002, 5003]
    assert second > 5003


def test_audit_row_commits_and_rolls_back_with_the_change(store):
    actor = Actor(name="local:ops", kind="local")
    with store.transaction() as s:
        t = _tenant(s)
        audit.record(s, actor, "tenant.create", "tenant:acme", tenant_id=t.id, details={"x": 1})
    with pytest.raises(RuntimeError), store.transaction() as s:
        _tenant(s, "beta")
        audit.record(s, actor, "tenant.create", "tenant:beta")
        raise RuntimeError("boom")
    with store.session() as s:
        rows = s.execute(select(m.AuditEntry.action, m.AuditEntry.target)).all()
        assert [tuple(r) for r in rows] == [("tenant.create", "tenant:acme")]
        assert s.scalar(select(func.count()).select_from(m.Tenant)) == 1


def test_empty_tables_between_tests(store):
    # the fixture hands every test an empty database on both engines
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Tenant)) == 0
        assert s.execute(text("SELECT value FROM stream_counter")).scalar() == 0


@pytest.mark.parametrize("slug", ["acme", "acme-eu-1", "a1b", "x" * 63])
def test_valid_slugs(slug):
    assert st.validate_slug(slug) == slug


@pytest.mark.parametrize("slug", ["ab", "Acme", "-acme", "acme-", "ac_me", "x" * 64, "", "a b"])
def test_invalid_slugs(slug):
    with pytest.raises(DomainError) as err:
        st.validate_slug(slug)
    assert err.value.code == "SW_SLUG_INVALID"


def test_media_store_is_atomic_and_verified(tmp_path):
    ms = media.LocalMediaStore(tmp_path / "media")
    data = b"hello media" * 1000
    sha = hashlib.sha256(data).hexdigest()
    assert ms.put_bytes("tnt-a", data, expected_sha256=sha) == (sha, len(data))
    assert ms.put_bytes("tnt-a", data) == (sha, len(data))  # stored once
    assert ms.read_bytes("tnt-a", sha) == data
    assert ms.storage_key("tnt-a", sha) == f"tnt-a/{sha[:2]}/{sha}"
    with pytest.raises(media.MediaCorrupt):
        ms.put_bytes(
            "tnt-a",
            b"other bytes",
            expected_sha256=sha.replace(sha[0], "0", 1) if sha[0] != "0" else "1" + sha[1:],
        )
    leftovers = [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert leftovers == [sha]
    ms.path_for("tnt-a", sha).write_bytes(b"tampered")
    with pytest.raises(media.MediaCorrupt):
        ms.read_bytes("tnt-a", sha)
    with pytest.raises(DomainError):
        ms.path_for("../etc", sha)


def test_read_session_does_not_block_a_writer(store):
    # A long read (an export, a jsonl listing) must not hold SQLite's write lock.
    with store.transaction() as s:
        _tenant(s)
    with store.read_session() as reader:
        rows = st.stream(reader, select(m.Tenant.slug), batch_size=1)
        assert next(rows).slug == "acme"
        with store.transaction() as writer:  # would wait 30 s for the lock on SQLite if held
            _tenant(writer, "beta")
        rows.close()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(m.Tenant)) == 2


def test_tenant_carries_its_partner_for_scope_checks(store):
    from scaiwave_cli.access import PARTNER

    with store.transaction() as s:
        s.add(m.Partner(id="ptn-1", slug="resell", name="Resell", scaikey_partner_id="prt_9"))
        t = _tenant(s)
        t.partner_id = "ptn-1"
        _tenant(s, "solo")
    with store.session() as s:
        tenants = {t.slug: t for t in s.scalars(select(m.Tenant))}
    actor = Actor(name="token:pa", kind="token", scope=PARTNER, partner_id="prt_9")
    assert actor.can_see_tenant(tenants["acme"])
    assert not actor.can_see_tenant(tenants["solo"])


def test_embedded_store_newer_than_the_cli_is_not_touched(cli):
    import sqlite3

    assert cli.json("db", "current")["status"] == "up-to-date"
    conn = sqlite3.connect(cli.home / "scaiwave.db")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    assert cli.json("db", "current")["status"] == "ahead"
    result = cli.invoke("db", "check")
    assert result.exit_code == 2 and "SW_DB_SCHEMA_AHEAD" in result.output
