"""The room bundle on the way in: a hardened ZIP reader.

``open_bundle(path, limits)`` refuses, before any manifest byte is parsed:

- anything that is not a ZIP, a truncated or corrupt one (central directory, local headers,
  CRC), more entries than ``limits.max_entries``;
- names that are absolute, carry a drive (``C:``), ``..`` or ``.`` components, backslashes,
  NUL bytes, or are not one of ``manifest.json``, ``integrity.json``,
  ``media/<sha256>/<name>``; duplicate names; directories and symlinks;
- encrypted entries and compression other than stored/deflate;
- zip bombs: a declared total uncompressed size over ``limits.max_uncompressed_bytes``, or an
  entry (or the whole archive) whose uncompressed/compressed ratio is over ``limits.max_ratio``
  (``zipfile`` never yields more than the declared size: extra bytes fail the CRC);
- overlapping entries (two central-directory records whose data share bytes, the trick behind
  "better zip bombs"; Python 3.11's zipfile does not notice);
- a missing ``integrity.json``, one that is not the last entry, that does not list exactly the
  other entries, or whose size/sha256 disagree with the bytes; a media entry whose content does
  not hash to the sha256 in its path; two entries for one sha256; a bad signature.

Every refusal is a ``BundleInvalid`` (``errors``; exit 1, ``SW_BUNDLE_INVALID``) whose message
names the entry. The caps are ``limits.Limits``; the signature check is ``signing``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib

import attrs

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.layout import SHA256_RE
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.schema import structure_integrity
from scaiwave_room.bundle.signing import verify_signature
from scaiwave_room.errors import BundleInvalid

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_MEDIA_NAME_MAX = 255
_RATIO_FLOOR = 1 << 20  # entries smaller than this are not ratio-checked on their own


# -- spooling ----------------------------------------------------------------------------------


def spool(stream, *, limit: int, directory=None) -> str:
    """Copy a (non-seekable) binary stream into a temporary file, refusing past ``limit`` bytes.

    Returns the file's path; the caller removes it."""
    fd, path = tempfile.mkstemp(prefix="scaiwave-bundle-", suffix=".zip", dir=directory)
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise BundleInvalid(
                        f"the bundle is larger than the {limit} byte cap",
                        hint="raise SCAIWAVE_ROOM_MAX_BUNDLE_BYTES if this bundle is trusted",
                    )
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path


# -- the opened bundle -------------------------------------------------------------------------


@attrs.define
class MediaEntry:
    sha256: str
    name: str
    info: zipfile.ZipInfo
    size: int


@attrs.define
class OpenedBundle:
    """A ZIP that passed every container and integrity check. Close it when done."""

    path: str
    zip: zipfile.ZipFile
    manifest: zipfile.ZipInfo
    media: dict  # sha256 -> MediaEntry
    integrity: dict
    signature: dict | None = None
    signature_checked: bool = False
    entry_count: int = 0
    total_bytes: int = 0
    # integrity.json's {size, sha256} of manifest.json when its check is deferred to the
    # streaming pass (``open_bundle(defer_manifest=True)``), else None
    manifest_pending: dict | None = None

    def open_manifest(self):
        return self.zip.open(self.manifest)

    def open_media(self, sha256: str):
        return self.zip.open(self.media[sha256].info)

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_entry_name(name: str) -> tuple[str, str | None, str | None]:
    """Classify an entry name: ("manifest"|"integrity"|"media", sha256, file name).

    Raises ``BundleInvalid`` for anything unsafe or unknown."""
    shown = name[:200]
    if "\x00" in name:
        raise BundleInvalid(f"entry name {shown!r} contains a NUL byte", entry=shown)
    if "\\" in name:
        raise BundleInvalid(f"entry name {shown!r} contains a backslash", entry=shown)
    if name.startswith("/"):
        raise BundleInvalid(f"entry name {shown!r} is an absolute path", entry=shown)
    if _DRIVE_RE.match(name):
        raise BundleInvalid(f"entry name {shown!r} names a drive", entry=shown)
    parts = name.split("/")
    if any(p in ("..", ".") for p in parts):
        raise BundleInvalid(f"entry name {shown!r} has '..' or '.' components", entry=shown)
    if any(p == "" for p in parts):
        raise BundleInvalid(f"entry name {shown!r} has an empty component", entry=shown)
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise BundleInvalid(f"entry name {shown!r} has control characters", entry=shown)
    if name == fmt.MANIFEST:
        return "manifest", None, None
    if name == fmt.INTEGRITY:
        return "integrity", None, None
    if len(parts) == 3 and parts[0] + "/" == fmt.MEDIA_PREFIX:
        sha, file_name = parts[1], parts[2]
        if not SHA256_RE.match(sha):
            raise BundleInvalid(
                f"media entry {shown!r}: {sha[:80]!r} is not a lowercase sha256", entry=shown
            )
        if len(file_name.encode("utf-8", "surrogatepass")) > _MEDIA_NAME_MAX or _DRIVE_RE.match(
            file_name
        ):
            raise BundleInvalid(f"media entry {shown!r}: bad file name", entry=shown)
        return "media", sha, file_name
    raise BundleInvalid(
        f"unexpected entry {shown!r} (a bundle holds manifest.json, media/<sha256>/<name> "
        "and integrity.json only)",
        entry=shown,
    )


