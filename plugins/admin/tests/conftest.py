"""Generic fixtures of the admin plugin's tests (any test module here may use them).

- ``scaikey``: a ScaiKey stand-in. It signs admin tokens (RS256, a key generated here) and
  serves its JWKS through pytest-httpx; ``scaikey.env(role=..., **claims)`` is the environment
  for ``cli.invoke(..., env=...)``. Nothing leaves the process.
- Key-material watch (autouse): every ``cli.invoke`` output (stdout and stderr) and every
  federation private key the core makes (``api.fedkeys.new_keypair``) are collected for the
  whole session; after each test no output collected so far may contain any private key seen so
  far (the stored value, the Fernet token, the seed as base64/urlsafe/hex/PKCS#8 PEM).
  ``key_watch`` gives a test the collections (to add subprocess outputs, database rows, or to
  assert over everything at the end).
"""

from __future__ import annotations

import base64
import time
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scaiwave_cli import api
from scaiwave_cli.testing import CliHarness

SCAIKEY_BASE = "https://scaikey.test"
SCAIKEY_JWKS = SCAIKEY_BASE + "/api/v1/platform/.well-known/jwks.json"


# -- admin tokens ------------------------------------------------------------------------------


class _Signer:
    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid=kid, use="sig", alg="RS256")

    def token(self, **claims) -> str:
        now = int(time.time())
        body = {"sub": "usr_admin", "iat": now, "exp": now + 600, "role": "super_admin"}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="session")
def _scaikey_signer():
    return _Signer("admin-tests-1")


class ScaiKeyStandIn:
    def __init__(self, signer, httpx_mock):
        self.signer = signer
        httpx_mock.add_response(
            url=SCAIKEY_JWKS, json={"keys": [signer.jwk]}, is_reusable=True, is_optional=True
        )

    def token(self, role: str = "super_admin", **claims) -> str:
        return self.signer.token(role=role, **claims)

    def env(self, role: str = "super_admin", **claims) -> dict:
        """``SCAIWAVE_ADMIN_TOKEN`` (+ where to verify it) for a token with these claims;
        ``exp`` in the past makes an expired token."""
        return {
            "SCAIWAVE_ADMIN_TOKEN": self.token(role, **claims),
            "SCAIKEY_BASE_URL": SCAIKEY_BASE,
        }


@pytest.fixture
def scaikey(_scaikey_signer, httpx_mock):
    return ScaiKeyStandIn(_scaikey_signer, httpx_mock)


# -- private key material must never be printed -------------------------------------------------


class KeyWatch:
    def __init__(self):
        self.outputs: list[str] = []
        self.secrets: set[str] = set()

    def add_output(self, text: str) -> None:
        if text:
            self.outputs.append(text)

    def add_key(self, row, settings=None) -> None:
        """Remember the private material of a ``FederationKey`` row (or its column dict)."""
        if isinstance(row, dict):
            row = SimpleNamespace(**row)
        self.secrets.add(row.private_key)
        private = api.fedkeys.private_key(row, settings)
        seed = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.secrets |= {
            base64.b64encode(seed).decode().rstrip("="),
            base64.urlsafe_b64encode(seed).decode().rstrip("="),
            seed.hex(),
            pem.splitlines()[1],
        }

    def leaks(self, *, everything: bool = False) -> list[str]:
        """Outputs containing a secret (or its first 24 characters). Incremental: only new
        outputs against every secret, and new secrets against every output, unless
        ``everything``."""
        outputs = self.outputs if everything else self.outputs[self._outputs_checked :]
        new_secrets = self.secrets if everything else self.secrets - self._secrets_checked
        found = []
        for secret in self.secrets:
            probe = secret[:24]
            texts = self.outputs if secret in new_secrets else outputs
            found += [f"{probe[:6]}… in output {t[:200]!r}" for t in texts if probe in t]
        self._outputs_checked = len(self.outputs)
        self._secrets_checked = set(self.secrets)
        return found

    _outputs_checked = 0
    _secrets_checked: set[str] = set()


_WATCH = KeyWatch()


@pytest.fixture
def key_watch():
    return _WATCH


@pytest.fixture(autouse=True)
def _watch_private_keys(monkeypatch):
    real_invoke = CliHarness.invoke
    real_new_keypair = api.fedkeys.new_keypair

    def invoke(self, *args, **kwargs):
        result = real_invoke(self, *args, **kwargs)
        _WATCH.add_output(result.stdout)
        _WATCH.add_output(result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            _WATCH.add_output(repr(result.exception))
        return result

    def new_keypair(settings):
        values = real_new_keypair(settings)
        _WATCH.add_key(dict(values), settings)
        return values

    monkeypatch.setattr(CliHarness, "invoke", invoke)
    monkeypatch.setattr(api.fedkeys, "new_keypair", new_keypair)
    yield
    leaks = _WATCH.leaks()
    assert not leaks, "private key material in output:\n" + "\n".join(leaks)
