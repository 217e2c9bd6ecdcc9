"""`admin media purge-orphans`: exactly the files no row references, never one younger than the
grace period; plan, --dry-run, confirmation, audit, scope (both engines through ``db_url``)."""

from __future__ import annotations

import json
import os
import time

import pytest

from scaiwave_cli import api

m = api.store.models
HOUR = 3600


@pytest.fixture
def media(cli, store, factory):
    """acme: one referenced file, two old orphans (what a killed import leaves), one young
    orphan; globex: one old orphan; a stale temporary file of a killed writer."""
    acme = factory.tenant("acme", scaikey_tenant_id="tnt_acme")
    factory.tenant("globex", scaikey_tenant_id="tnt_globex")
    ada = factory.participant(acme, "ada")
    room = factory.room(acme, factory.workspace(acme, "general", owner=ada), members=[ada])
    ms = store.media
    kept, _ = ms.put_bytes("tnt-acme", b"referenced" * 10)
    with store.transaction() as s:
        s.add(m.Media(id="med-1", tenant_id="tnt-acme", sha256=kept, name="k.bin", size=100,
                      storage_key=ms.storage_key("tnt-acme", kept), room_id=room.id))  # fmt: skip
    old = [ms.put_bytes("tnt-acme", b"orphan-%d" % i)[0] for i in range(2)]
    young, _ = ms.put_bytes("tnt-acme", b"young orphan")
    other, _ = ms.put_bytes("tnt-globex", b"globex orphan")
    stale = ms.root / ".incoming-killed"
    stale.write_bytes(b"half")
    past = time.time() - 2 * HOUR
    for tenant, sha in [("tnt-acme", kept), *[("tnt-acme", s) for s in old],
                        ("tnt-globex", other)]:  # fmt: skip
        os.utime(ms.path_for(tenant, sha), (past, past))
    os.utime(stale, (past, past))
    return {"kept": kept, "old": old, "young": young, "other": other, "stale": stale, "ms": ms}


def _run(cli, *args, env=None):
    return cli.invoke("--output", "json", "admin", "media", "purge-orphans", *args, env=env)


def test_dry_run_lists_paths_and_bytes_and_removes_nothing(cli, media):
    result = _run(cli, "--tenant", "acme", "--dry-run")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert sorted(r["sha256"] for r in rows) == sorted(media["old"])
    assert all(os.path.exists(r["path"]) and r["bytes"] == 8 for r in rows)
    assert "2 orphaned files (16 bytes); 1 younger than 1h kept" in result.stderr


def test_removes_exactly_the_old_orphans_and_audits(cli, store, media):
    ms = media["ms"]
    result = _run(cli, "--tenant", "acme")
    assert result.exit_code == 2 and "SW_CONFIRMATION_REQUIRED" in result.stderr
    result = _run(cli, "--tenant", "acme", "--yes")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["removed"], record["bytes_freed"], record["kept_young"]) == (2, 16, 1)
    assert not any(ms.exists("tnt-acme", sha) for sha in media["old"])
    assert ms.exists("tnt-acme", media["kept"]) and ms.exists("tnt-acme", media["young"])
    assert ms.exists("tnt-globex", media["other"]) and media["stale"].exists()  # other scope
    with store.session() as s:
        entry = s.query(m.AuditEntry).filter_by(action="media.purge_orphans").one()
    assert entry.details["files"] == 2 and entry.tenant_id == "tnt-acme"


def test_every_tenant_needs_a_platform_admin_and_takes_stale_temporary_files(
    cli, media, admin_token
):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    result = _run(cli, "--yes", env=env)
    assert result.exit_code == 3
    result = _run(cli, "--tenant", "globex", "--yes", env=env)
    assert result.exit_code == 3
    result = _run(cli, "--older-than", "soon", "--yes")
    assert result.exit_code == 1 and "SW_DURATION_INVALID" in result.stderr
    result = _run(cli, "--yes")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["removed"] == 4  # 2 acme, 1 globex, the temporary file
    assert not media["stale"].exists()
    assert media["ms"].exists("tnt-acme", media["young"])
    # a grace period of 0 takes the young one too; the referenced file always stays
    result = _run(cli, "--older-than", "0s", "--yes")
    assert json.loads(result.stdout)["removed"] == 1
    assert media["ms"].exists("tnt-acme", media["kept"])
