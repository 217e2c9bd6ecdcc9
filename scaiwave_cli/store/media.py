"""The media store: content-addressed files, one per (tenant, sha256).

``LocalMediaStore`` keeps them under ``SCAIWAVE_MEDIA_DIR`` (default ``$SCAIWAVE_HOME/media``)
at ``<tenant_id>/<sha[:2]>/<sha256>``. Writes go to a temporary file in the same directory,
are hashed while written, fsynced and renamed into place, so a reader never sees half a file and
a file whose bytes do not match its name is never stored. Reads verify the hash as they go.
Directories are created 0700 and files 0600: the store holds every tenant's attachments.

A later S3/MinIO adapter implements the same five methods (``storage_key``, ``exists``,
``put_stream``, ``put_bytes``, ``open_verified``), and the two that remove (``delete``,
``files``: what `room delete`/`purge` and `admin media purge-orphans` use).

Deleting: the store never knows which rows point at a file; the caller asks the database first
(no row of the tenant names the sha256) and calls ``delete``. Storing content that is already
there touches the file (its mtime), so a grace period on the mtime (`purge-orphans
--older-than`) also protects a file that an import in progress has just re-stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from scaiwave_cli.errors import SW_MEDIA_CORRUPT, SW_MEDIA_INVALID, SW_MEDIA_MISSING, DomainError
from scaiwave_cli.files import private_dir

_SHA = re.compile(r"^[0-9a-f]{64}$")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CHUNK = 1 << 20


class MediaCorrupt(DomainError):
    code = SW_MEDIA_CORRUPT


def _check(tenant_id: str, sha256: str) -> None:
    if not _SAFE.match(tenant_id or "") or ".." in tenant_id:
        raise DomainError(f"not a tenant id: {tenant_id!r}", code=SW_MEDIA_INVALID)
    if not _SHA.match(sha256 or ""):
        raise DomainError(f"not a sha256 hex digest: {sha256!r}", code=SW_MEDIA_INVALID)


def storage_key(tenant_id: str, sha256: str) -> str:
    _check(tenant_id, sha256)
    return f"{tenant_id}/{sha256[:2]}/{sha256}"


def path_for(settings, tenant_id: str, sha256: str) -> Path:
    """Where the local media store keeps (tenant, sha256) for these settings."""
    return Path(settings.media_path) / storage_key(tenant_id, sha256)


class StoredFile(NamedTuple):
    """One file of the store: ``tenant_id``/``sha256`` are None for a temporary file a killed
    writer left behind (``.incoming-*`` at the root)."""

    tenant_id: str | None
    sha256: str | None
    path: Path
    size: int
    mtime: float


class LocalMediaStore:
    def __init__(self, root):
        self.root = Path(root)

    def storage_key(self, tenant_id: str, sha256: str) -> str:
        return storage_key(tenant_id, sha256)

    def path_for(self, tenant_id: str, sha256: str) -> Path:
        return self.root / storage_key(tenant_id, sha256)

    def exists(self, tenant_id: str, sha256: str) -> bool:
        return self.path_for(tenant_id, sha256).is_file()

    def refresh(self, tenant_id: str, sha256: str) -> bool:
        """Mark existing content "just stored" (its mtime), so that an orphan purge's grace
        period protects it while the row that will reference it is not committed yet. False
        when the file is gone."""
        try:
            os.utime(self.path_for(tenant_id, sha256))
        except FileNotFoundError:
            return False
        return True

    def put_stream(self, tenant_id: str, chunks, *, expected_sha256: str | None = None):
        """Store the bytes of ``chunks`` (an iterable of bytes, or a binary file). Returns
        ``(sha256, size)``. With ``expected_sha256``, bytes that hash otherwise are refused
        (``SW_MEDIA_CORRUPT``) and nothing is left behind. Storing existing content is a no-op."""
        if hasattr(chunks, "read"):
            fileobj = chunks
            chunks = iter(lambda: fileobj.read(CHUNK), b"")
        private_dir(self.root)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            sha = digest.hexdigest()
            if expected_sha256 is not None and sha != expected_sha256:
                raise MediaCorrupt(
                    f"media bytes hash to {sha}, expected {expected_sha256}",
                    hint="the source is damaged; nothing was stored",
                )
            final = self.path_for(tenant_id, sha)
            if final.is_file():
                os.unlink(tmp)
                os.utime(final)  # "just stored": the grace period of an orphan purge
            else:
                private_dir(final.parent)
                os.replace(tmp, final)  # mkstemp made it 0600
            return sha, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_bytes(self, tenant_id: str, data: bytes, *, expected_sha256: str | None = None):
        return self.put_stream(tenant_id, [data], expected_sha256=expected_sha256)

    def open_verified(self, tenant_id: str, sha256: str) -> Iterator[bytes]:
        """The stored bytes in chunks; ``SW_MEDIA_CORRUPT`` at the end if they do not hash to
        ``sha256``, ``SW_MEDIA_MISSING`` if the file is absent."""
        path = self.path_for(tenant_id, sha256)
        if not path.is_file():
            raise DomainError(
                f"media {sha256} of tenant {tenant_id} is missing from {self.root}",
                code=SW_MEDIA_MISSING,
            )
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                yield chunk
        if digest.hexdigest() != sha256:
            raise MediaCorrupt(f"media file {path} does not match its sha256 {sha256}")

    def read_bytes(self, tenant_id: str, sha256: str) -> bytes:
        return b"".join(self.open_verified(tenant_id, sha256))

    def delete(self, tenant_id: str, sha256: str) -> int:
        """Remove the file of (tenant, sha256); the bytes freed (0 when it was not there). The
        caller has made sure no row references it."""
        path = self.path_for(tenant_id, sha256)
        try:
            size = path.stat().st_size
            os.unlink(path)
        except FileNotFoundError:
            return 0
        return size

    def delete_stored(self, entry: StoredFile) -> int:
        """Remove a file ``files`` listed (a content file or a leftover temporary file), if it
        is still the same file (size and mtime unchanged: nothing re-stored it meanwhile)."""
        try:
            st = entry.path.stat()
            if st.st_size != entry.size or st.st_mtime != entry.mtime:
                return 0
            os.unlink(entry.path)
        except FileNotFoundError:
            return 0
        return entry.size

    def files(self, tenant_id: str | None = None) -> Iterator[StoredFile]:
        """Every stored file (of one tenant, or of all plus the root's leftover ``.incoming-*``
        temporary files), sorted by path; names that are not the store's own are skipped."""
        if not self.root.is_dir():
            return
        if tenant_id is None:
            for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
                if entry.name.startswith(".incoming-") and entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    yield StoredFile(None, None, Path(entry.path), st.st_size, st.st_mtime)
            tenants = sorted(
                e.name
                for e in os.scandir(self.root)
                if e.is_dir(follow_symlinks=False) and _SAFE.match(e.name) and ".." not in e.name
            )
        else:
            storage_key(tenant_id, "0" * 64)  # validates the tenant id
            tenants = [tenant_id]
        for tenant in tenants:
            base = self.root / tenant
            if not base.is_dir():
                continue
            for prefix in sorted(os.listdir(base)):
                folder = base / prefix
                if len(prefix) != 2 or not folder.is_dir() or folder.is_symlink():
                    continue
                for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    if _SHA.match(entry.name) and entry.name[:2] == prefix:
                        st = entry.stat(follow_symlinks=False)
                        yield StoredFile(tenant, entry.name, Path(entry.path), st.st_size,
                                         st.st_mtime)  # fmt: skip
