"""The kill -9 tests' one hook, the core's ``api.pause_at``:
``SCAIWAVE_ADMIN_TEST_HOOK=<point>:<file>`` makes a command create <file> at <point> and wait there
until it is killed. Inert otherwise (one environment lookup per call). Not a setting; never set
in production.

Points: delete-tenant ``backup`` (the first room bundle written and verified, tenant still
suspended), ``marked`` (deleting committed), ``rows-txn`` (inside the first row batch), ``rows``
(first row batch committed), ``audit`` (first audit batch moved to the platform), ``media``
(first media file removed), ``final`` (inside the last transaction); erase-participant
``started`` (the erasure-under-way marker committed), ``scrub`` (first scrub batch committed),
``events-txn`` (inside the first event batch), ``events`` (first event batch committed),
``media`` (files removed, media rows not yet committed), ``final`` (inside the last
transaction).
"""

from __future__ import annotations

from scaiwave_cli import api


def test_hook(point: str) -> None:
    api.pause_at("SCAIWAVE_ADMIN_TEST_HOOK", point)
