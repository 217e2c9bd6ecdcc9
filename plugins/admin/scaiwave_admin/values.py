"""The values admin commands accept, parsed without Click or a database: tenant limits and
feature paths, durations and points in time, and the fixed choices (statuses, sort keys,
participant kinds) the Click options list.

Light module (the standard library, ``scaiwave_cli.api`` and ``errors``), so the command modules
import it at module level for their ``click.Choice`` lists; the use cases call the parsers.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from scaiwave_admin import errors
from scaiwave_cli import api

# -- tenants ------------------------------------------------------------------------------------

SORT_KEYS = ("slug", "name", "partner", "members", "rooms", "storage", "ai-tokens", "status",
             "created")  # fmt: skip
STATUSES = ("active", "suspended")
LIST_STATUSES = (*STATUSES, "deleting")  # deleting: `admin delete-tenant` under way
LIMITS = ("max_participants", "max_rooms", "max_storage_bytes", "monthly_ai_tokens")

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip
_LIMIT_HINT = "e.g. --limit max_rooms=500 --limit max_storage_bytes=50GiB"

# -- participants -------------------------------------------------------------------------------

# The kinds of ``store.models.PARTICIPANT_KINDS`` (repeated here so that `--help` does not import
# SQLAlchemy; a test keeps the two equal).
KINDS = ("human", "ai", "helper", "sidekick", "federated", "shadow")


def parse_limit(text: str) -> tuple[str, int | None]:
    """``NAME=VALUE`` -> (column, int or None). VALUE: a count, ``none``/``unlimited`` (no
    limit), and for max_storage_bytes a size like ``50GiB`` or ``2TB``."""
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in LIMITS:
        raise api.DomainError(
            f"invalid --limit {text!r}: expected NAME=VALUE with NAME one of {', '.join(LIMITS)}",
            code=errors.SW_TENANT_LIMIT_INVALID,
            hint=_LIMIT_HINT,
        )
    value = value.strip()
    if value.lower() in ("none", "unlimited", "null", ""):
        return name, None
    units = _UNITS if name == "max_storage_bytes" else {"": 1}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)", value)
    unit = match.group(2).lower() if match else None
    if not match or unit not in units or ("." in match.group(1) and unit in ("", "b")):
        allowed = "a whole number" + (" or a size like 50GiB" if len(units) > 1 else "")
        raise api.DomainError(
            f"invalid --limit {text!r}: the value must be {allowed}, or 'none' for no limit",
            code=errors.SW_TENANT_LIMIT_INVALID,
            hint=_LIMIT_HINT,
        )
    number = int(float(match.group(1)) * units[unit])
    if number > 2**62:
        raise api.DomainError(
            f"invalid --limit {text!r}: too large", code=errors.SW_TENANT_LIMIT_INVALID
        )
    return name, number


def parse_feature(text: str) -> tuple[list[str], object]:
    """``PATH=VALUE`` -> (path parts, value). VALUE is JSON when it parses (``true``, ``5``,
    ``{"a": 1}``, ``"5"``), else the text itself."""
    path, sep, raw = text.partition("=")
    parts = path.strip().split(".")
    if not sep or not all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts):
        raise api.DomainError(
            f"invalid --feature {text!r}: expected PATH=VALUE with a dotted PATH",
            code=errors.SW_TENANT_FEATURE_INVALID,
            hint="e.g. --feature prompt_studio.enabled=true "
            "--feature sidekick_limits.max_concurrent=3",
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return parts, value


def set_feature(features: dict, parts: list[str], value, *, unset: bool = False) -> None:
    """Set (or with ``unset`` remove) ``parts`` in the ``features`` dict, creating objects on
    the way; a scalar in the way is ``SW_TENANT_FEATURE_INVALID``."""
    node = features
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            if unset:
                return
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise api.DomainError(
                f"feature path {'.'.join(parts)!r}: {'.'.join(parts[: i + 1])!r} is "
                f"{json.dumps(child)}, not an object",
                code=errors.SW_TENANT_FEATURE_INVALID,
                hint="set the parent itself, or unset it first with --unset-feature",
            )
        node = child
    if unset:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


# -- durations and times ------------------------------------------------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, *, option: str) -> dt.timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` (a bare number means days)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text or "")
    if not match:
        raise api.DomainError(
            f"invalid {option} {text!r}: expected a duration like 30d, 12h, 90m",
            code=errors.SW_DURATION_INVALID,
            hint="units: s, m, h, d, w (a bare number means days)",
        )
    return dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "d"])


def parse_when(text: str, *, option: str, now: dt.datetime) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (``api.parse_time``: ``2026-01-31``,
    ``2026-01-31T12:00``, ``…+02:00``; naive means UTC) or a relative duration back from now
    (``7d``, ``24h``). Not ``api.TIME``: the relative forms and ``SW_TIME_INVALID`` (exit 1)
    are part of `admin audit`'s interface."""
    text = (text or "").strip()
    if re.fullmatch(r"\d+(?:\.\d+)?\s*[smhdw]", text):
        return now - parse_duration(text, option=option)
    try:
        return api.parse_time(text)
    except ValueError:
        raise api.DomainError(
            f"invalid {option} {text!r}: expected an ISO date/time or a duration like 7d",
            code=errors.SW_TIME_INVALID,
            hint="e.g. 2026-01-31, 2026-01-31T12:00:00Z or 24h",
        ) from None
