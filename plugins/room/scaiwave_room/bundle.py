"""The room bundle on the way out: a deterministic ZIP written as a stream.

Layout (format version 1), entries in this order::

    manifest.json                  room metadata, senders, media list, then every event
    media/<sha256>/<name>          one entry per attachment content, sorted by sha256
    integrity.json                 size + sha256 of every entry above (optionally signed)

Determinism: every entry has the same timestamp (``SOURCE_DATE_EPOCH`` if set, else
1980-01-01 00:00:00), the same attributes (0644, Unix), a fixed compression (deflate level 6 for
the JSON entries, stored for media) and a fixed order; every JSON object is written with sorted
keys and no whitespace. ``zipfile`` writes to a non-seekable stream (a pipe) by putting a data
descriptor after each entry, so nothing is ever held whole in memory.

Only the standard library is imported here (``cryptography`` only when signing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import zipfile

FORMAT = "scaiwave.room-bundle"
FORMAT_VERSION = 1
INTEGRITY_FORMAT = "scaiwave.room-bundle.integrity"
MANIFEST = "manifest.json"
INTEGRITY = "integrity.json"
MEDIA_PREFIX = "media/"
SIGNATURE_ALGORITHM = "ed25519"
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


def media_entry_name(sha256: str, name: str) -> str:
    return f"{MEDIA_PREFIX}{sha256}/{name}"


def safe_media_name(name: str | None, sha256: str) -> str:
    """A file name safe inside ``media/<sha256>/``: no separators, no dots-only, <= 128 chars."""
    cleaned = "".join(
        c if (c.isalnum() or c in "._-+ ()[]@,=") and c not in "/\\" else "_" for c in (name or "")
    ).strip(" ")
    cleaned = cleaned.lstrip(".")
    if not cleaned:
        cleaned = sha256[:16]
    if len(cleaned.encode()) > 128:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext[:16] if dot else ""
        cleaned = cleaned.encode()[: 120 - len(ext)].decode("utf-8", "ignore") + (
            "." + ext if ext else ""
        )
    return cleaned


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


def integrity_body(entries: list[dict]) -> dict:
    return {
        "format": INTEGRITY_FORMAT,
        "version": FORMAT_VERSION,
        "algorithm": "sha256",
        "entries": [{"name": e["name"], "size": e["size"], "sha256": e["sha256"]} for e in entries],
    }


def signed_bytes(body: dict) -> bytes:
    """What a signature covers: the canonical JSON of the integrity body without ``signature``."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return dumps(unsigned).encode("utf-8")


class Ed25519Signer:
    """Signs the integrity body with a server's federation key: an ``Ed25519PrivateKey`` (what
    ``api.fedkeys.private_key`` returns) or its raw 32-byte seed. Keys and signatures are
    written in unpadded base64, as ``/.well-known/scaiwave/server`` publishes public keys."""

    def __init__(self, private_key, *, key_id: str | None = None):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if isinstance(private_key, bytes | bytearray):
            private_key = Ed25519PrivateKey.from_private_bytes(bytes(private_key))
        self._key = private_key
        self.key_id = key_id

    @property
    def public_key_raw(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key_b64(self) -> str:
        return b64(self.public_key_raw)

    def sign_body(self, body: dict) -> dict:
        signature = self._key.sign(signed_bytes(body))
        out = {
            "algorithm": SIGNATURE_ALGORITHM,
            "public_key": self.public_key_b64,
            "value": b64(signature),
        }
        if self.key_id:
            out["key_id"] = self.key_id
        return out


def b64(data: bytes) -> str:
    """Unpadded standard base64 (the federation keys' text form)."""
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    """Standard base64, padded or not; ``binascii.Error``/``ValueError`` when it is not."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def iter_file(path, chunk: int = CHUNK):
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                return
            yield data
