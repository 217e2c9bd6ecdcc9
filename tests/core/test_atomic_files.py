"""The one atomic-write helper (``api.atomic_write``/``api.atomic_writer``) against a hostile
directory: planted symlinks at every temp name an old version used or this one will use, a
symlink at the target itself, and partial files left by writers killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from scaiwave_cli import api, files


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def plant(directory, names, victim) -> None:
    for name in names:
        link = directory / name
        if not os.path.lexists(link):
            os.symlink(victim, link)


def old_names(name: str) -> list[str]:
    """Every temp name the code before issue 14 used for ``name`` (sync's write_private:
    ``.<name>.<pid>.tmp``; the cache: ``<name>.<pid>.tmp``) for this pid and the next ones."""
    pid = os.getpid()
    return [f".{name}.{p}.tmp" for p in range(pid, pid + 64)] + [
        f"{name}.{p}.tmp" for p in range(pid, pid + 64)
    ]


def test_planted_symlinks_at_every_temp_name_are_never_written_through(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    victim = tmp_path / "attacker-owned.txt"
    victim.write_text("the attacker's file")
    tokens = iter(f"{n:08x}" for n in range(1000))
    upcoming = [files.temp_name(".env", token=f"{n:08x}") for n in range(8)]
    monkeypatch.setattr(files, "_token", lambda: next(tokens))
    plant(shared, old_names(".env") + upcoming, victim)

    api.atomic_write(shared / ".env", "SCAIKEY_CLIENT_SECRET=s3cret\n")

    assert victim.read_text() == "the attacker's file"
    target = shared / ".env"
    assert stat.S_ISREG(os.lstat(target).st_mode)
    assert stat.S_IMODE(os.lstat(target).st_mode) == 0o600
    assert target.read_text() == "SCAIKEY_CLIENT_SECRET=s3cret\n"
    # the eight planted temp names were skipped (O_EXCL), the ninth was used and renamed away
    assert not os.path.lexists(shared / files.temp_name(".env", token=f"{8:08x}"))


def test_the_temp_file_has_the_final_mode_from_its_creation(tmp_path, monkeypatch):
    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if str(path).endswith(".tmp"):
            seen.append((flags, stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)
    try:
        api.atomic_write(tmp_path / "public.json", "{}", mode=0o644)
        api.atomic_write(tmp_path / "secret.env", "K=1\n")
    finally:
        os.umask(old)
    (public_flags, public_mode), (secret_flags, secret_mode) = seen
    for flags in (public_flags, secret_flags):
        assert flags & os.O_EXCL and flags & os.O_CREAT and flags & os.O_NOFOLLOW
    assert (public_mode, secret_mode) == (0o644, 0o600)


def test_an_own_symlink_at_the_target_is_kept_and_its_file_replaced(tmp_path):
    real = tmp_path / "etc" / "scaiwave.env"
    real.parent.mkdir()
    real.write_text("OLD=1\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    api.atomic_write(link, "NEW=1\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "NEW=1\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["scaiwave.env"]


def test_a_symlink_at_the_target_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    link = tmp_path / ".env"
    link.symlink_to(victim)
    owner = os.lstat(link).st_uid
    # pretend this process runs as another, unprivileged user than the link's owner
    monkeypatch.setattr(files, "_trusted_owners", lambda: {owner + 4242})
    with pytest.raises(api.DomainError) as caught:
        api.atomic_write(link, "SECRET=1\n")
    assert caught.value.code == "SW_FILE_UNSAFE_SYMLINK"
    assert str(link) in caught.value.format_message()
    assert victim.read_text() == "theirs" and link.is_symlink()


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from scaiwave_cli import api
    with api.atomic_writer(sys.argv[1]) as out:
        out.write(b"half a bundle")
        out.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_partial_left_by_a_writer_killed_with_sigkill_is_removed_by_the_next_write(
    tmp_path, capsys
):
    target = tmp_path / "again.zip"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)])
    assert killed.returncode == -signal.SIGKILL
    (partial,) = [p for p in tmp_path.iterdir()]
    assert partial.name.startswith(".again.zip.") and partial.name.endswith(".tmp")
    # a partial of a live process (this one) and another file's partial are left alone
    live = tmp_path / files.temp_name("again.zip", token="0000beef")
    live.write_bytes(b"being written")
    other = tmp_path / files.temp_name("other.zip", pid=dead_pid(), token="0000beef")
    other.write_bytes(b"another target's")

    api.atomic_write(target, b"whole bundle")

    assert not partial.exists()
    assert live.exists() and other.exists()
    assert target.read_bytes() == b"whole bundle"
    err = capsys.readouterr().err
    assert f"removed {partial}" in err and "no longer running" in err


def test_room_export_to_a_file_cleans_a_dead_exports_partial(tmp_path, cli, factory):
    acme = factory.tenant("acme")
    ann = factory.participant(acme, "ann")
    ws = factory.workspace(acme, "general", owner=ann)
    room = factory.room(acme, ws, members=[ann])
    factory.event(room, ann, body="hi")
    shared = tmp_path / "shared"
    shared.mkdir()
    stale = shared / files.temp_name("again.zip", pid=dead_pid(), token="1234abcd")
    stale.write_bytes(b"PK\x03\x04 half of an export killed by SIGKILL")
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    plant(shared, old_names("again.zip") + [f".again.zip.partial-{os.getpid()}"], victim)

    result = cli.invoke(
        "--output", "json", "room", "export", room.id, "--tenant", "acme",
        "--to", str(shared / "again.zip"),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 1
    assert not stale.exists()
    assert f"removed {stale}" in result.stderr
    assert victim.read_text() == "untouched"
    out = shared / "again.zip"
    assert stat.S_ISREG(os.lstat(out).st_mode) and stat.S_IMODE(os.lstat(out).st_mode) == 0o600
