"""The room bundle on the way out: a deterministic ZIP written as a stream.

The ZIP itself is the core's ``api.zipbundle.ZipWriter`` (fixed timestamps from
``SOURCE_DATE_EPOCH`` or 1980-01-01, fixed attributes and compression, canonical JSON, data
descriptors so a file and a pipe get the same bytes, nothing held whole in memory);
``BundleWriter`` is that writer ending with the room bundle's ``integrity.json``.

``write_bundle`` is the storage-free half of an export: given a header, an iterator of manifest
events and the media list, it writes manifest.json incrementally (64 KiB at a time into the
deflate stream), then each media file, then integrity.json. Memory stays flat whatever the room
size. Only the standard library (and the core's light ``api``) is imported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from scaiwave_cli import api
from scaiwave_room.bundle.layout import (
    FORMAT_VERSION,
    INTEGRITY_FORMAT,
    MANIFEST,
    dumps,
    media_entry_name,
    safe_media_name,
)

FLUSH_AT = 1 << 16


class BundleWriter(api.zipbundle.ZipWriter):
    """Writes a room bundle to a binary stream, entry by entry, and ends it with
    ``integrity.json`` (format ``scaiwave.room-bundle.integrity``; ``finish(signer)`` signs it).
    The output is the same bytes whether the stream is a file or a pipe."""

    def __init__(self, stream, *, epoch: int | None = None):
        # ``epoch``: a fixed export time given by the caller, else SOURCE_DATE_EPOCH
        super().__init__(
            stream, integrity_format=INTEGRITY_FORMAT, version=FORMAT_VERSION, epoch=epoch
        )


def write_bundle(
    out,
    *,
    header: dict,
    events: Iterable[dict],
    media: list[dict],
    read_media: Callable[[str], Iterable[bytes]],
    signer=None,
    progress=None,
    epoch: int | None = None,
) -> dict:
    """Write a whole bundle to ``out``. ``events``: manifest event records (dicts), or their
    canonical JSON (``layout.dumps``) as UTF-8 bytes; ``media``: dicts with sha256, name, size;
    ``read_media(sha256)`` yields the bytes (verified by the caller's media store);
    ``progress``: an ``api.progress`` bar, advanced by events written and bytes out;
    ``epoch``: the entries' time (default ``SOURCE_DATE_EPOCH``, else 1980-01-01).

    Returns {"events", "media", "bytes", "signed", "integrity_sha256"}."""
    writer = BundleWriter(out, epoch=epoch)
    try:
        return _write(writer, header, events, media, read_media, signer, progress)
    except BaseException:
        writer.abort()
        raise


class _Advance:
    """Reports to a progress bar what was written since the last report."""

    def __init__(self, bar, writer):
        self.bar = bar
        self.writer = writer
        self.events = 0
        self.bytes = 0

    def __call__(self, events: int) -> None:
        if self.bar is None:
            return
        written = self.writer.bytes_written
        self.bar.advance(events - self.events, nbytes=written - self.bytes)
        self.events, self.bytes = events, written


def _write(writer, header, events, media, read_media, signer, bar) -> dict:
    progress = _Advance(bar, writer)
    count = 0
    with writer.open_entry(MANIFEST) as manifest:
        head = dumps(header).encode("utf-8")
        parts = [head[:-1], b',"events":[']
        size = sum(len(p) for p in parts)
        for event in events:
            # an event comes as its canonical JSON already (bytes) or as the record
            text = event if type(event) is bytes else dumps(event).encode("utf-8")
            if count:
                parts.append(b",")
            parts.append(text)
            size += len(text) + 1
            count += 1
            if size >= FLUSH_AT:
                manifest.write(b"".join(parts))
                parts.clear()
                size = 0
                progress(count)
        parts.append(b"]}")
        manifest.write(b"".join(parts))
    for item in sorted(media, key=lambda m: m["sha256"]):
        sha = item["sha256"]
        name = media_entry_name(sha, safe_media_name(item["name"], sha))
        digest = hashlib.sha256()
        with writer.open_entry(name, compress=False, size=item["size"]) as entry:
            for chunk in read_media(sha):
                digest.update(chunk)
                entry.write(chunk)
            written = entry.size
        if digest.hexdigest() != sha or written != item["size"]:
            raise api.DomainError(
                f"media {sha} in the media store has {written} bytes hashing to "
                f"{digest.hexdigest()}; its media row says {item['size']} bytes, {sha}",
                code=api.errors.SW_MEDIA_CORRUPT,
                hint="the media store file or its row was changed or damaged; restore it",
            )
        progress(count)
    body = writer.finish(signer)
    progress(count)
    return {
        "events": count,
        "media": len(media),
        "bytes": writer.bytes_written,
        "signed": signer is not None,
        "integrity_sha256": hashlib.sha256(dumps(body).encode()).hexdigest(),
    }
