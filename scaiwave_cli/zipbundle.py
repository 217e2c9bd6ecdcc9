"""Deterministic ZIP bundles, written as a stream and verified within bounds (``api.zipbundle``).

Standard library only; imported on first use of ``api.zipbundle``, never by ``scaiwave --help``.
The room plugin's bundles and admin's participant and people exports are written with it.

Writing (``ZipWriter``): every entry has the same timestamp (``epoch=`` if given, else
``SOURCE_DATE_EPOCH`` if set, else
1980-01-01 00:00:00), the same attributes (0644, Unix), a fixed compression (deflate level 6, or
stored for media) and the order the caller writes; JSON is ``dumps`` (sorted keys, no
whitespace, UTF-8 kept). ``zipfile`` is always given a non-seekable view of the output, so each
entry carries a data descriptor and a file and a pipe get the same bytes; nothing is held whole
in memory. ``finish`` ends the archive with ``integrity.json`` (``integrity_body``: the name,
size and sha256 of every entry before it, in order) and the central directory.

Verifying (``verify_integrity``, ``check_entry_name``, ``hash_entry``; they live in
``scaiwave_cli.zipcheck`` and are re-exported here): checks, within caps, that a ZIP someone
hands us holds exactly the entries its ``integrity.json`` lists, each with its size and sha256;
anything else (zip bombs, unsafe or duplicate names, too many entries) is ``SW_ZIP_INVALID``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile

from scaiwave_cli.zipcheck import (  # noqa: F401 (re-exported: api.zipbundle.verify_integrity)
    INTEGRITY,
    INTEGRITY_VERSION,
    check_entry_name,
    hash_entry,
    verify_integrity,
)

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DEFLATE_LEVEL = 6
CHUNK = 1 << 16

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 characters kept."""
    return _CANONICAL.encode(value)


def source_date_epoch() -> int | None:
    """``SOURCE_DATE_EPOCH`` as an int, or None when unset or not a number."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def zip_date_time(epoch: int | None = None) -> tuple[int, int, int, int, int, int]:
    """The timestamp of every entry: ``epoch`` if given, else ``SOURCE_DATE_EPOCH`` (UTC,
    clamped to the ZIP range), else 1980-01-01."""
    if epoch is None:
        epoch = source_date_epoch()
    if epoch is None:
        return ZIP_EPOCH
    parts = time.gmtime(epoch)[:6]
    if parts[0] < 1980:
        return ZIP_EPOCH
    if parts[0] > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return parts


def integrity_body(entries: list[dict], *, format: str, version: int = INTEGRITY_VERSION) -> dict:
    """``integrity.json``: the format, its version, and name/size/sha256 of each entry."""
    return {
        "format": format,
        "version": version,
        "algorithm": "sha256",
        "entries": [{"name": e["name"], "size": e["size"], "sha256": e["sha256"]} for e in entries],
    }


def safe_file_name(name: str | None, fallback: str) -> str:
    """A file name safe as the last part of an entry name (``media/<sha256>/<name>``): letters,
    digits and ``._-+ ()[]@,=`` kept, anything else ``_``, no leading dots, at most 128 bytes
    (the extension kept); ``fallback`` when nothing is left."""
    cleaned = "".join(
        c if (c.isalnum() or c in "._-+ ()[]@,=") and c not in "/\\" else "_" for c in (name or "")
    ).strip(" ")
    cleaned = cleaned.lstrip(".")
    if not cleaned:
        cleaned = fallback
    if len(cleaned.encode()) > 128:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext[:16] if dot else ""
        cleaned = cleaned.encode()[: 120 - len(ext)].decode("utf-8", "ignore") + (
            "." + ext if ext else ""
        )
    return cleaned


# -- writing -----------------------------------------------------------------------------------


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
    """The output stream, counting bytes for progress."""

    def __init__(self, raw):
        self._raw = raw
        self.written = 0

    def write(self, data) -> int:
        n = self._raw.write(data)
        self.written += len(data)
        return n if n is not None else len(data)

    def flush(self) -> None:
        self._raw.flush()


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


class ZipWriter:
    """Writes a deterministic ZIP to a binary stream, entry by entry, and ends it with
    ``integrity.json`` of ``integrity_format``::

        writer = ZipWriter(out, integrity_format="example.integrity")
        with writer.open_entry("data.jsonl") as entry:
            entry.write(dumps({"a": 1}) + "\\n")
        writer.write_entry("media/x.bin", [chunk1, chunk2], compress=False, size=n)
        body = writer.finish()  # integrity.json's body

    The output is the same bytes whether the stream is a file or a pipe.
    """

    def __init__(
        self,
        stream,
        *,
        integrity_format: str,
        version: int = INTEGRITY_VERSION,
        epoch: int | None = None,
    ):
        self.stream = _CountingStream(stream)
        self.integrity_format = integrity_format
        self.version = version
        self._zip = zipfile.ZipFile(_Unseekable(self.stream), "w", allowZip64=True)
        self._date_time = zip_date_time(epoch)
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
        """Write ``integrity.json`` (with ``signature = signer.sign_body(body)`` when a signer is
        given) and the central directory; returns the integrity body."""
        body = integrity_body(self.entries, format=self.integrity_format, version=self.version)
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
