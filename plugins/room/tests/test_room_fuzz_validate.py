"""Fuzz: 1,200 generated hostile bundles through the validator (in memory, no database).

Each must end in a clean refusal (a ScaiwaveError with exit code 1) or a valid report, never
an exception of another kind. The database half (bundles through `room import`, checking that
nothing is left behind) is in test_room_fuzz_import.py.
"""

from __future__ import annotations

import collections
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scaiwave_room import testing as bt
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import open_bundle
from scaiwave_room.bundle.validate import validate

from scaiwave_cli import api

LIMITS = Limits(max_uncompressed_bytes=8 << 20, max_entries=64)
CASES = 1200


def outcome(path, data: bytes) -> str:
    path.write_bytes(data)
    try:
        with open_bundle(path, LIMITS) as opened:
            validate(opened, LIMITS)
    except api.ScaiwaveError as exc:
        assert exc.exit_code == 1, f"{exc.code}: {exc}"
        assert exc.code.startswith("SW_")
        assert str(exc)
        return exc.code
    return "valid"


def test_generated_hostile_bundles_end_cleanly(tmp_path):
    rng = random.Random(7)
    seen = collections.Counter()
    kinds = collections.Counter()
    for i in range(CASES):
        kind, data = bt.hostile_bundle(rng)
        kinds[kind] += 1
        try:
            seen[outcome(tmp_path / "b.zip", data)] += 1
        except AssertionError:
            raise
        except Exception as exc:  # the point of the test: nothing else may escape
            (tmp_path / f"crash-{i}.zip").write_bytes(data)
            pytest.fail(f"case {i} ({kind}) raised {type(exc).__name__}: {exc}")
    assert sum(seen.values()) == CASES
    assert seen["SW_BUNDLE_INVALID"] > CASES // 2
    assert len(kinds) >= 10


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(json_values, max_size=4), st.data())
def test_arbitrary_json_events_end_cleanly(tmp_path, events, data):
    base = bt.sample_events(3)
    if data.draw(st.booleans()):
        events = base[: data.draw(st.integers(0, 3))] + events
    raw = bt.manifest_bytes(bt.sample_header(), events)
    result = outcome(tmp_path / "h.zip", bt.build_bundle(manifest=raw))
    assert result in ("valid", "SW_BUNDLE_INVALID", "SW_CONTENT_TOO_LARGE")


def test_lone_surrogates_are_refused(tmp_path):
    raw = bt.manifest_bytes(bt.sample_header(), bt.sample_events(2)).replace(
        b"message 1", b"\\udcff"
    )
    assert outcome(tmp_path / "s.zip", bt.build_bundle(manifest=raw)) == "SW_BUNDLE_INVALID"
    raw = bt.manifest_bytes(bt.sample_header(), bt.sample_events(2)).replace(
        b'"Alice"', b'"\\ud800"'
    )
    # the JSON parser turns a lone high surrogate into "?": accepted, and storable
    assert outcome(tmp_path / "t.zip", bt.build_bundle(manifest=raw)) in (
        "valid",
        "SW_BUNDLE_INVALID",
    )
