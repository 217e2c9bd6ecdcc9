"""Round trip as a property: generated room -> export -> import -> export gives the same events
and media, ids aside (both engines)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scaiwave_room import testing as bt

KEYS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8
).filter(
    lambda k: (
        k not in ("_imported_sender", "sidekick", "_sidekick", "swp.sidekick", "sidekick_metadata")
    )
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
)
JSON = st.recursive(
    LEAVES, lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS, c, max_size=3), max_leaves=8
)
CONTENT = st.dictionaries(KEYS, JSON, max_size=4)
MEDIA = st.lists(
    st.tuples(st.sampled_from(["a.png", "b.pdf", "notes.txt"]), st.binary(min_size=1, max_size=64)),
    max_size=2,
)
IMPORTED = st.none() | st.fixed_dictionaries(
    {
        "display_name": st.text(max_size=12),
        "avatar_url": st.none() | st.just("https://cdn.example/a.png"),
        "fqid": st.sampled_from(["@bob:far.example", "@carol:other.example"]),
    }
)


@st.composite
def rooms(draw):
    n = draw(st.integers(1, 12))
    events = []
    for i in range(n):
        spec = {
            "type": draw(st.sampled_from(["swp.room.message", "swp.reaction", "custom.type"])),
            "content": draw(CONTENT),
        }
        if i and draw(st.booleans()):
            spec["relates"] = (
                draw(st.sampled_from(["edit", "redaction", "reaction", "reply"])),
                draw(st.integers(0, i - 1)),
            )
        if i and draw(st.booleans()):
            spec["reply_to"] = draw(st.integers(0, i - 1))
        if draw(st.booleans()):
            spec["original"] = draw(CONTENT)
        spec["redacted"] = draw(st.booleans())
        spec["media"] = draw(MEDIA)
        if spec["media"] and draw(st.booleans()):
            spec["media_ref"] = True  # content.media_id names the first attachment
        imported = draw(IMPORTED)
        if imported:
            spec["imported"] = imported
        events.append(spec)
    return events


@pytest.fixture
def prepared(world):
    world.tenant("acme")
    world.tenant("globex")
    return world


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=rooms())
def test_export_import_export_round_trip(prepared, events):
    w = prepared
    room = w.room("acme", events=events)
    first = w.cli.invoke("room", "export", room, "--tenant", "acme")
    assert first.exit_code == 0, first.stderr
    imported = w.cli.invoke(
        "--output",
        "json",
        "room",
        "import",
        "general",
        "--tenant",
        "globex",
        "--as",
        "prt-globex",
        input=first.stdout_bytes,
    )
    assert imported.exit_code == 0, imported.stderr
    new_room = __import__("json").loads(imported.stdout)["room_id"]
    second = w.cli.invoke("room", "export", new_room, "--tenant", "globex")
    assert second.exit_code == 0, second.stderr
    a, b = bt.read_manifest(first.stdout_bytes), bt.read_manifest(second.stdout_bytes)
    assert bt.normalise_manifest(b) == bt.normalise_manifest(a)
    # and the media bytes themselves
    assert bt.media_of(first.stdout_bytes) == bt.media_of(second.stdout_bytes)
