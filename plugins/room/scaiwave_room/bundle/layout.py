"""The room bundle's layout (format version 1): names, canonical JSON, integrity body.

A bundle is a ZIP whose entries come in this order::

    manifest.json                  room metadata, senders, media list, then every event
    media/<sha256>/<name>          one entry per attachment content, sorted by sha256
    integrity.json                 size + sha256 of every entry above (optionally signed)

The deterministic ZIP itself (canonical JSON, timestamps, the streamed writer, the integrity
body) is the core's ``api.zipbundle``; this module names the room bundle's parts. Standard
library and ``api`` only; the bottom of the ``bundle`` package (``writer``, ``reader``,
``schema`` and ``signing`` build on it).
"""

from __future__ import annotations

import base64
import re
import unicodedata

from scaiwave_cli import api

_zipbundle = api.zipbundle

FORMAT = "scaiwave.room-bundle"
FORMAT_VERSION = 1
INTEGRITY_FORMAT = "scaiwave.room-bundle.integrity"
MANIFEST = "manifest.json"
INTEGRITY = _zipbundle.INTEGRITY
MEDIA_PREFIX = "media/"
SIGNATURE_ALGORITHM = "ed25519"
ZIP_EPOCH = _zipbundle.ZIP_EPOCH
DEFLATE_LEVEL = _zipbundle.DEFLATE_LEVEL
CHUNK = _zipbundle.CHUNK
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# canonical JSON (sorted keys, no whitespace, UTF-8 kept) and SOURCE_DATE_EPOCH: the core's
dumps = _zipbundle.dumps
source_date_epoch = _zipbundle.source_date_epoch


def media_entry_name(sha256: str, name: str) -> str:
    return f"{MEDIA_PREFIX}{sha256}/{name}"


def safe_media_name(name: str | None, sha256: str) -> str:
    """A file name safe inside ``media/<sha256>/``: no separators, no dots-only, <= 128 chars
    (``sha256[:16]`` when nothing is left)."""
    return _zipbundle.safe_file_name(name, sha256[:16])


# control and format characters (NUL, newlines, bidi overrides, zero-width), lone surrogates,
# line and paragraph separators: never part of a media name kept in the store
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PATH_SEPARATORS = re.compile(r"[/\\]")


def safe_base_name(name: str | None, sha256: str) -> str:
    """The media name an import keeps: the last non-empty component of ``name`` (``/`` and
    ``\\`` both separate), without control or format characters, a drive (``C:``), leading dots or
    surrounding spaces; ``sha256[:16]`` when nothing is left (an empty name, ``..``).
    ``../../../../tmp/evil`` -> ``evil``, ``/etc/passwd`` -> ``passwd``."""
    text = "".join(c for c in name or "" if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    for part in reversed(_PATH_SEPARATORS.split(text)):
        if len(part) >= 2 and part[1] == ":" and part[0].isascii() and part[0].isalpha():
            part = part[2:]
        part = part.strip().lstrip(".").strip()
        if part:
            return part
    return sha256[:16]


def integrity_body(entries: list[dict]) -> dict:
    return _zipbundle.integrity_body(entries, format=INTEGRITY_FORMAT, version=FORMAT_VERSION)


def signed_bytes(body: dict) -> bytes:
    """What a signature covers: the canonical JSON of the integrity body without ``signature``."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return dumps(unsigned).encode("utf-8")


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
