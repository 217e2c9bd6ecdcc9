"""The server's federation signing keys as objects: shared by ``admin federation key …`` (which
creates and rotates them) and ``room export --sign`` (which signs with the active one).

Storage (``store.models.FederationKey``): ``private_key`` holds the raw 32-byte Ed25519 seed,
base64-encoded; when ``SCAIWAVE_KEY_ENCRYPTION_KEY`` is set (a Fernet key, from
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
it holds the Fernet token of that seed instead and ``encrypted`` is true. ``public_key`` is the
raw 32-byte public key in unpadded base64, as ``/.well-known/scaiwave/server`` publishes it.
Key ids are ``ed25519:<8 characters of the public key's sha256, base32>``.

Before a new key is stored, ``require_key_storage`` decides how (issue 13): encrypted when
``SCAIWAVE_KEY_ENCRYPTION_KEY`` is set and opens every stored key that is not revoked
(``SW_KEY_ENCRYPTION_KEY_WRONG`` otherwise); never in plaintext next to an encrypted key
(``SW_KEY_ENCRYPTION_KEY_MISSING``, whatever the caller allows); in plaintext only when the
caller passes the operator's explicit opt-in (``SW_KEY_ENCRYPTION_KEY_REQUIRED`` otherwise).
``require_server_name`` is the one rule for the name keys, descriptors and signatures carry:
never unset or ``localhost`` unless the operator names one (``--server-name``).

Nothing here prints or logs a private key; errors name the key id only.
"""

from __future__ import annotations

import base64
import hashlib
import re

from scaiwave_cli.errors import (
    SW_CONFIG_INVALID,
    SW_FEDERATION_KEY_MISSING,
    SW_KEY_ENCRYPTION_KEY_MISSING,
    SW_KEY_ENCRYPTION_KEY_REQUIRED,
    SW_KEY_ENCRYPTION_KEY_WRONG,
    SW_SERVER_NAME_INVALID,
    SW_SERVER_NAME_UNSET,
    ConfigError,
    DomainError,
)

ALGORITHM = "ed25519"
# a DNS name or IPv4 address, optionally with a port (what peers connect to)
_SERVER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$")
MAKE_FERNET_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


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
            hint=f"make one with: {MAKE_FERNET_KEY}",
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


def require_server_name(settings, override: str | None = None) -> str:
    """The name this server publishes, signs and is reached by: ``override`` (the command's
    ``--server-name``) when given, else ``SCAIWAVE_SERVER_NAME``, which must be set and not
    ``localhost`` (``SW_SERVER_NAME_UNSET``, exit 2). Either must be a host name with an
    optional port (``SW_SERVER_NAME_INVALID``, exit 2)."""
    if override is not None:
        name, source = override.strip(), "--server-name"
    else:
        name, source = (settings.server_name or "").strip(), "SCAIWAVE_SERVER_NAME"
        if not name or name.lower() == "localhost":
            raise ConfigError(
                "SCAIWAVE_SERVER_NAME is unset or 'localhost': keys, the well-known descriptor "
                "and signatures would name a server no peer can reach",
                code=SW_SERVER_NAME_UNSET,
                hint="set SCAIWAVE_SERVER_NAME=wave.example.com (environment or .env), or give "
                "--server-name wave.example.com",
            )
    if not _SERVER_NAME.match(name):
        raise ConfigError(
            f"{source} {name!r} is not a server name (a host name, optionally :port)",
            code=SW_SERVER_NAME_INVALID,
            hint="e.g. wave.example.com or wave.example.com:8448, without https:// or a path",
        )
    return name


def require_key_storage(session, settings, *, allow_unencrypted: bool) -> bool:
    """May a new private key be stored, and how? True: encrypted (the key is set and opens
    every stored key that is not revoked); False: in plaintext (no key anywhere, and the
    operator opted in). Refuses (``ConfigError``, exit 2, nothing written) otherwise. Call it
    before generating the key; it reads the stored keys, never prints them."""
    from sqlalchemy import select

    from scaiwave_cli.store.models import FederationKey as Key

    stmt = select(Key.id, Key.private_key, Key.revoked_at).where(Key.encrypted.is_(True))
    encrypted = session.execute(stmt.order_by(Key.created_at, Key.id)).all()
    if settings.key_encryption_key:
        from cryptography.fernet import InvalidToken

        fernet = _fernet(settings)
        for row in encrypted:
            if row.revoked_at is not None:
                continue  # never used again: an old encryption key does not block
            try:
                fernet.decrypt(row.private_key.encode())
            except InvalidToken:
                raise ConfigError(
                    f"SCAIWAVE_KEY_ENCRYPTION_KEY does not decrypt federation key {row.id}: a "
                    "new key would be stored under another encryption key; nothing was changed",
                    code=SW_KEY_ENCRYPTION_KEY_WRONG,
                    hint="set SCAIWAVE_KEY_ENCRYPTION_KEY to the key the stored keys were "
                    "encrypted with (the server's)",
                ) from None
        return True
    if encrypted:
        ids = ", ".join(row.id for row in encrypted[:3]) + (", …" if len(encrypted) > 3 else "")
        raise ConfigError(
            f"SCAIWAVE_KEY_ENCRYPTION_KEY is not set in this shell, and stored federation keys "
            f"are encrypted ({ids}): a new key would be stored unencrypted next to them",
            code=SW_KEY_ENCRYPTION_KEY_MISSING,
            hint="set SCAIWAVE_KEY_ENCRYPTION_KEY to the server's key (--allow-unencrypted "
            "does not apply once keys are encrypted)",
        )
    if not allow_unencrypted:
        raise ConfigError(
            "SCAIWAVE_KEY_ENCRYPTION_KEY is not set: the new private key would be stored "
            "unencrypted in the database",
            code=SW_KEY_ENCRYPTION_KEY_REQUIRED,
            hint=f"set SCAIWAVE_KEY_ENCRYPTION_KEY to a Fernet key (make one with: "
            f"{MAKE_FERNET_KEY}), or pass --allow-unencrypted to store it in plaintext",
        )
    return False
