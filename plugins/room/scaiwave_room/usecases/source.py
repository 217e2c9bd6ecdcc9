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
    past ``SCAIWAVE_ROOM_MAX_BUNDLE_BYTES``, removed afterwards). A terminal on stdin is
    ``SW_BUNDLE_MISSING`` (exit 2)."""
    if from_file and from_file != "-":
        yield from_file
        return
    if api.stdin_is_terminal():
        raise api.ConfigError(
            "no bundle: stdin is a terminal",
            code=errors.SW_BUNDLE_MISSING,
            hint="pipe one in (`< room.zip`) or pass --from room.zip",
        )
    limits = Limits.from_settings(app.settings)
    path = spool(sys.stdin.buffer, limit=limits.max_bundle_bytes)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
