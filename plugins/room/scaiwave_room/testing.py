"""Helpers to build bundles in memory, good and hostile, for tests and the fuzz suite.

Not imported by the CLI. ``build_bundle`` writes a well-formed bundle with ``BundleWriter``
(optionally from a raw manifest) and ``raw_zip`` writes a ZIP by hand so a test can set any
field (names, flags, methods, offsets, sizes) to what an attacker would.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib

from scaiwave_room import bundle as fmt

SERVER = "source.example.com"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sample_header(*, media=(), senders=None, room=None, **extra) -> dict:
    header = {
        "format": fmt.FORMAT,
        "format_version": fmt.FORMAT_VERSION,
        "exported_at": "2026-01-02T03:04:05.000000Z",
        "source": {"server_name": SERVER, "room_id": "room-src-1", "tenant": "src"},
        "room": {
            "name": "Design review",
            "topic": "weekly",
            "type": "group",
            "scope": "tenant",
            "created_at": "2026-01-01T00:00:00.000000Z",
            "federated": False,
        },
        "senders": senders
        if senders is not None
        else [
            {"id": f"@alice:{SERVER}", "display_name": "Alice", "avatar_url": None, "local": True},
            {
                "id": "@bob:other.example.org",
                "display_name": "Bob",
                "avatar_url": "mxc://other/bob",
                "local": False,
            },
        ],
        "media": list(media),
    }
    if room:
        header["room"].update(room)
    header.update(extra)
    return header


def sample_events(n: int = 5, *, media_sha: str | None = None) -> list[dict]:
    events = []
    for i in range(n):
        events.append(
            {
                "id": f"evt-{i:06d}",
                "type": "swp.room.message",
                "sender": f"@alice:{SERVER}" if i % 2 == 0 else "@bob:other.example.org",
                "origin_ts": 1767225600000 + i,
                "created_at": f"2026-01-01T00:00:{i % 60:02d}.000000Z",
                "content": {"msgtype": "swp.text", "body": f"message {i}"},
                "original_content": None,
                "edited_at": None,
                "redacted_at": None,
                "relates_to": None,
                "media": [],
            }
        )
    if n >= 3:
        events[2]["relates_to"] = {"rel_type": "reaction", "event_id": events[0]["id"]}
        events[2]["type"] = "swp.reaction"
        events[2]["content"] = {"key": "+1"}
    if media_sha and n >= 2:
        events[1]["media"] = [media_sha]
        events[1]["content"] = {"msgtype": "swp.media", "body": "photo.png"}
    return events


def manifest_bytes(header: dict, events) -> bytes:
    body = fmt.dumps(header)
    if not isinstance(events, list):
        return (body[:-1] + ',"events":' + fmt.dumps(events) + "}").encode()
    return (body[:-1] + ',"events":[' + ",".join(fmt.dumps(e) for e in events) + "]}").encode()


def build_bundle(
    header: dict | None = None,
    events: list | None = None,
    media: dict | None = None,
    *,
    manifest: bytes | None = None,
    signer=None,
    extra_entries=(),
) -> bytes:
    """A well-formed bundle. ``media``: sha256 -> (name, bytes); the header's media list is
    filled from it when ``header`` is None."""
    media = media or {}
    if header is None:
        header = sample_header(
            media=[
                {"sha256": k, "name": n, "size": len(d), "content_type": "image/png"}
                for k, (n, d) in sorted(media.items())
            ]
        )
    if events is None:
        events = sample_events(5, media_sha=next(iter(sorted(media)), None))
    buf = io.BytesIO()
    writer = fmt.BundleWriter(buf)
    writer.write_entry(
        fmt.MANIFEST, [manifest if manifest is not None else manifest_bytes(header, events)]
    )
    for key, (name, data) in sorted(media.items()):
        writer.write_entry(fmt.media_entry_name(key, name), [data], compress=False)
    for name, data in extra_entries:
        writer.write_entry(name, [data])
    writer.finish(signer)
    return buf.getvalue()


def sample_media() -> dict:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    return {sha(data): ("photo.png", data)}


# -- hand-made ZIPs ------------------------------------------------------------------------------


class RawEntry:
    """One entry of a hand-made ZIP. ``data`` is what is stored (already compressed)."""

    def __init__(
        self,
        name,
        plain: bytes = b"",
        *,
        method: int = 0,
        data: bytes | None = None,
        flags: int = 0,
        external_attr: int = 0o100644 << 16,
        file_size: int | None = None,
        crc: int | None = None,
        offset: int | None = None,
        local_name=None,
        write_local: bool = True,
    ):
        self.name = name.encode() if isinstance(name, str) else name
        self.plain = plain
        self.method = method
        if data is None:
            if method == 8:
                comp = zlib.compressobj(6, zlib.DEFLATED, -15)
                data = comp.compress(plain) + comp.flush()
            else:
                data = plain
        self.data = data
        self.flags = flags | 0x800
        self.external_attr = external_attr
        self.file_size = len(plain) if file_size is None else file_size
        self.crc = zlib.crc32(plain) if crc is None else crc
        self.offset = offset
        self.local_name = (
            self.name
            if local_name is None
            else (local_name.encode() if isinstance(local_name, str) else local_name)
        )
        self.write_local = write_local


def local_header(e: RawEntry) -> bytes:
    return (
        struct.pack(
            "<4s2B4HL2L2H",
            b"PK\x03\x04",
            20,
            0,
            e.flags,
            e.method,
            0,
            0x21,
            e.crc,
            len(e.data),
            e.file_size,
            len(e.local_name),
            0,
        )
        + e.local_name
    )


def raw_zip(entries: list[RawEntry], *, prefix: bytes = b"") -> bytes:
    out = bytearray(prefix)
    for e in entries:
        if e.write_local:
            if e.offset is None:
                e.offset = len(out)
            out += local_header(e) + e.data
    central = bytearray()
    for e in entries:
        central += struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            20,
            3,
            20,
            0,
            e.flags,
            e.method,
            0,
            0x21,
            e.crc,
            len(e.data),
            e.file_size,
            len(e.name),
            0,
            0,
            0,
            0,
            e.external_attr,
            e.offset or 0,
        )
        central += e.name
    start = len(out)
    out += central
    out += struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0
    )
    return bytes(out)


def integrity_for(entries: list[tuple[str, bytes]]) -> bytes:
    body = fmt.integrity_body([{"name": n, "size": len(d), "sha256": sha(d)} for n, d in entries])
    return fmt.dumps(body).encode()


def raw_bundle(files: list[tuple[str, bytes]], *, method: int = 8, **overrides) -> bytes:
    """A hand-made bundle whose integrity.json is right for ``files`` (name, plain bytes)."""
    entries = [RawEntry(n, d, method=method) for n, d in files]
    entries.append(RawEntry(fmt.INTEGRITY, integrity_for(files), method=method))
    return raw_zip(entries, **overrides)


def rezip(bundle: bytes, transform) -> bytes:
    """Rebuild a bundle after ``transform(name, data) -> data | None`` (None drops the entry),
    recomputing integrity.json so only the intended defect remains."""
    import zipfile

    files = []
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        for info in zf.infolist():
            if info.filename == fmt.INTEGRITY:
                continue
            data = transform(info.filename, zf.read(info))
            if data is not None:
                files.append((info.filename, data))
    return raw_bundle(files)


def read_manifest(bundle: bytes) -> dict:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return json.loads(zf.read(fmt.MANIFEST))


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


# -- database tests ------------------------------------------------------------------------------

DB_SERVER = "src.example"


def sample_room_events(media_data=b"\x89PNG-sample-bytes" * 50):
    """Nine events as the product stores them (tests/conftest.py ``World.room`` specs): a
    message, an edit kept in place, a reaction, an attachment, a redaction kept in place, a
    foreign author from an earlier import, a read marker, sidekick metadata, a threaded reply."""
    return [
        {"content": {"msgtype": "swp.text", "body": "hello"}},
        {"content": {"msgtype": "swp.text", "body": "fixed typo"}, "original": {"body": "helo"}},
        {"type": "swp.reaction", "content": {"key": "+1"}, "relates": ("reaction", 0)},
        {
            "content": {"msgtype": "swp.media", "body": "pic.png"},
            "media": [("pic.png", media_data)],
        },
        {"content": {}, "redacted": True},  # redacted in place: content emptied
        {
            "content": {"msgtype": "swp.text", "body": "from afar"},
            "imported": {"display_name": "Bob", "avatar_url": None, "fqid": "@bob:far.example"},
        },
        {"type": "swp.read_marker", "content": {"event_id": "x"}},
        {
            "content": {"msgtype": "swp.text", "body": "ai", "sidekick": {"model": "x"}},
        },
        {"content": {"msgtype": "swp.text", "body": "in a thread"}, "reply_to": 0},
    ]


def media_of(bundle: bytes) -> dict:
    """sha256 -> bytes of every media entry of a bundle."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {
            i.filename.split("/")[1]: zf.read(i)
            for i in zf.infolist()
            if i.filename.startswith(fmt.MEDIA_PREFIX)
        }


def normalise_manifest(manifest: dict, *, drop_sidekick: bool = False) -> dict:
    """Events, media and senders with event ids replaced by positions (ids change on import):
    what a round trip must keep."""
    ids = {e["id"]: i for i, e in enumerate(manifest["events"])}
    events = []
    for e in manifest["events"]:
        e = dict(e, id=None)
        if e["relates_to"]:
            e["relates_to"] = {**e["relates_to"], "event_id": ids[e["relates_to"]["event_id"]]}
        content = dict(e["content"])
        parent = content.get("reply_to_event_id")
        if isinstance(parent, str):
            content["reply_to_event_id"] = ids.get(parent, "outside the room")
        if drop_sidekick:
            content.pop("sidekick", None)
        e["content"] = content
        events.append(e)
    senders = {s["id"]: (s["display_name"], s["avatar_url"]) for s in manifest["senders"]}
    return {"events": events, "media": manifest["media"], "senders": senders}
