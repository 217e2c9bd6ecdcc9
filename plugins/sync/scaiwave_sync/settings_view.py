"""What `show-config` and `export-env` print: the effective settings with their sources, and
the ScaiKey settings as .env or shell lines."""

from __future__ import annotations

import json
import os
import shlex

import click

from scaiwave_cli import api
from scaiwave_sync.config import SYNC_VARIABLES
from scaiwave_sync.files import env_value

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


def _source(settings, name: str) -> str:
    if os.environ.get(name):
        return "environment"
    if settings.get(name):
        return ".env"
    return "default"


def settings_rows(settings) -> list[dict]:
    rows = []
    for field, info in settings.masked().items():
        rows.append(
            {
                "setting": info["env"] or f"(--{field.replace('_', '-')})",
                "value": "" if info["value"] is None else info["value"],
                "source": info["source"],
            }
        )
    for name, (default, _kind, _meaning) in SYNC_VARIABLES.items():
        value = settings.get(name)
        rows.append(
            {
                "setting": name,
                "value": value if value else default,
                "source": _source(settings, name) if value else "default",
            }
        )
    return rows


def _values(settings, include_secrets: bool) -> tuple[dict, list[str]]:
    values, hidden = {}, []
    for field, name in SCAIKEY_VARIABLES:
        value = getattr(settings, field)
        if not value:
            continue
        if _is_secret(name) and not include_secrets:
            hidden.append(name)
            continue
        values[name] = value if include_secrets else api.mask_url(value)
    for name in SYNC_VARIABLES:
        if settings.get(name):
            values[name] = settings.get(name)
    return values, hidden


def export_lines(app, *, shell: bool, include_secrets: bool) -> None:
    """Written with click.echo, not app.out: app.out masks every known secret, and
    --include-secrets asks for exactly those."""
    values, hidden = _values(app.settings, include_secrets)
    if app.out.format in ("json", "jsonl"):
        click.echo(json.dumps(values, indent=2 if app.out.format == "json" else None))
    else:
        for name, value in values.items():
            if shell:
                click.echo(f"export {name}={shlex.quote(value)}")
            else:
                click.echo(f"{name}={env_value(value)}")
        for name in hidden:
            click.echo(f"# {name} is set (hidden; pass --include-secrets to print it)")
    if not values and not hidden:
        app.out.info("no ScaiKey settings are set (see `scaiwave show-config`)")
