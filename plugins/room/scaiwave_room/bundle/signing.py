"""Ed25519 signatures of a bundle's integrity.json: signing on export (the server's federation
key), parsing a ``--public-key`` and checking a signature on the way in. ``cryptography`` is
imported only inside the functions that need it."""

from __future__ import annotations

import re

from scaiwave_cli import api
from scaiwave_room import errors
from scaiwave_room.bundle.layout import INTEGRITY, SIGNATURE_ALGORITHM, b64, signed_bytes, unb64
from scaiwave_room.errors import BundleInvalid


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


def parse_public_key(text: str | bytes) -> bytes:
    """A raw 32-byte Ed25519 public key from base64, hex, or a PEM public key."""
    import base64
    import binascii

    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise api.DomainError(
                "the public key is not text", code=errors.SW_KEY_INVALID, hint="give base64 or PEM"
            ) from None
    text = text.strip()
    if "BEGIN" in text:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise api.DomainError(
                f"the public key is not a valid PEM key: {exc}",
                code=errors.SW_KEY_INVALID,
                hint="give the server's Ed25519 public key (base64 or PEM)",
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise api.DomainError(
                "the public key is not an Ed25519 key",
                code=errors.SW_KEY_INVALID,
                hint="give the server's Ed25519 federation public key",
            )
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            try:
                raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            except (binascii.Error, ValueError):
                raw = None
    if raw is None or len(raw) != 32:
        raise api.DomainError(
            "the public key must be 32 bytes (base64 or hex) or a PEM Ed25519 key",
            code=errors.SW_KEY_INVALID,
            hint="copy it from `scaiwave admin federation` output or the server's well-known",
        )
    return raw


def verify_signature(body: dict, signature: dict, public_key: bytes | None) -> None:
    """Check the Ed25519 signature of the integrity body (against ``public_key`` if given,
    else against the key the bundle names, which proves integrity but not origin)."""
    import binascii

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        embedded = unb64(signature["public_key"])
        value = unb64(signature["value"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise BundleInvalid("integrity.json: the signature is not valid base64") from None
    if public_key is not None and embedded != public_key:
        raise BundleInvalid(
            "the bundle is signed by another key than the one given",
            hint="check --public-key: it must be the exporting server's federation key",
        )
    key_bytes = public_key if public_key is not None else embedded
    try:
        key = Ed25519PublicKey.from_public_bytes(key_bytes)
        key.verify(value, signed_bytes(body))
    except (InvalidSignature, ValueError):
        raise BundleInvalid(
            "the signature of integrity.json does not verify: the bundle was changed after "
            "it was signed",
            entry=INTEGRITY,
        ) from None
