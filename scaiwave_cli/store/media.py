"""The media store: content-addressed files, one per (tenant, sha256).

``LocalMediaStore`` keeps them under ``SCAIWAVE_MEDIA_DIR`` (default ``$SCAIWAVE_HOME/media``)
at ``<tenant_id>/<sha[:2]>/<sha256>``. Writes go to a temporary file in the same directory,
are hashed while written, fsynced and renamed into place, so a reader never sees half a file and
a file whose bytes do not match its name is never stored. Reads verify the hash as they go.
Directories are created 0700 and files 0600: the store holds every tenant's attachments.

A later S3/MinIO adapter implements the same five methods (``storage_key``, ``exists``,
``put_stream``, ``put_bytes``, ``open_verified``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

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


class LocalMediaStore:
    def __init__(self, root):
        self.root = Path(root)

    def storage_key(self, tenant_id: str, sha256: str) -> str:
        return storage_key(tenant_id, sha256)

    def path_for(self, tenant_id: str, sha256: str) -> Path:
        return self.root / storage_key(tenant_id, sha256)

    def exists(self, tenant_id: str, sha256: str) -> bool:
        return self.path_for(tenant_id, sha256).is_file()

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
