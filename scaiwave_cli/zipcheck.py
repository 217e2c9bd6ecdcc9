"""Verifying a ZIP someone hands us, within caps; reached as ``api.zipbundle.verify_integrity``
(``scaiwave_cli.zipbundle`` holds the writer and re-exports what is here).

``verify_integrity(path, format=…)`` checks that the archive's entries are exactly those its
``integrity.json`` lists (same names, same order, each with its size and sha256, hashed as a
stream). Refused, each as a ``DomainError`` with ``SW_ZIP_INVALID`` (exit 1) naming the entry:
not a ZIP; more entries than ``max_entries`` (read from the end-of-central-directory record
before ``zipfile`` builds one object per entry); names that are absolute, carry a drive,
``..``/``.``/empty components, backslashes, NUL or control characters; duplicate names;
directories, symlinks, encrypted entries, compression other than stored/deflate; a declared
total over ``max_total_bytes`` or an entry expanding more than ``max_ratio`` times (zip bombs;
an entry yielding more than its declared size is refused as it is read); a missing, oversized
or malformed ``integrity.json``, or one that is not the last entry. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import zipfile
import zlib

from scaiwave_cli.errors import SW_ZIP_INVALID, DomainError

INTEGRITY = "integrity.json"
INTEGRITY_VERSION = 1
MAX_ENTRIES = 100_000
MAX_TOTAL_BYTES = 32 << 30
MAX_RATIO = 200
MAX_INTEGRITY_BYTES = 64 << 20
_RATIO_FLOOR = 1 << 20  # entries smaller than this are not ratio-checked on their own
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _invalid(message: str, *, hint: str | None = None) -> DomainError:
    return DomainError(
        message,
        code=SW_ZIP_INVALID,
        hint=hint or "the file is damaged or was changed after it was written; write it again",
    )


def check_entry_name(name: str) -> None:
    """Refuse an entry name that is not a plain relative path (see the module docstring)."""
    shown = name[:200]
    if "\x00" in name:
        raise _invalid(f"entry name {shown!r} contains a NUL byte")
    if "\\" in name:
        raise _invalid(f"entry name {shown!r} contains a backslash")
    if name.startswith("/"):
        raise _invalid(f"entry name {shown!r} is an absolute path")
    if _DRIVE_RE.match(name):
        raise _invalid(f"entry name {shown!r} names a drive")
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise _invalid(f"entry name {shown!r} has '..' or '.' components")
    if any(p == "" for p in parts):
        raise _invalid(f"entry name {shown!r} has an empty component")
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise _invalid(f"entry name {shown!r} has control characters")


def _check_info(info: zipfile.ZipInfo) -> None:
    name = info.orig_filename
    shown = name[:200]
    if info.filename != name:
        raise _invalid(f"entry name {shown!r} is not a plain path")
    mode = info.external_attr >> 16
    if info.is_dir() or (mode and stat.S_ISDIR(mode)):
        raise _invalid(f"entry {shown!r} is a directory")
    if mode and stat.S_ISLNK(mode):
        raise _invalid(f"entry {shown!r} is a symbolic link")
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise _invalid(f"entry {shown!r} is not a regular file")
    if info.flag_bits & 0x1 or info.flag_bits & 0x40:
        raise _invalid(f"entry {shown!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _invalid(
            f"entry {shown!r} uses compression method {info.compress_type}; only stored (0) "
            "and deflate (8) are accepted"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _invalid(f"entry {shown!r}: stored entry with two sizes")


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)
_ODD_ERRORS = (NotImplementedError, RuntimeError, struct.error, OverflowError, UnicodeError)


def hash_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, str]:
    """(bytes, sha256) of one entry, read in chunks; more bytes than declared are refused."""
    digest = hashlib.sha256()
    size = 0
    name = info.orig_filename
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                if size > info.file_size:
                    raise _invalid(f"entry {name[:200]!r} holds more than its declared size")
                digest.update(chunk)
    except DomainError:
        raise
    except _READ_ERRORS as exc:
        raise _invalid(f"entry {name[:200]!r} is corrupt: {exc}") from None
    except _ODD_ERRORS as exc:
        raise _invalid(f"entry {name[:200]!r} cannot be read: {exc}") from None
    return size, digest.hexdigest()


def _load_integrity(zf, info, fmt: str, max_bytes: int) -> tuple[dict, bytes]:
    if info.file_size > max_bytes:
        raise _invalid(f"{INTEGRITY} is larger than {max_bytes} bytes")
    try:
        with zf.open(info) as fh:
            data = fh.read(max_bytes + 1)
    except _READ_ERRORS as exc:
        raise _invalid(f"{INTEGRITY} is corrupt: {exc}") from None
    except _ODD_ERRORS as exc:
        raise _invalid(f"{INTEGRITY} cannot be read: {exc}") from None
    if len(data) > max_bytes:
        raise _invalid(f"{INTEGRITY} is larger than {max_bytes} bytes")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _invalid(f"{INTEGRITY} is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _invalid(f"{INTEGRITY} is not a JSON object")
    formats = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    if body.get("format") not in formats:
        shown = str(body.get("format"))[:100]
        wanted = " or ".join(repr(f) for f in formats)
        raise _invalid(f"{INTEGRITY} is of format {shown!r}, not {wanted}")
    if body.get("version") != INTEGRITY_VERSION or body.get("algorithm") != "sha256":
        raise _invalid(f"{INTEGRITY}: unsupported version or algorithm")
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise _invalid(f"{INTEGRITY} has no list of entries")
    for item in entries:
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and type(item.get("size")) is int
            and item["size"] >= 0
            and isinstance(item.get("sha256"), str)
            and _SHA256_RE.match(item["sha256"])
        )
        if not ok:
            raise _invalid(f"{INTEGRITY} lists a malformed entry: {str(item)[:200]}")
    return body, data


def _declared_entries(path: str) -> int | None:
    """The entry count the end-of-central-directory record declares, read before ``zipfile``
    builds one object per entry (a hostile directory of millions of entries is refused
    without that memory); None when it cannot be read (``zipfile`` then says why)."""
    try:
        with open(path, "rb") as fh:
            record = zipfile._EndRecData(fh)  # noqa: SLF001 (the stdlib's own EOCD reader)
    except (OSError, ValueError, struct.error, AttributeError):
        return None
    if not record:
        return None
    return record[zipfile._ECD_ENTRIES_TOTAL]  # noqa: SLF001


def verify_integrity(
    path,
    *,
    format: str | tuple[str, ...],
    max_entries: int = MAX_ENTRIES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: int = MAX_RATIO,
    max_integrity_bytes: int = MAX_INTEGRITY_BYTES,
) -> dict:
    """Check the ZIP at ``path`` against its ``integrity.json`` of ``format`` (see the module
    docstring); ``format`` may be a tuple of accepted formats (the body's ``format`` says which).
    Returns the integrity body plus ``integrity_sha256`` (of integrity.json's bytes),
    ``total_bytes`` (uncompressed) and ``file_bytes``. ``SW_ZIP_INVALID`` otherwise."""
    path = os.fspath(path)
    declared = _declared_entries(path)
    if declared is not None and declared > max_entries:
        raise _invalid(f"the archive declares {declared} entries; the cap is {max_entries}")
    try:
        file_bytes = os.path.getsize(path)
        zf = zipfile.ZipFile(path, "r")
    except (*_READ_ERRORS, *_ODD_ERRORS, zipfile.LargeZipFile) as exc:
        raise _invalid(f"{path} is not a valid ZIP archive: {exc or type(exc).__name__}") from None
    with zf:
        body, data, total = _verify(zf, format, max_entries, max_total_bytes, max_ratio,
                                    max_integrity_bytes)  # fmt: skip
    result = dict(body)
    result.update(
        integrity_sha256=hashlib.sha256(data).hexdigest(),
        total_bytes=total,
        file_bytes=file_bytes,
    )
    return result


def _verify(zf, fmt, max_entries, max_total_bytes, max_ratio, max_integrity_bytes):
    infos = zf.infolist()
    if not infos:
        raise _invalid("the archive is empty")
    if len(infos) > max_entries:
        raise _invalid(f"the archive has {len(infos)} entries; the cap is {max_entries}")
    seen: set[str] = set()
    total = compressed = 0
    for info in infos:
        name = info.orig_filename
        if name in seen:
            raise _invalid(f"entry {name[:200]!r} appears twice")
        seen.add(name)
        check_entry_name(name)
        _check_info(info)
        total += info.file_size
        compressed += info.compress_size
        if total > max_total_bytes:
            raise _invalid(
                f"the archive would unpack to more than {max_total_bytes} bytes at entry "
                f"{name[:200]!r} (zip bomb?)"
            )
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise _invalid(
                f"entry {name[:200]!r} expands {info.file_size // max(info.compress_size, 1)} "
                f"times (cap {max_ratio}; zip bomb?)"
            )
    if total > _RATIO_FLOOR and total > max_ratio * max(compressed, 1):
        raise _invalid(
            f"the archive expands {total // max(compressed, 1)} times (cap {max_ratio}; zip bomb?)"
        )
    last = infos[-1]
    if INTEGRITY not in seen:
        raise _invalid(f"the archive has no {INTEGRITY}")
    if last.orig_filename != INTEGRITY or any(i.header_offset > last.header_offset for i in infos):
        raise _invalid(f"{INTEGRITY} must be the last entry of the archive")
    body, data = _load_integrity(zf, last, fmt, max_integrity_bytes)
    others = infos[:-1]
    listed = [e["name"] for e in body["entries"]]
    if len(set(listed)) != len(listed):
        raise _invalid(f"{INTEGRITY} lists an entry twice")
    held = [i.orig_filename for i in others]
    listed_set = set(listed)
    missing = [n for n in held if n not in listed_set]
    if missing:
        raise _invalid(f"{INTEGRITY} does not list {missing[0][:200]!r}")
    extra = [n for n in listed if n not in seen or n == INTEGRITY]
    if extra:
        raise _invalid(f"{INTEGRITY} lists {extra[0][:200]!r}, which the archive does not hold")
    if listed != held:
        raise _invalid(f"the entries are not in the order {INTEGRITY} lists them")
    for info, want in zip(others, body["entries"], strict=True):
        name = info.orig_filename
        if want["size"] != info.file_size:
            raise _invalid(
                f"entry {name[:200]!r} has {info.file_size} bytes; {INTEGRITY} says {want['size']}"
            )
        size, digest = hash_entry(zf, info)
        if size != want["size"] or digest != want["sha256"]:
            raise _invalid(f"entry {name[:200]!r} does not match its sha256 in {INTEGRITY}")
    return body, data, total
