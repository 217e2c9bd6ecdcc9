"""Atomic file writes: a reader sees the old file or the whole new one, never half of either.

The temporary file lives in the target's directory (so the rename stays on one file system), is
created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``: a name someone planted, a symlink above all,
is skipped, never opened) with the final mode from the start (a secret is never readable by
others, not even for a moment), fsynced, renamed over the target, and the directory is fsynced.
On an exception the temporary file is removed and the target is untouched.

Its name, ``.<target>.<pid>@<host>.<random>.tmp``, says who writes it: a write to a target first
removes the partial files of that target left by processes of this host that are gone (a
``room export --to`` killed by SIGKILL), with one line on stderr. Partials of live processes,
of other hosts, and files that are not regular files owned by this user are left alone.

A symlink at the target itself is followed when this user (or root) owns it (an operator's
``.env -> /etc/scaiwave/env`` stays a link; the file it names is replaced atomically, the
temporary file next to that file); a symlink owned by anyone else is refused
(``SW_FILE_UNSAFE_SYMLINK``, exit 1), nothing written. Directories on the path are not checked.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0)
_ATTEMPTS = 100
_MAX_HOPS = 40


def _token() -> str:
    return os.urandom(4).hex()


def _host() -> str:
    import socket

    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def temp_name(name: str, *, pid: int | None = None, token: str | None = None) -> str:
    """The temporary name used while writing the file ``name`` (a base name)."""
    pid = os.getpid() if pid is None else pid
    return f".{name}.{pid}@{_host()}.{token or _token()}.tmp"


def _trusted_owners() -> set[int]:
    return {os.geteuid(), 0}


def resolve_target(path: str) -> str:
    """``path``, or the file its symlinks (owned by this user or root) lead to. A symlink owned by
    another user: ``SW_FILE_UNSAFE_SYMLINK``."""
    import stat

    current = os.path.abspath(path)
    for _ in range(_MAX_HOPS):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return current
        if not stat.S_ISLNK(info.st_mode):
            return current
        if info.st_uid not in _trusted_owners():
            from scaiwave_cli.errors import SW_FILE_UNSAFE_SYMLINK, DomainError

            raise DomainError(
                f"refusing to write {path}: {current} is a symlink owned by another user "
                f"(uid {info.st_uid}) and could send the data anywhere",
                code=SW_FILE_UNSAFE_SYMLINK,
                hint=f"remove it (rm {current}) or write to a directory only you can change",
            )
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        current = os.path.abspath(current)
    from scaiwave_cli.errors import SW_FILE_UNSAFE_SYMLINK, DomainError

    raise DomainError(
        f"refusing to write {path}: too many levels of symlinks",
        code=SW_FILE_UNSAFE_SYMLINK,
        hint="point it at a regular file",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def clean_stale_partials(directory: str, name: str) -> list[str]:
    """Remove the partial files of ``name`` in ``directory`` left by dead processes of this host;
    each one is said on stderr. Returns the removed paths."""
    import stat
    import sys

    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)@{re.escape(_host())}\.[0-9a-f]+\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    me, owners = os.getpid(), {os.geteuid()}
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or int(match.group(1)) == me or _alive(int(match.group(1))):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid not in owners:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.path)
        print(
            f"removed {entry.path}: a partial write of {name} left by process "
            f"{match.group(1)}, which is no longer running",
            file=sys.stderr,
        )
    return removed


def _create_temp(directory: str, name: str, mode: int) -> tuple[int, str]:
    for _ in range(_ATTEMPTS):
        tmp = os.path.join(directory, temp_name(name))
        try:
            fd = os.open(tmp, _FLAGS, mode)
        except FileExistsError:
            continue  # planted (or a collision): never opened, try another name
        os.fchmod(fd, mode)  # the umask may have narrowed it; nothing is written yet
        return fd, tmp
    raise FileExistsError(f"no free temporary name for {name} in {directory}")


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """``with atomic_writer(path) as f: f.write(b"...")`` — replaced on success only."""
    target = resolve_target(os.fspath(path))
    directory = os.path.dirname(target) or "."
    name = os.path.basename(target)
    clean_stale_partials(directory, name)
    fd, tmp = _create_temp(directory, name, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write(path: str | os.PathLike, data: bytes | str, *, mode: int = 0o600) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically with ``mode``; return the path."""
    from pathlib import Path

    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_writer(path, mode=mode) as handle:
        handle.write(data)
    return Path(path)


def private_dir(path: str | os.PathLike) -> str:
    """Create the directory ``path`` and each missing parent with mode 0700, whatever the umask
    (SCAIWAVE_HOME, its cache, the media store). An existing directory is left as it is: a mode
    the user chose is not changed behind their back. Returns the path."""
    target = os.path.abspath(os.fspath(path))
    missing = []
    current = target
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: theirs, as it is
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    return target


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
