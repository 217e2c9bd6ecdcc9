"""Everything a plugin may import from the core, and nothing else.

Light names are imported here; heavy ones (settings, store, access, output) resolve on first
attribute access (PEP 562), so ``from scaiwave_cli import api`` at the top of a plugin's
``cli.py`` costs no more than click itself.

Stable names (API_VERSION 1.0):

- ``API_VERSION``; ``pass_app`` and ``AppContext`` (settings, out, store, actor, log, warn)
- errors: ``ScaiwaveError``, ``DomainError``, ``NotFoundError``, ``ConfigError``,
  ``BackendUnavailable``, ``AuthError``, ``PermissionDenied``, ``redact``, ``register_secret``
  (mask a secret a plugin obtains at run time in every later message)
- lazily: ``Settings``, ``load_settings``, ``mask_url``, ``Output``, ``human_bytes``, ``to_json``,
  ``store`` (the ``scaiwave_cli.store`` package: models, sessions, streaming, media),
  ``access`` (who is acting: ``Actor``, scope checks), ``audit`` (write audit rows),
  ``permissions`` ("may participant X do permission Y here?", with the deciding chain),
  ``fedkeys`` (the server's Ed25519 federation keys: create, decrypt, the active one),
  ``tokens`` (admin-token verification; commands get its result as ``app.actor``)
"""

from __future__ import annotations

import importlib

from scaiwave_cli.context import AppContext, pass_app
from scaiwave_cli.discovery import API_VERSION
from scaiwave_cli.errors import (
    AuthError,
    BackendUnavailable,
    ConfigError,
    DomainError,
    NotFoundError,
    PermissionDenied,
    ScaiwaveError,
    redact,
    register_secret,
)

_LAZY = {
    "Settings": ("scaiwave_cli.config", "Settings"),
    "load_settings": ("scaiwave_cli.config", "load_settings"),
    "mask_url": ("scaiwave_cli.config", "mask_url"),
    "Output": ("scaiwave_cli.output", "Output"),
    "human_bytes": ("scaiwave_cli.output", "human_bytes"),
    "to_json": ("scaiwave_cli.output", "to_json"),
    "stdout_is_terminal": ("scaiwave_cli.output", "stdout_is_terminal"),
    "store": ("scaiwave_cli.store", None),
    "access": ("scaiwave_cli.access", None),
    "audit": ("scaiwave_cli.audit", None),
    "permissions": ("scaiwave_cli.permissions", None),
    "fedkeys": ("scaiwave_cli.fedkeys", None),
    "tokens": ("scaiwave_cli.tokens", None),
}

__all__ = [
    "API_VERSION",
    "AppContext",
    "AuthError",
    "BackendUnavailable",
    "ConfigError",
    "DomainError",
    "NotFoundError",
    "PermissionDenied",
    "ScaiwaveError",
    "pass_app",
    "redact",
    "register_secret",
    *_LAZY,
]


def __getattr__(name: str):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'scaiwave_cli.api' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value
