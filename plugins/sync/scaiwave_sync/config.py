"""The sync plugin's own settings (``SCAIWAVE_SYNC_*``), read through ``settings.get``.

The ScaiKey URL and credentials are the core's fields (``SCAIKEY_BASE_URL``,
``SCAIKEY_CLIENT_ID``, ``SCAIKEY_CLIENT_SECRET``, ...); everything that tunes the sync itself
lives here, with its default and a one-line meaning (``show-config`` prints this table).
"""

from __future__ import annotations

from dataclasses import dataclass

from scaiwave_cli import api

# variable -> (default, kind, meaning)
SYNC_VARIABLES: dict[str, tuple[str, type, str]] = {
    "SCAIWAVE_SYNC_SCOPE": ("admin:read", str, "OAuth scopes asked for in the token request"),
    "SCAIWAVE_SYNC_PAGE_SIZE": ("500", int, "items per page of ScaiKey listings"),
    "SCAIWAVE_SYNC_HTTP_TIMEOUT": ("30", float, "seconds before one HTTP call gives up"),
    "SCAIWAVE_SYNC_RETRIES": ("5", int, "attempts per call on connection errors, 429 and 5xx"),
    "SCAIWAVE_SYNC_BACKOFF": ("0.5", float, "base of the exponential backoff (full jitter)"),
    "SCAIWAVE_SYNC_BACKOFF_MAX": ("30", float, "longest wait between two attempts"),
    "SCAIWAVE_SYNC_RETRY_AFTER_MAX": ("120", float, "longest Retry-After honoured"),
    "SCAIWAVE_SYNC_MAX_DEACTIVATE": ("500", int, "refuse to deactivate more per tenant"),
    "SCAIWAVE_SYNC_MAX_DEACTIVATE_PERCENT": (
        "10",
        float,
        "refuse to deactivate more than this share of a tenant's participants",
    ),
    "SCAIWAVE_SYNC_BATCH_SIZE": ("1000", int, "rows per write transaction"),
    "SCAIWAVE_SYNC_LOCK_TTL": ("1800", int, "seconds after which a held run lock is stale"),
}


@dataclass(frozen=True)
class SyncConfig:
    base_url: str | None
    client_id: str | None
    client_secret: str | None
    scope: str
    page_size: int
    http_timeout: float
    retries: int
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
        values = {}
        for name, (default, kind, _meaning) in SYNC_VARIABLES.items():
            raw = settings.get(name) or default
            try:
                value = kind(raw)
            except ValueError:
                raise api.ConfigError(
                    f"{name}={raw!r} is not a valid {kind.__name__}",
                    code="SW_CONFIG_INVALID",
                    hint=f"set {name} to a number like {default}, or unset it",
                ) from None
            if kind is not str and value < 0:
                raise api.ConfigError(
                    f"{name}={raw!r} must not be negative",
                    code="SW_CONFIG_INVALID",
                    hint=f"the default is {default}",
                )
            values[name.removeprefix("SCAIWAVE_SYNC_").lower()] = value
        if values["page_size"] < 1 or values["retries"] < 1 or values["batch_size"] < 1:
            raise api.ConfigError(
                "SCAIWAVE_SYNC_PAGE_SIZE, SCAIWAVE_SYNC_RETRIES and SCAIWAVE_SYNC_BATCH_SIZE "
                "must be at least 1",
                code="SW_CONFIG_INVALID",
            )
        return cls(
            base_url=settings.scaikey_base_url,
            client_id=settings.scaikey_client_id,
            client_secret=settings.scaikey_client_secret,
            server_name=settings.server_name,
            **values,
        )

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
                code="SW_SCAIKEY_NOT_CONFIGURED",
                hint="run `scaiwave sync register`, then `scaiwave sync status` once approved "
                "(it writes them into .env)",
            )
