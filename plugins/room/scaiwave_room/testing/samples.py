"""Well-formed bundles and sample rooms, for tests (not imported by the CLI)."""

from __future__ import annotations

import hashlib
import io

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.writer import BundleWriter

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
    writer = BundleWriter(buf)
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
