"""The kill -9 tests' one hook, the core's ``api.pause_at``:
``SCAIWAVE_ROOM_TEST_HOOK=<point>:<file>`` makes a command create <file> at <point> and wait there
until it is killed. Inert otherwise (one environment lookup per call). Not a setting; never set
in production.

Points: import ``events`` (in the writer thread once the first batch of rows is inserted),
``media`` (after the media files, just before COMMIT); delete ``backup`` (verified, room still
open), ``marked`` (deleting committed), ``events`` (first event batch committed), ``events-txn``
(inside the first event batch), ``media`` (files removed, media rows not yet committed), ``final``
(inside the last transaction); purge ``purge`` (first batch committed), ``purge-txn``;
export ``bundle`` (`room export --to`, `export-all`'s jobs: the temporary file holds its first
bytes). A fanned-out coordinator's own points are the core's (``SCAIWAVE_CORE_TEST_HOOK``
``fanout-first-result``, ``api.fanout``).
"""

from __future__ import annotations

from scaiwave_cli import api


def test_hook(point: str) -> None:
    api.pause_at("SCAIWAVE_ROOM_TEST_HOOK", point)
