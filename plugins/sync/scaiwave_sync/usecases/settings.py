"""The sync plugin's own settings (``SCAIWAVE_SYNC_*``, declared in ``cli.py`` with
``api.declare_setting``) as one ``SyncConfig``, and what ``show-config`` and ``export-env`` print.

The ScaiKey URL and credentials are the core's fields (``SCAIKEY_BASE_URL``,
``SCAIKEY_CLIENT_ID``, ``SCAIKEY_CLIENT_SECRET``, ...); everything that tunes the sync itself is
a declared setting with its type, default and a one-line meaning (``show-config`` lists them).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, fields

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters.files import env_value

PREFIX = "SCAIWAVE_SYNC_"  # the sync's own settings, declared in cli.py (api.declare_setting)


_CORE_FIELDS = ("base_url", "client_id", "client_secret", "server_name")


@dataclass(frozen=True)
class SyncConfig:
    base_url: str | None
    client_id: str | None
    client_secret: str | None
    scope: str
    page_size: int
    http_timeout: float
    retries: int
    http_budget: float
    max_listing: int
    max_response_bytes: int
    backoff: float
    backoff_max: float
    retry_after_max: float
    max_deactivate: int
    max_deactivate_percent: float
    batch_size: int
    lock_ttl: int
    server_name: str

    @classmethod
    def from_settings(cls, settings) -> SyncConfig:
        """The typed values of the declared ``SCAIWAVE_SYNC_*`` settings (checked once, by the
        core, when the settings were loaded) and the core's ScaiKey settings."""
        return cls(
            base_url=settings.scaikey_base_url,
            client_id=settings.scaikey_client_id,
            client_secret=settings.scaikey_client_secret,
            server_name=settings.server_name,
            **{name: settings.get(PREFIX + name.upper()) for name in cls.tuning()},
        )

    @classmethod
    def tuning(cls) -> list[str]:
        """The fields that come from ``SCAIWAVE_SYNC_<FIELD>``, in order."""
        return [f.name for f in fields(cls) if f.name not in _CORE_FIELDS]

    def require_credentials(self) -> None:
        """ConfigError (exit 2) naming what is missing for talking to ScaiKey's admin API."""
        missing = [
            name
            for name, value in (
                ("SCAIKEY_BASE_URL", self.base_url),
                ("SCAIKEY_CLIENT_ID", self.client_id),
                ("SCAIKEY_CLIENT_SECRET", self.client_secret),
            )
            if not value
        ]
        if missing:
            raise api.ConfigError(
                f"ScaiKey is not configured: {', '.join(missing)} not set",
                code=errors.SW_SCAIKEY_NOT_CONFIGURED,
                hint="run `scaiwave sync register`, then `scaiwave sync status` once approved "
                "(it writes them into .env)",
            )


# -- show-config and export-env ------------------------------------------------------------------

SCAIKEY_VARIABLES = (
    ("scaikey_base_url", "SCAIKEY_BASE_URL"),
    ("scaikey_client_id", "SCAIKEY_CLIENT_ID"),
    ("scaikey_client_secret", "SCAIKEY_CLIENT_SECRET"),
    ("scaikey_app_id", "SCAIKEY_APP_ID"),
    ("scaikey_issuer", "SCAIKEY_ISSUER"),
    ("scaikey_audience", "SCAIKEY_AUDIENCE"),
    ("scaikey_jwks_url", "SCAIKEY_JWKS_URL"),
)
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "KEY_ENCRYPTION_KEY")


def _is_secret(name: str) -> bool:
    return any(word in name.upper() for word in _SECRET_WORDS)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_rows(settings, *, env_file_option: bool = False) -> list[dict]:
    """``show-config``: the core's settings, then every declared plugin setting, each with its
    value (secrets masked) and its source. What is in use, not only what is set:
    ``SCAIWAVE_DB_URL`` is the URL the store opens (``settings.effective_db_url``: an async driver
    rewritten; unset: the embedded SQLite store, source ``default (embedded)``), the
    ``(--env-file)`` row the .env file read (``--env-file``: source ``option``; the working
    directory's: ``default (./.env)``) or ``none``."""
    rows = []
    for field, info in settings.masked().items():
        value, source = info["value"], info["source"]
        if field == "db_url":  # the URL the store opens (async driver rewritten, or embedded)
            value = api.mask_url(settings.effective_db_url)
            source = "default (embedded)" if settings.embedded else source
        elif field == "env_file":
            source = "option" if env_file_option else "default (./.env)" if value else "default"
            value = value or "none"
        rows.append(
            {
                "setting": info["env"] or f"(--{field.replace('_', '-')})",
                "value": "" if value is None else value,
                "source": source,
            }
        )
    for row in _declared_rows(settings):
        rows.append({"setting": row["name"], "value": _text(row["value"]), "source": row["source"]})
    return rows


def _declared_rows(settings) -> list[dict]:
    """The declared settings: the sync's first, in SyncConfig's order, then the others."""
    order = {PREFIX + name.upper(): i for i, name in enumerate(SyncConfig.tuning())}
    rows = settings.declared_settings()
    return sorted(rows, key=lambda row: (order.get(row["name"], len(order)), row["name"]))


def export_values(settings, include_secrets: bool) -> tuple[dict, list[str]]:
    """``export-env``: the ScaiKey and sync settings that are set, and the secrets left out."""
    values, hidden = {}, []
    for field, name in SCAIKEY_VARIABLES:
        value = getattr(settings, field)
        if not value:
            continue
        if _is_secret(name) and not include_secrets:
            hidden.append(name)
            continue
        values[name] = value if include_secrets else api.mask_url(value)
    for row in _declared_rows(settings):
        name = row["name"]
        if name.startswith(PREFIX) and settings.raw.get(name):
            values[name] = settings.raw[name]  # as set (.env or environment)
    return values, hidden


def export_lines(values: dict, hidden: list[str], *, shell: bool) -> list[str]:
    """``NAME=value`` lines python-dotenv reads back unchanged, or ``export NAME='value'``."""
    if shell:
        lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    else:
        lines = [f"{name}={env_value(value)}" for name, value in values.items()]
    lines += [f"# {name} is set (hidden; pass --include-secrets to print it)" for name in hidden]
    return lines
