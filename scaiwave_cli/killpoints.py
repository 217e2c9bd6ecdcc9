"""Kill points for the crash tests, written once for every plugin (``api.pause_at``).

``<VARIABLE>=<point>:<file>`` (each plugin names its own variable, e.g.
``SCAIWAVE_ROOM_TEST_HOOK``) makes the FIRST process that reaches <point> create <file> (holding
its pid) and wait there until it is killed; a process that finds <file> already there goes on
(so with several workers exactly one parks, and the job it held runs again elsewhere). A test
(``CliHarness.kill_at`` or ``arq_workers.kill_at_marker`` in ``scaiwave_cli.testing``) then
sends SIGKILL to that pid and checks that the work still finishes. Inert otherwise: one
environment lookup per call. Not a setting; never set in production. Standard library only.
"""

from __future__ import annotations

import os


def pause_at(variable: str, point: str) -> None:
    """Park here for good when ``variable`` names this ``point`` and no process parked at it
    before (its marker file is absent); else return at once."""
    spec = os.environ.get(variable)
    if not spec or not spec.startswith(point + ":"):
        return
    marker = spec.split(":", 1)[1]
    # the pid goes into a private file that is then linked to the marker's name: the link is
    # atomic and fails when the marker exists, so one process wins and a reader never sees an
    # empty marker
    staging = f"{marker}.{os.getpid()}.tmp"
    with open(staging, "w") as fh:
        fh.write(str(os.getpid()))
    try:
        os.link(staging, marker)
    except FileExistsError:
        return
    finally:
        os.unlink(staging)
    import time

    while True:  # pragma: no cover - ends with the process
        time.sleep(0.05)
