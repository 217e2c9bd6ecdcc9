"""Hostile bundles at full size (issue 14, point 2): 100,000 nested ``[`` in an event's content,
``room.topic``, ``relates_to``, an event's ``media`` (and ``original_content``, a sender), one
300 MB JSON string (in an event's body and in ``room.topic``) and one 300 MB number, each
refused by `room verify` and `room import` (a real CLI subprocess) with exit 1 and its code, in
under 100 MB peak RSS (VmHWM) and a few seconds, nothing written. Then the bounds at
their edges, in process. ``bench/hostile_bench.py`` prints the same figures."""

from __future__ import annotations

import json
import os

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.testing import sizes

MAX_RSS_MB = 100
MAX_SECONDS = 10  # the target is "a few seconds" (about 1 s here); slack for a busy machine

DEPTH = "SW_BUNDLE_INVALID"
LENGTH = "SW_CONTENT_TOO_LARGE"
SHAPES = {
    **{f"deep-{p}": DEPTH for p in sizes.DEEP_PLACES},
    **{f"string-{p}": LENGTH for p in sizes.LONG_PLACES},
    "number": LENGTH,
}
PATHS = {
    "deep-content": "$.events[1]",
    "deep-topic": "$.room.topic",
    "deep-relates_to": "$.events[1]",
    "deep-media": "$.events[1]",
    "deep-original_content": "$.events[1]",
    "deep-sender": "$.senders",
    "string-body": "$.events[1]",
    "string-topic": "$.room.topic",
    "number": "$.events[1]",
}


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory):
    """Every shape at full size, written once (about 3 s: the 300 MB tokens are streamed)."""
    root = tmp_path_factory.mktemp("hostile")
    files = {}
    for place in sizes.DEEP_PLACES:
        files[f"deep-{place}"] = root / f"deep-{place}.zip"
        sizes.deep_bundle_file(files[f"deep-{place}"], place, sizes.FULL_DEPTH)
    for place in sizes.LONG_PLACES:
        files[f"string-{place}"] = root / f"string-{place}.zip"
        sizes.long_string_bundle_file(files[f"string-{place}"], place, sizes.FULL_STRING)
    files["number"] = root / "number.zip"
    sizes.long_number_bundle_file(files["number"], sizes.FULL_STRING)
    return files


def run_cli(args, env) -> dict:
    """`scaiwave --output json ARGS` in a subprocess: exit code, the error record, wall
    seconds and the CLI's own peak RSS in MB (``sizes.run_measured``: VmHWM at exit)."""
    return sizes.run_measured(["--output", "json", *args], env, timeout=120)


def _env(home, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["SCAIWAVE_HOME"] = str(home)
    env.update(extra)
    return env


def _assert_refused_in_bounds(result, shape):
    assert result["exit"] == 1, result
    assert result["error"]["code"] == SHAPES[shape], result
    assert result["error"]["details"]["path"] == PATHS[shape], result
    assert "refused while parsing" in result["error"]["message"], result
    assert result["rss_mb"] is not None and result["rss_mb"] < MAX_RSS_MB, result
    assert result["seconds"] < MAX_SECONDS, result


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_verify_refuses_a_hostile_shape_at_full_size_in_bounded_memory(
    hostile_files, tmp_path, shape
):
    result = run_cli(["room", "verify", "--from", str(hostile_files[shape])], _env(tmp_path))
    _assert_refused_in_bounds(result, shape)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_import_refuses_a_hostile_shape_at_full_size_and_writes_nothing(
    two_tenants, hostile_files, shape
):
    w = two_tenants
    m = w.m
    env = _env(w.cli.home, **w.cli.env)
    args = ["room", "import", "general", "--tenant", "globex", "--as", "prt-globex"]
    result = run_cli([*args, "--from", str(hostile_files[shape])], env)
    _assert_refused_in_bounds(result, shape)
    assert w.count(m.Room, tenant_id="tnt-globex") == 0
    assert w.count(m.Event, tenant_id="tnt-globex") == 0
    assert w.count(m.Media, tenant_id="tnt-globex") == 0
    assert w.media_files() == []


# -- the bounds at their edges (in process) ----------------------------------------------------


def _deep_content(levels: int) -> dict:
    node: dict = {}
    content = node
    for _ in range(levels - 1):
        node["n"] = {}
        node = node["n"]
    return content


def _verify(cli, data: bytes, **env):
    result = cli.invoke("--output", "json", "room", "verify", input=data, env=env)
    record = json.loads(result.stdout if result.exit_code == 0 else result.stderr)
    return result.exit_code, record


def test_content_nested_64_levels_passes_and_65_is_refused_while_parsing(cli):
    events = bt.sample_events(3)
    events[1]["content"] = _deep_content(64)
    code, record = _verify(cli, bt.build_bundle(events=events))
    assert code == 0, record
    events[1]["content"] = _deep_content(65)
    code, record = _verify(cli, bt.build_bundle(events=events))
    assert code == 1
    assert record["error"]["code"] == DEPTH
    assert record["error"]["details"]["path"] == "$.events[1]"
    assert "nests deeper than 64 levels" in record["error"]["message"]


def test_the_depth_bound_follows_its_setting(cli):
    events = bt.sample_events(3)
    events[2]["content"] = _deep_content(9)
    data = bt.build_bundle(events=events)
    assert _verify(cli, data)[0] == 0
    code, record = _verify(cli, data, SCAIWAVE_ROOM_MAX_JSON_DEPTH="8")
    assert code == 1 and record["error"]["details"]["path"] == "$.events[2]"
    assert "nests deeper than 8 levels" in record["error"]["message"]


def test_a_long_string_is_refused_while_parsing_and_escapes_are_not_held_against_it(cli):
    cap = {"SCAIWAVE_ROOM_MAX_CONTENT_BYTES": "1000"}  # strings: at most 6,000 bytes as written
    events = bt.sample_events(3)
    # 900 characters written as \u0041 (5,400 bytes in the manifest, 900 in the content)
    body = "\\u0041" * 900
    manifest = bt.manifest_bytes(bt.sample_header(), events).replace(
        b'"message 1"', b'"' + body.encode() + b'"'
    )
    code, record = _verify(cli, bt.build_bundle(manifest=manifest), **cap)
    assert code == 0, record
    # 6,001 bytes: refused by the guard, before the string is built
    events[1]["content"]["body"] = "x" * 6001
    code, record = _verify(cli, bt.build_bundle(events=events), **cap)
    assert code == 1 and record["error"]["code"] == LENGTH
    assert "refused while parsing" in record["error"]["message"]
    # 5,000 bytes: under the guard's bound, refused by the content check (same code)
    events[1]["content"]["body"] = "x" * 5000
    code, record = _verify(cli, bt.build_bundle(events=events), **cap)
    assert code == 1 and record["error"]["code"] == LENGTH
    assert "refused while parsing" not in record["error"]["message"]


def test_a_large_room_with_long_bodies_still_verifies(cli):
    """Bodies up to the content cap, spread over many 64 KB chunks: nothing refused."""
    events = bt.sample_events(200)
    for i, event in enumerate(events):
        if event["type"] == "swp.room.message":
            event["content"]["body"] = ('é\\"[{' * 5000)[: 35_000 - i]
    code, record = _verify(cli, bt.build_bundle(events=events))
    assert code == 0, record
    assert record["events"] == 200
