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
