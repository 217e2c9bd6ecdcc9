"""Atomic file writes: a reader sees the old file or the whole new one, never half of either.

The temporary file lives in the target's directory (so the rename stays on one file system), is
created with the final mode from the start (a secret is never readable by others, not even for a
moment), fsynced, renamed over the target, and the directory is fsynced. On an exception the
temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pathlib import Path


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """``with atomic_writer(path) as f: f.write(b"...")`` — replaced on success only."""
    import tempfile

    target = os.fspath(path)
    directory = os.path.dirname(target) or "."
    name = os.path.basename(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
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
