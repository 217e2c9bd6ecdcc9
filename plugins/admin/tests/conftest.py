"""Generic fixtures of the admin plugin's tests (any test module here may use them).

Admin tokens come from the core's ``admin_token`` fixture (``scaiwave_cli.testing``):
``admin_token.env("partner_admin", partner_id=...)`` is the environment for ``cli.invoke``.

- Key-material watch (autouse): every ``cli.invoke`` output (stdout and stderr) and every
  federation private key the core makes (``api.fedkeys.new_keypair``) are collected for the
  whole session; after each test no output collected so far may contain any private key seen so
  far (the stored value, the Fernet token, the seed as base64/urlsafe/hex/PKCS#8 PEM).
  ``key_watch`` gives a test the collections (to add subprocess outputs, database rows, or to
  assert over everything at the end).
- ``seed``: partners and tenants (through the core's ``factory``) and their usage rows.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization

from scaiwave_cli import api
from scaiwave_cli.testing import CliHarness

# -- tenants, partners and their usage ----------------------------------------------------------


class Seed:
    """Partners and tenants through the core's ``factory`` (ids ``ptn-<slug>``, ``tnt-<slug>``;
    no ScaiKey partner id unless given), their usage straight into the store."""

    def __init__(self, store, factory):
        self.store, self.factory = store, factory

    def partner(self, slug, scaikey_partner_id=None):
        return self.factory.partner(slug, scaikey_partner_id=scaikey_partner_id).id

    def tenant(self, slug, *, partner=None, status="active", scaikey=None, **extra):
        return self.factory.tenant(
            slug, partner=partner, status=status, scaikey_tenant_id=scaikey or f"tnt_{slug}",
            features={}, ai_defaults={}, **extra,
        ).id  # fmt: skip

    def usage(self, slug, *, members=0, inactive=0, rooms=0, media=(), ai=()):
        """``media``: (sha, size) pairs; ``ai``: (day, model, tokens)."""
        tid = f"tnt-{slug}"
        with self.store.transaction() as s:
            ws = api.store.models.Workspace(
                id=f"ws-{slug}", tenant_id=tid, slug="general", name="General"
            )
            s.add(ws)
            for i in range(members + inactive):
                s.add(
                    api.store.models.Participant(
                        id=f"prt-{slug}-{i}", tenant_id=tid, display_name=f"p{i}",
                        active=i < members,
                    )
                )  # fmt: skip
            s.flush()
            for i in range(rooms):
                s.add(
                    api.store.models.Room(id=f"room-{slug}-{i}", tenant_id=tid, workspace_id=ws.id)
                )
            for i, (sha, size) in enumerate(media):
                s.add(
                    api.store.models.Media(
                        id=f"med-{slug}-{i}", tenant_id=tid, sha256=sha, name=f"f{i}", size=size,
                        storage_key=f"{tid}/{sha}",
                    )
                )  # fmt: skip
            for day, model, tokens in ai:
                s.add(
                    api.store.models.AiTokenUsage(
                        tenant_id=tid, day=day, model=model, tokens=tokens
                    )
                )


@pytest.fixture
def seed(store, factory):
    return Seed(store, factory)


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
