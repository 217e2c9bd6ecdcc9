"""Issue 13, point 6: `room export --sign` signs as a named server, never as "localhost": with
SCAIWAVE_SERVER_NAME unset or localhost it refuses (exit 2, SW_SERVER_NAME_UNSET, nothing
written) unless --server-name names the server, which the bundle then carries. SQLite and
MariaDB through ``db_url``."""

from __future__ import annotations

import json

import pytest
from scaiwave_room.testing import sample_room_events


@pytest.mark.parametrize("name", ["", "localhost"])
def test_sign_needs_a_server_name(two_tenants, tmp_path, name):
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:2])
    _, public = w.federation_key()
    env = {"SCAIWAVE_SERVER_NAME": name}
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "signed.zip"
    refused = w.cli.invoke("--output", "json", "room", "export", room, "--tenant", "acme",
                           "--sign", "--to", str(target), env=env)  # fmt: skip
    assert refused.exit_code == 2, refused.output
    error = json.loads(refused.stderr.splitlines()[-1])["error"]
    assert error["code"] == "SW_SERVER_NAME_UNSET" and "--server-name" in error["hint"]
    assert list((tmp_path / "out").iterdir()) == []  # not even a temporary file

    signed = w.cli.invoke("room", "export", room, "--tenant", "acme", "--sign",
                          "--server-name", "wave.example.org", env=env)  # fmt: skip
    assert signed.exit_code == 0, signed.stderr
    verified = w.cli.invoke("--output", "json", "room", "verify", "--public-key", public,
                            input=signed.stdout_bytes)  # fmt: skip
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["source_server"] == "wave.example.org"

    unsigned = w.cli.invoke("room", "export", room, "--tenant", "acme", env=env)
    assert unsigned.exit_code == 0, unsigned.stderr  # the rule is --sign's


def test_a_malformed_server_name_is_refused(two_tenants):
    w = two_tenants
    room = w.room("acme", events=sample_room_events()[:1])
    w.federation_key()
    result = w.cli.invoke("room", "export", room, "--tenant", "acme", "--sign",
                          "--server-name", "https://wave.example.org/")  # fmt: skip
    assert result.exit_code == 2 and "SW_SERVER_NAME_INVALID" in result.stderr
    assert result.stdout_bytes == b""
