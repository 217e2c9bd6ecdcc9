"""Hand-made ZIPs: every field (names, flags, methods, offsets, sizes) set to what an attacker
would, and helpers to take bundles apart and put them back together."""

from __future__ import annotations

import io
import json
import struct
import zlib

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.testing.samples import sha


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
