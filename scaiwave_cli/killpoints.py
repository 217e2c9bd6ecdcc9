"""Kill points for the crash tests, written once for every plugin (``api.pause_at``).

``<VARIABLE>=<point>:<file>`` (each plugin names its own variable, e.g.
``SCAIWAVE_ROOM_TEST_HOOK``) makes a command create <file> when it reaches <point> and wait
there until it is killed; a test (``CliHarness.kill_at`` in ``scaiwave_cli.testing``) then sends
SIGKILL and checks that running the command again finishes the job. Inert otherwise: one
environment lookup per call. Not a setting; never set in production. Standard library only.
"""

from __future__ import annotations

import os


def pause_at(variable: str, point: str) -> None:
    """Park here for good when ``variable`` names this ``point``; else return at once."""
    spec = os.environ.get(variable)
    if not spec or not spec.startswith(point + ":"):
        return
    import time

    with open(spec.split(":", 1)[1], "w") as fh:
        fh.write(str(os.getpid()))
    while True:  # pragma: no cover - ends with the process
        time.sleep(0.05)