def _check_info(info: zipfile.ZipInfo) -> None:
    name = info.orig_filename
    shown = name[:200]
    if info.filename != name:
        raise BundleInvalid(f"entry name {shown!r} is not a plain path", entry=shown)
    mode = info.external_attr >> 16
    if info.is_dir() or (mode and stat.S_ISDIR(mode)):
        raise BundleInvalid(f"entry {shown!r} is a directory", entry=shown)
    if mode and stat.S_ISLNK(mode):
        raise BundleInvalid(f"entry {shown!r} is a symbolic link", entry=shown)
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise BundleInvalid(f"entry {shown!r} is not a regular file", entry=shown)
    if info.flag_bits & 0x1 or info.flag_bits & 0x40:
        raise BundleInvalid(f"entry {shown!r} is encrypted", entry=shown)
    if info.flag_bits & 0x20:
        raise BundleInvalid(f"entry {shown!r} uses compressed patched data", entry=shown)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleInvalid(
            f"entry {shown!r} uses compression method {info.compress_type}; only stored (0) "
            "and deflate (8) are accepted",
            entry=shown,
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise BundleInvalid(f"entry {shown!r}: stored entry with two sizes", entry=shown)


def _check_overlaps(fp, infos: list[zipfile.ZipInfo], start_dir: int, file_size: int) -> None:
    """Every entry's local header + data must lie before the next entry and the directory."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    previous_end = 0
    previous_name = None
    for info in ordered:
        shown = info.orig_filename[:200]
        offset = info.header_offset
        if offset < 0 or offset + _LOCAL_HEADER.size > file_size:
            raise BundleInvalid(f"entry {shown!r}: local header out of range", entry=shown)
        if offset < previous_end:
            raise BundleInvalid(f"entry {shown!r} overlaps entry {previous_name!r}", entry=shown)
        fp.seek(offset)
        raw = fp.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size:
            raise BundleInvalid(f"entry {shown!r}: truncated local header", entry=shown)
        header = _LOCAL_HEADER.unpack(raw)
        if header[0] != _LOCAL_MAGIC:
            raise BundleInvalid(f"entry {shown!r}: bad local header", entry=shown)
        name_len, extra_len = header[10], header[11]
        local_name = fp.read(name_len)
        try:
            local_text = local_name.decode("utf-8" if header[3] & 0x800 else "cp437")
        except UnicodeDecodeError:
            local_text = None
        if local_text != info.orig_filename:
            raise BundleInvalid(
                f"entry {shown!r}: local header names a different file", entry=shown
            )
        end = offset + _LOCAL_HEADER.size + name_len + extra_len + info.compress_size
        if end > start_dir:
            raise BundleInvalid(
                f"entry {shown!r} overlaps the central directory or runs past the archive",
                entry=shown,
            )
        previous_end = end
        previous_name = shown


def _read_limited(zf, info, limit: int) -> bytes:
    if info.file_size > limit:
        raise BundleInvalid(
            f"{info.orig_filename} is larger than {limit} bytes", entry=info.orig_filename
        )
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise BundleInvalid(
            f"{info.orig_filename} is larger than {limit} bytes", entry=info.orig_filename
        )
    return data


def _hash_entry(zf, info) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > info.file_size:
                raise BundleInvalid(
                    f"entry {info.orig_filename!r} holds more than its declared size",
                    entry=info.orig_filename,
                )
            digest.update(chunk)
    return size, digest.hexdigest()


def _zip_error(exc) -> BundleInvalid:
    text = str(exc) or type(exc).__name__
    return BundleInvalid(f"the bundle is not a valid ZIP archive: {text}")


def open_bundle(
    path,
    limits: Limits | None = None,
    *,
    public_key: bytes | None = None,
    defer_manifest: bool = False,
):
    """Open and check a bundle file; returns an ``OpenedBundle`` (see the module docstring).

    ``defer_manifest``: check every entry now except manifest.json, whose size and sha256
    ``validate.validate`` then checks while it streams it (one inflate of the largest entry
    instead of two: the import's choice, which refuses and rolls back at the end if they
    differ). ``room verify`` checks everything up front."""
    limits = limits or Limits()
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size > limits.max_bundle_bytes:
        raise BundleInvalid(
            f"the bundle is larger than the {limits.max_bundle_bytes} byte cap",
            hint="raise SCAIWAVE_ROOM_MAX_BUNDLE_BYTES if this bundle is trusted",
        )
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _zip_error(exc) from None
    except (NotImplementedError, struct.error, UnicodeDecodeError, OverflowError) as exc:
        raise _zip_error(exc) from None
    try:
        return _check(zf, path, size, limits, public_key, defer_manifest)
    except BaseException:
        zf.close()
        raise


def _check(zf, path, size, limits, public_key, defer_manifest=False) -> OpenedBundle:
    infos = zf.infolist()
    if not infos:
        raise BundleInvalid("the bundle is empty")
    if len(infos) > limits.max_entries:
        raise BundleInvalid(
            f"the bundle has {len(infos)} entries; the cap is {limits.max_entries}",
            hint="raise SCAIWAVE_ROOM_MAX_ENTRIES if this bundle is trusted",
        )
    seen: set[str] = set()
    total = 0
    compressed = 0
    manifest = integrity = None
    media: dict[str, MediaEntry] = {}
    for info in infos:
        name = info.orig_filename
        if name in seen:
            raise BundleInvalid(f"entry {name[:200]!r} appears twice", entry=name[:200])
        seen.add(name)
        kind, sha, file_name = check_entry_name(name)
        _check_info(info)
        total += info.file_size
        compressed += info.compress_size
        if total > limits.max_uncompressed_bytes:
            raise BundleInvalid(
                f"the bundle would unpack to more than {limits.max_uncompressed_bytes} bytes "
                "(zip bomb?)",
                entry=name[:200],
                hint="raise SCAIWAVE_ROOM_MAX_UNCOMPRESSED_BYTES if this bundle is trusted",
            )
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise BundleInvalid(
                f"entry {name[:200]!r} expands {info.file_size // max(info.compress_size, 1)}"
                f" times (cap {limits.max_ratio}; zip bomb?)",
                entry=name[:200],
                hint="raise SCAIWAVE_ROOM_MAX_RATIO if this bundle is trusted",
            )
        if kind == "manifest":
            manifest = info
        elif kind == "integrity":
            integrity = info
        else:
            if sha in media:
                raise BundleInvalid(
                    f"media {sha} is stored twice ({media[sha].name!r}, {file_name!r})",
                    entry=name[:200],
                )
            media[sha] = MediaEntry(sha256=sha, name=file_name, info=info, size=info.file_size)
    if total > _RATIO_FLOOR and total > limits.max_ratio * max(compressed, 1):
        raise BundleInvalid(
            f"the bundle expands {total // max(compressed, 1)} times (cap {limits.max_ratio};"
            " zip bomb?)",
            hint="raise SCAIWAVE_ROOM_MAX_RATIO if this bundle is trusted",
        )
    if manifest is None:
        raise BundleInvalid("the bundle has no manifest.json")
    if integrity is None:
        raise BundleInvalid("the bundle has no integrity.json (it must be the last entry)")
    try:
        _check_overlaps(zf.fp, infos, zf.start_dir, size)
    except (OSError, ValueError, struct.error) as exc:
        raise _zip_error(exc) from None
    if infos[-1] is not integrity or max(i.header_offset for i in infos) != integrity.header_offset:
        raise BundleInvalid("integrity.json must be the last entry of the bundle")

    body = _load_integrity(zf, integrity, limits)
    listed = {e["name"]: e for e in body["entries"]}
    others = [i for i in infos if i is not integrity]
    missing = [i.orig_filename for i in others if i.orig_filename not in listed]
    if missing:
        raise BundleInvalid(f"integrity.json does not list {missing[0]!r}", entry=fmt.INTEGRITY)
    extra = sorted(set(listed) - {i.orig_filename for i in others})
    if extra:
        raise BundleInvalid(
            f"integrity.json lists {extra[0][:200]!r}, which the bundle does not hold",
            entry=fmt.INTEGRITY,
        )
    for info in others:
        want = listed[info.orig_filename]
        if want["size"] != info.file_size:
            raise BundleInvalid(
                f"entry {info.orig_filename!r} has {info.file_size} bytes; integrity.json "
                f"says {want['size']}",
                entry=info.orig_filename,
            )
        if defer_manifest and info is manifest:
            continue
        try:
            got_size, digest = _hash_entry(zf, info)
        except BundleInvalid:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise BundleInvalid(
                f"entry {info.orig_filename!r} is corrupt: {exc}", entry=info.orig_filename
            ) from None
        except (NotImplementedError, RuntimeError, struct.error) as exc:
            raise BundleInvalid(
                f"entry {info.orig_filename!r} cannot be read: {exc}", entry=info.orig_filename
            ) from None
        if got_size != want["size"] or digest != want["sha256"]:
            raise BundleInvalid(
                f"entry {info.orig_filename!r} does not match its sha256 in integrity.json",
                entry=info.orig_filename,
            )
    for sha, entry in media.items():
        if listed[entry.info.orig_filename]["sha256"] != sha:
            raise BundleInvalid(
                f"media entry {entry.info.orig_filename!r}: content sha256 is "
                f"{listed[entry.info.orig_filename]['sha256']}, not the one in its name",
                entry=entry.info.orig_filename,
            )
    signature = body.get("signature")
    checked = False
    if signature is not None:
        verify_signature(body, signature, public_key)
        checked = public_key is not None
    elif public_key is not None:
        raise BundleInvalid(
            "the bundle is not signed", hint="export it again with `scaiwave room export --sign`"
        )
    return OpenedBundle(
        path=path,
        zip=zf,
        manifest=manifest,
        media=media,
        integrity=body,
        signature=signature,
        signature_checked=checked,
        entry_count=len(infos),
        total_bytes=total,
        manifest_pending=listed[fmt.MANIFEST] if defer_manifest else None,
    )


def _load_integrity(zf, info, limits) -> dict:
    try:
        data = _read_limited(zf, info, limits.max_integrity_bytes)
    except BundleInvalid:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise BundleInvalid(f"integrity.json is corrupt: {exc}", entry=fmt.INTEGRITY) from None
    except (NotImplementedError, RuntimeError, struct.error) as exc:
        raise BundleInvalid(f"integrity.json cannot be read: {exc}", entry=fmt.INTEGRITY) from None
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleInvalid(
            f"integrity.json is not valid JSON: {exc}", entry=fmt.INTEGRITY
        ) from None
    structure_integrity(body)
    return body
