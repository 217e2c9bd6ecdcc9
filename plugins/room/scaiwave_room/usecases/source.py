"""Where `room import` and `room verify` read a bundle from: ``--from FILE`` or stdin."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import spool


@contextlib.contextmanager
def bundle_path(app, from_file: str | None) -> Iterator[str]:
    """The path of the bundle: the file given, or stdin spooled to a temporary file (refused
    past ``SCAIWAVE_ROOM_MAX_BUNDLE_BYTES``, removed afterwards). A terminal on stdin, an empty
    stdin (``< /dev/null``) or an empty file is ``SW_BUNDLE_MISSING`` (exit 2)."""
    if from_file and from_file != "-":
        if os.path.getsize(from_file) == 0:
            raise _missing(f"no bundle: {from_file} is empty (0 bytes)")
        yield from_file
        return
    if api.stdin_is_terminal():
        raise _missing("no bundle: stdin is a terminal")
    limits = Limits.from_settings(app.settings)
    path = spool(sys.stdin.buffer, limit=limits.max_bundle_bytes)
    try:
        if os.path.getsize(path) == 0:
            raise _missing("no bundle: stdin is empty (0 bytes)")
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _missing(message: str) -> api.ConfigError:
    return api.ConfigError(
        message,
        code=errors.SW_BUNDLE_MISSING,
        hint="pipe a bundle in (`< room.zip`) or pass --from room.zip; make one with "
        "`scaiwave room export ROOM --tenant T --to room.zip`",
    )
