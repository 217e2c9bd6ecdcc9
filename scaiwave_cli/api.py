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

Added in API 1.1 (the shared helpers; each lives once, here):

- ``errors``: the core's ``SW_*`` codes as constants (``api.errors.SW_TENANT_NOT_FOUND``)
- look-ups (lazily): ``find_tenant``, ``find_participant``, ``find_participants``,
  ``find_workspace``, ``folded`` (Unicode-folded ``lower`` on both engines)
- terminal: ``is_terminal``, ``stdin_is_terminal``, ``stdout_is_terminal``, ``stderr_is_terminal``
- files: ``atomic_write``, ``atomic_writer`` (temp + fsync + rename, with a mode),
  ``private_dir`` (a directory and its missing parents made 0700)
- times: ``parse_time``, ``isoformat``, ``TIME`` (Click type for ISO 8601 options)
- confirmation: ``yes_option``, ``confirm`` (a plan; ``--yes``, a TTY prompt, or a refusal)
- progress: ``progress(label, total=…, unit=…)`` (a rich bar on a TTY's stderr, else nothing)
- http: ``api.http`` (a wall-clock deadline per call, a byte cap per body, safe JSON)
- settings: ``declare_setting`` (a plugin's variable: typed, validated once, in ``show-config``),
  ``load_plugin_declarations`` (import every plugin's light ``cli.py``: all declarations known)

Added in API 1.2:

- ``zipbundle`` (lazily): deterministic ZIP bundles: canonical JSON ``dumps``, ``ZipWriter``
  (streamed, ends with integrity.json), ``integrity_body``, ``verify_integrity`` (bounded: zip
  bombs, unsafe names, entries not matching integrity.json are ``SW_ZIP_INVALID``)
- ``pause_at(variable, point)``: the kill -9 tests' kill points (inert unless ``variable`` names
  ``point``; ``scaiwave_cli.testing``'s ``cli.kill_at`` drives them)

Added in API 1.3:

- ``fanout`` (lazily): ``fanout.run(app, jobs, workers=N | queue=URL, label=…)`` runs
  ``fanout.Job``s (``scaiwave.jobs`` entry points) on N local worker processes or as ARQ jobs
  on Redis for ``scaiwave worker``; returns a ``fanout.Outcome`` (done / failed per job key)
- ``pause_at`` parks only the first process that reaches its point (others continue)
- ``zipbundle.ZipWriter(..., epoch=N)``: a fixed entry time given by the caller
"""

from __future__ import annotations

import importlib

from scaiwave_cli import errors
from scaiwave_cli.confirm import confirm, yes_option
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
from scaiwave_cli.plugin_settings import declare_setting, load_plugin_declarations
from scaiwave_cli.terminal import (
    is_terminal,
    stderr_is_terminal,
    stdin_is_terminal,
    stdout_is_terminal,
)
from scaiwave_cli.times import TIME, isoformat, parse_time

_LAZY = {
    "Settings": ("scaiwave_cli.config", "Settings"),
    "load_settings": ("scaiwave_cli.config", "load_settings"),
    "mask_url": ("scaiwave_cli.config", "mask_url"),
    "Output": ("scaiwave_cli.output", "Output"),
    "human_bytes": ("scaiwave_cli.output", "human_bytes"),
    "to_json": ("scaiwave_cli.output", "to_json"),
    "store": ("scaiwave_cli.store", None),
    "access": ("scaiwave_cli.access", None),
    "audit": ("scaiwave_cli.audit", None),
    "permissions": ("scaiwave_cli.permissions", None),
    "fedkeys": ("scaiwave_cli.fedkeys", None),
    "tokens": ("scaiwave_cli.tokens", None),
    "http": ("scaiwave_cli.http", None),
    "find_tenant": ("scaiwave_cli.lookup", "find_tenant"),
    "find_participant": ("scaiwave_cli.lookup", "find_participant"),
    "find_participants": ("scaiwave_cli.lookup", "find_participants"),
    "find_workspace": ("scaiwave_cli.lookup", "find_workspace"),
    "folded": ("scaiwave_cli.lookup", "folded"),
    "atomic_write": ("scaiwave_cli.files", "atomic_write"),
    "atomic_writer": ("scaiwave_cli.files", "atomic_writer"),
    "private_dir": ("scaiwave_cli.files", "private_dir"),
    "progress": ("scaiwave_cli.progress", "progress"),
    "zipbundle": ("scaiwave_cli.zipbundle", None),
    "pause_at": ("scaiwave_cli.killpoints", "pause_at"),
    "fanout": ("scaiwave_cli.fanout", None),
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
    "errors",
    "confirm",
    "yes_option",
    "declare_setting",
    "load_plugin_declarations",
    "is_terminal",
    "stdin_is_terminal",
    "stdout_is_terminal",
    "stderr_is_terminal",
    "TIME",
    "isoformat",
    "parse_time",
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
