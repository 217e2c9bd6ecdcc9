"""Fuzz through the CLI: generated hostile bundles piped into `room import` (both engines).

Each must end in exit 1 with a JSON error (no traceback) and nothing written (rows or media
files), or exit 0 with exactly one new room holding the events it reports."""

from __future__ import annotations

import json
import os
import random

from scaiwave_room import testing as bt

CASES = int(os.environ.get("SCAIWAVE_ROOM_FUZZ_CASES", "1000"))  # per engine


def _state(w):
    """(rooms, events, media rows, audit rows, media files) in one statement."""
    from sqlalchemy import func, select

    m = w.m
    counts = select(
        *(
            select(func.count()).select_from(model).scalar_subquery()
            for model in (m.Room, m.Event, m.Media, m.AuditEntry)
        )
    )
    with w.store.session() as s:
        return (*s.execute(counts).one(), tuple(w.media_files()))


def test_hostile_bundles_through_room_import(world):
    w = world
    if w.db_url.startswith("mysql"):
        # PyMySQL builds a TLS context for every new connection (~40 ms of certificate loading)
        # and each CLI run opens one; on the loopback test server TLS buys nothing.
        w.cli.env["SCAIWAVE_DB_URL"] = w.db_url + "?ssl_disabled=1"
    w.tenant("acme")
    w.tenant("globex")
    rng = random.Random(11)
    outcomes = {}
    state = _state(w)
    for i in range(CASES):
        kind, data = bt.hostile_bundle(rng)
        result = w.cli.invoke(
            "--output",
            "json",
            "room",
            "import",
            "general",
            "--tenant",
            "globex",
            "--as",
            "prt-globex",
            input=data,
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"case {i} ({kind}): {result.exception!r}"
        )
        assert "Traceback" not in result.output, f"case {i} ({kind})"
        after = _state(w)
        if result.exit_code == 0:
            record = json.loads(result.stdout)
            assert after[0] == state[0] + 1 and after[3] == state[3] + 1
            assert after[1] == state[1] + record["events"], f"case {i} ({kind})"
            outcomes["imported"] = outcomes.get("imported", 0) + 1
        else:
            assert result.exit_code == 1, f"case {i} ({kind}): {result.output}"
            error = json.loads(result.stderr)["error"]
            assert error["code"].startswith("SW_") and error["message"]
            assert after == state, f"case {i} ({kind}) left something behind"
            outcomes[error["code"]] = outcomes.get(error["code"], 0) + 1
        state = after
    assert outcomes.get("SW_BUNDLE_INVALID", 0) > CASES // 2
    assert outcomes.get("imported", 0) > 0
