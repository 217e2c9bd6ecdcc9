"""`scaiwave sync status --write-env shared/.env` in a directory others can write to, with
symlinks planted at every temp name the .env writer ever used (issue 14, point 4)."""

from __future__ import annotations

import os
import stat

import pytest
from scaiwave_sync.testing import FakeScaiKey

from scaiwave_cli import files


@pytest.fixture
def scaikey():
    server = FakeScaiKey(tenants=1, users_per_tenant=3, groups_per_tenant=1)
    server.start()
    yield server
    server.stop()


REGISTER = [
    "--url", "https://wave.example.com", "--email", "ops@example.com",
    "--scope", "GLOBAL", "--name", "ScaiWave test",
]  # fmt: skip


def test_planted_symlinks_do_not_receive_the_credentials(cli, store, scaikey, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # writable by others, as in the probe
    victim = tmp_path / "attacker.txt"
    victim.write_text("the attacker's file\n")
    pid = os.getpid()  # CliRunner runs in this process: the old code's names are known exactly
    names = [f"..env.{p}.tmp" for p in range(pid, pid + 64)]
    names += [f"..env.bak.{p}.tmp" for p in range(pid, pid + 64)]
    names += [files.temp_name(".env", token=f"{n:08x}") for n in range(16)]
    names += [files.temp_name(".env.bak", token=f"{n:08x}") for n in range(16)]
    for name in names:
        os.symlink(victim, shared / name)
    assert cli.invoke("sync", "register", "--scaikey-url", scaikey.url, *REGISTER).exit_code == 0
    (request_id,) = scaikey.registrations
    creds = scaikey.approve(request_id)

    result = cli.invoke("sync", "status", "--no-drift", "--write-env", str(shared / ".env"))

    assert result.exit_code == 0, result.output
    assert victim.read_text() == "the attacker's file\n"
    env = shared / ".env"
    assert stat.S_ISREG(os.lstat(env).st_mode)
    assert stat.S_IMODE(os.lstat(env).st_mode) == 0o600
    assert f"SCAIKEY_CLIENT_SECRET={creds['client_secret']}" in env.read_text()
    for name in names:  # every planted link is still a link to the attacker's file
        assert os.readlink(shared / name) == str(victim)
