"""The fuzz corpus: ``hostile_bundle(rng)`` makes one bundle, well-formed or broken in one of
many ways an attacker (or a bug) would break it."""

from __future__ import annotations

import json

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.testing.rawzip import RawEntry, integrity_for, raw_zip
from scaiwave_room.testing.samples import (
    build_bundle,
    manifest_bytes,
    sample_events,
    sample_header,
    sha,
)

# -- the fuzz corpus -----------------------------------------------------------------------------

_HOSTILE_NAMES = [
    "../evil",
    "/abs",
    "C:/x",
    "media/../../x",
    "media\\x",
    "manifest.json/",
    "media/",
    "MANIFEST.JSON",
    "media/" + "f" * 64 + "/../x",
    "media/" + "0" * 64 + "/ok.bin",
    "integrity.json",
    "manifest.json",
    "a" * 300,
]
_JUNK_VALUES = [
    None,
    True,
    -1,
    0,
    2**63,
    1.5,
    "",
    "x" * 300,
    [],
    {},
    [1, [2, [3]]],
    {"a": {"b": {}}},
    "\u202e",
    "2026-13-45T99:99:99Z",
    "evt-000000",
]


def _mutate_json(rng, value, depth=0):
    """Return a mutated copy of a JSON value (one change somewhere inside)."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(sorted(value))
        out = dict(value)
        action = rng.random()
        if action < 0.2:
            del out[key]
        elif action < 0.3:
            out[key + "_x"] = rng.choice(_JUNK_VALUES)
        else:
            out[key] = _mutate_json(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        out = list(value)
        i = rng.randrange(len(out))
        action = rng.random()
        if action < 0.15:
            del out[i]
        elif action < 0.3:
            out.insert(i, out[i])
        elif action < 0.4:
            out.append(rng.choice(_JUNK_VALUES))
        else:
            out[i] = _mutate_json(rng, out[i], depth + 1)
        return out
    return rng.choice(_JUNK_VALUES)


def _valid_parts(rng):
    media = {}
    for i in range(rng.randrange(0, 3)):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + bytes([i])
        media[sha(data)] = (f"file{i}.bin", data)
    header = sample_header(
        media=[
            {"sha256": k, "name": n, "size": len(d), "content_type": None}
            for k, (n, d) in sorted(media.items())
        ]
    )
    events = sample_events(rng.randrange(0, 8), media_sha=next(iter(sorted(media)), None))
    return header, events, media


def hostile_bundle(rng) -> tuple[str, bytes]:
    """One generated bundle, most of them broken in some way: (kind, bytes)."""
    header, events, media = _valid_parts(rng)
    kind = rng.choice(
        [
            "flip",
            "truncate",
            "splice",
            "manifest-json",
            "manifest-json",
            "manifest-json",
            "manifest-text",
            "header-json",
            "entries",
            "integrity",
            "relations",
            "content",
        ]
    )
    good = build_bundle(header, events, media)
    if kind == "flip":
        data = bytearray(good)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data)
    if kind == "truncate":
        return kind, good[: rng.randrange(len(good))]
    if kind == "splice":
        a, b = sorted(rng.randrange(len(good)) for _ in range(2))
        return kind, good[:a] + good[b:] + good[a:b]
    if kind == "manifest-json":
        events = _mutate_json(rng, events)
        return kind, build_bundle(header, events, media, manifest=manifest_bytes(header, events))
    if kind == "header-json":
        mutated = _mutate_json(rng, header)
        if not isinstance(mutated, dict):
            mutated = {"x": mutated}
        return kind, build_bundle(mutated, events, media)
    if kind == "manifest-text":
        text = bytearray(manifest_bytes(header, events))
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(text))
            text[i : i + rng.randrange(1, 4)] = bytes(
                [rng.choice(b'{}[]",:0 a\\\x00\xff')] * rng.randrange(0, 3)
            )
        return kind, build_bundle(header, events, media, manifest=bytes(text))
    if kind == "entries":
        files = [(MANIFEST_NAME, manifest_bytes(header, events))] + [
            (fmt.media_entry_name(k, n), d) for k, (n, d) in sorted(media.items())
        ]
        action = rng.random()
        if action < 0.4:
            files.append((rng.choice(_HOSTILE_NAMES), b"payload"))
        elif action < 0.6 and len(files) > 1:
            files.pop(rng.randrange(len(files)))
        elif action < 0.8:
            files.append(rng.choice(files))
        else:
            rng.shuffle(files)
        entries = [RawEntry(n, d, method=rng.choice([0, 8])) for n, d in files]
        if entries and rng.random() < 0.5:
            e = rng.choice(entries)
            e.flags |= rng.choice([0x1, 0x8, 0x20, 0x40, 0])
            e.method = rng.choice([e.method, 1, 12, 14, 99])
            e.external_attr = rng.choice([e.external_attr, 0o120777 << 16, 0o040755 << 16, 0])
        entries.append(RawEntry(fmt.INTEGRITY, integrity_for(files), method=8))
        return kind, raw_zip(entries)
    if kind == "integrity":
        files = [(MANIFEST_NAME, manifest_bytes(header, events))] + [
            (fmt.media_entry_name(k, n), d) for k, (n, d) in sorted(media.items())
        ]
        body = json.loads(integrity_for(files))
        body = _mutate_json(rng, body)
        entries = [RawEntry(n, d, method=8) for n, d in files]
        entries.append(RawEntry(fmt.INTEGRITY, json.dumps(body).encode(), method=8))
        return kind, raw_zip(entries)
    if kind == "relations":
        if events:
            ev = rng.choice(events)
            target = rng.choice([e["id"] for e in events] + ["evt-missing", ev["id"]])
            ev["relates_to"] = {
                "rel_type": rng.choice(["edit", "redaction", "reaction", "reply", "x"]),
                "event_id": target,
            }
            if rng.random() < 0.3 and len(events) > 1:
                events[1]["id"] = events[0]["id"]
        return kind, build_bundle(header, events, media)
    # content: large, deep or odd content
    if events:
        ev = rng.choice(events)
        choice = rng.random()
        if choice < 0.3:
            ev["content"] = {"body": "y" * rng.choice([10, 65_000, 65_536, 70_000])}
        elif choice < 0.6:
            node: dict = {}
            ev["content"] = node
            for _ in range(rng.choice([5, 63, 64, 65, 500])):
                node["n"] = {}
                node = node["n"]
        else:
            ev["content"] = {"body": "\u0000\ud7ff\ue000\U0010ffff", "n": rng.random()}
    return kind, build_bundle(header, events, media)


MANIFEST_NAME = fmt.MANIFEST
