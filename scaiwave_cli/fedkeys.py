"""The server's federation signing keys as objects: shared by ``admin federation key …`` (which
creates and rotates them) and ``room export --sign`` (which signs with the active one).

Storage (``store.models.FederationKey``): ``private_key`` holds the raw 32-byte Ed25519 seed,
base64-encoded; when ``SCAIWAVE_KEY_ENCRYPTION_KEY`` is set (a Fernet key, from
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
it holds the Fernet token of that seed instead and ``encrypted`` is true. ``public_key`` is the
raw 32-byte public key in unpadded base64, as ``/.well-known/scaiwave/server`` publishes it.
Key ids are ``ed25519:<8 characters of the public key's sha256, base32>``.

Nothing here prints or logs a private key; errors name the key id only.
"""

from __future__ import annotations

import base64
import hashlib

from scaiwave_cli.errors import (
    SW_CONFIG_INVALID,
    SW_FEDERATION_KEY_MISSING,
    SW_KEY_ENCRYPTION_KEY_MISSING,
    SW_KEY_ENCRYPTION_KEY_WRONG,
    ConfigError,
    DomainError,
)

ALGORITHM = "ed25519"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def key_id_for(public_raw: bytes) -> str:
    digest = base64.b32encode(hashlib.sha256(public_raw).digest()).decode().lower()
    return f"{ALGORITHM}:{digest[:8]}"


def _fernet(settings):
    from cryptography.fernet import Fernet

    try:
        return Fernet(settings.key_encryption_key.encode())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "SCAIWAVE_KEY_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes)",
            code=SW_CONFIG_INVALID,
            hint='make one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"',
        ) from exc


def new_keypair(settings) -> dict:
    """A fresh Ed25519 key as the column values of a ``FederationKey`` row (id, public_key,
    private_key, encrypted)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if settings.key_encryption_key:
        stored, encrypted = _fernet(settings).encrypt(seed).decode(), True
    else:
        stored, encrypted = b64(seed), False
    return {
        "id": key_id_for(public),
        "public_key": b64(public),
        "private_key": stored,
        "encrypted": encrypted,
    }


def private_key(row, settings):
    """The ``Ed25519PrivateKey`` of a ``FederationKey`` row (decrypting when needed)."""
    from cryptography.fernet import InvalidToken
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if row.encrypted:
        if not settings.key_encryption_key:
            raise ConfigError(
                f"federation key {row.id} is encrypted and SCAIWAVE_KEY_ENCRYPTION_KEY is not set",
                code=SW_KEY_ENCRYPTION_KEY_MISSING,
                hint="set SCAIWAVE_KEY_ENCRYPTION_KEY to the key the server uses",
            )
        try:
            seed = _fernet(settings).decrypt(row.private_key.encode())
        except InvalidToken:
            raise ConfigError(
                f"SCAIWAVE_KEY_ENCRYPTION_KEY does not decrypt federation key {row.id}",
                code=SW_KEY_ENCRYPTION_KEY_WRONG,
                hint="use the encryption key the key was created with",
            ) from None
    else:
        seed = unb64(row.private_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(row):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(unb64(row.public_key))


def active_key(session):
    """The active ``FederationKey`` row, or ``SW_FEDERATION_KEY_MISSING`` (exit 1)."""
    from sqlalchemy import select

    from scaiwave_cli.store.models import FederationKey

    row = session.scalar(
        select(FederationKey).where(
            FederationKey.active_slot == 1, FederationKey.revoked_at.is_(None)
        )
    )
    if row is None:
        raise DomainError(
            "this server has no active federation signing key",
            code=SW_FEDERATION_KEY_MISSING,
            hint="create one with: scaiwave admin federation key generate",
        )
    return row
