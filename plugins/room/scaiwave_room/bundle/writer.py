"""The room bundle on the way out: a deterministic ZIP written as a stream.

Determinism: every entry has the same timestamp (``SOURCE_DATE_EPOCH`` if set, else
1980-01-01 00:00:00), the same attributes (0644, Unix), a fixed compression (deflate level 6 for
the JSON entries, stored for media) and a fixed order; every JSON object is written with sorted
keys and no whitespace. ``zipfile`` writes to a non-seekable stream (a pipe) by putting a data
descriptor after each entry, so nothing is ever held whole in memory.

``write_bundle`` is the storage-free half of an export: given a header, an iterator of manifest
events and the media list, it writes manifest.json incrementally (64 KiB at a time into the
deflate stream), then each media file, then integrity.json. Memory stays flat whatever the room
size. Only the standard library (and the core's light ``api``) is imported here.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from collections.abc import Callable, Iterable

from scaiwave_cli import api
from scaiwave_room.bundle.layout import (
    DEFLATE_LEVEL,
    INTEGRITY,
    MANIFEST,
    ZIP_EPOCH,
    dumps,
    integrity_body,
    media_entry_name,
    safe_media_name,
    source_date_epoch,
)

FLUSH_AT = 1 << 16


def zip_date_time() -> tuple[int, int, int, int, int, int]:
    """The timestamp of every entry: ``SOURCE_DATE_EPOCH`` (UTC, clamped to the ZIP range)."""
    epoch = source_date_epoch()
    if epoch is None:
        return ZIP_EPOCH
    parts = time.gmtime(epoch)[:6]
    if parts[0] < 1980:
        return ZIP_EPOCH
    if parts[0] > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return parts


class _HashingWriter:
    """File-like wrapper around a zipfile entry writer that counts and hashes what it gets."""

    def __init__(self, raw, on_close):
        self._raw = raw
        self._hash = hashlib.sha256()
        self._size = 0
        self._on_close = on_close
        self._closed = False

    def write(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._hash.update(data)
        self._size += len(data)
        self._raw.write(data)
        return len(data)

    @property
    def size(self) -> int:
        return self._size

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._raw.close()
        self._on_close(self._size, self._hash.hexdigest())

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()


class _CountingStream:
    """The output stream, counting bytes for progress; seekable only if the target is."""

    def __init__(self, raw):
        self._raw = raw
        self.written = 0

    def write(self, data) -> int:
        n = self._raw.write(data)
        self.written += len(data)
        return n if n is not None else len(data)

    def flush(self) -> None:
        self._raw.flush()

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, *args):
        return self._raw.seek(*args)

    def seekable(self) -> bool:
        try:
            return self._raw.seekable()
        except (AttributeError, ValueError, OSError):
            return False


class _Unseekable:
    """Hide seek/tell so zipfile writes the same bytes (data descriptors) to files and pipes."""

    def __init__(self, raw):
        self._raw = raw

    def write(self, data) -> int:
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def seekable(self) -> bool:
        return False

    def tell(self):
        raise OSError("not seekable")

    def seek(self, *args):
        raise OSError("not seekable")


class BundleWriter:
    """Writes a bundle to a binary stream, entry by entry, and ends it with ``integrity.json``.

    The output is the same bytes whether the stream is a file or a pipe: zipfile is always
    given a non-seekable view, so every entry carries a data descriptor.
    """

    def __init__(self, stream):
        self.stream = _CountingStream(stream)
        self._zip = zipfile.ZipFile(_Unseekable(self.stream), "w", allowZip64=True)
        self._date_time = zip_date_time()
        self.entries: list[dict] = []
        self._open = False

    @property
    def bytes_written(self) -> int:
        return self.stream.written

    def _info(self, name: str, *, compress: bool, size: int | None) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.create_system = 3
        info.create_version = 45
        info.extract_version = 45
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        if compress:
            info._compresslevel = DEFLATE_LEVEL  # noqa: SLF001 (zipfile reads it per entry)
        if size is not None:
            info.file_size = size
        return info

    def open_entry(self, name: str, *, compress: bool = True, size: int | None = None):
        """A writer for one entry (use as a context manager). Only one open at a time."""
        if self._open:
            raise RuntimeError("another entry is still open")
        info = self._info(name, compress=compress, size=size)
        raw = self._zip.open(info, "w", force_zip64=True)
        self._open = True

        def done(written: int, digest: str) -> None:
            self._open = False
            self.entries.append({"name": name, "size": written, "sha256": digest})

        return _HashingWriter(raw, done)

    def write_entry(self, name: str, chunks, *, compress: bool = True, size=None) -> dict:
        with self.open_entry(name, compress=compress, size=size) as out:
            for chunk in chunks:
                out.write(chunk)
        return self.entries[-1]

    def finish(self, signer=None) -> dict:
        """Write ``integrity.json`` (signed when ``signer`` is given) and the central directory."""
        body = integrity_body(self.entries)
        if signer is not None:
            body["signature"] = signer.sign_body(body)
        data = dumps(body).encode("utf-8")
        info = self._info(INTEGRITY, compress=True, size=len(data))
        with self._zip.open(info, "w", force_zip64=True) as raw:
            raw.write(data)
        self._zip.close()
        self.stream.flush()
        return body

    def abort(self) -> None:
        """Stop without a central directory (the output is then an invalid ZIP on purpose)."""
        try:
            self._zip.fp = None
        except Exception:  # pragma: no cover - best effort
            pass


def write_bundle(
    out,
    *,
    header: dict,
    events: Iterable[dict],
    media: list[dict],
    read_media: Callable[[str], Iterable[bytes]],
    signer=None,
    progress=None,
) -> dict:
    """Write a whole bundle to ``out``. ``media``: dicts with sha256, name, size;
    ``read_media(sha256)`` yields the bytes (verified by the caller's media store);
    ``progress``: an ``api.progress`` bar, advanced by events written and bytes out.

    Returns {"events", "media", "bytes", "signed", "integrity_sha256"}."""
    writer = BundleWriter(out)
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
        head = dumps(header)
        parts = [head[:-1], ',"events":[']
        size = sum(len(p) for p in parts)
        for event in events:
            text = dumps(event)
            parts.append("," + text if count else text)
            size += len(text) + 1
            count += 1
            if size >= FLUSH_AT:
                manifest.write("".join(parts))
                parts.clear()
                size = 0
                progress(count)
        parts.append("]}")
        manifest.write("".join(parts))
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
