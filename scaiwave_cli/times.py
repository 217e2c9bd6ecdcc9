"""Times on the command line: ISO 8601 in, aware UTC datetimes inside, ``…Z`` strings out.

``parse_time("2026-11-30")``, ``parse_time("2026-11-30T10:00:00Z")`` and
``parse_time("2026-11-30T11:00:00+01:00")`` all give aware UTC datetimes; a time without an offset
is taken as UTC (servers log in UTC). ``TIME`` is the Click parameter type for options such as
``--since``; a bad value is Click's usage error (exit 2) with an example of a good one.
"""

from __future__ import annotations

import datetime as _dt

import click

_EXAMPLE = "2026-11-30 or 2026-11-30T10:00:00Z"


def parse_time(text: str) -> _dt.datetime:
    """An ISO 8601 date or date-time -> aware UTC datetime. Raises ``ValueError`` when it is not."""
    value = (text or "").strip()
    if not value:
        raise ValueError(f"empty time; expected ISO 8601, e.g. {_EXAMPLE}")
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time; e.g. {_EXAMPLE}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed.astimezone(_dt.UTC)


def isoformat(moment: _dt.datetime | None) -> str | None:
    """``2026-11-30T10:00:00Z`` (naive = UTC; microseconds kept when present)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")


class TimeParam(click.ParamType):
    """Click type for ISO 8601 times (``--since 2026-11-01``)."""

    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, _dt.datetime):
            return value
        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param, ctx=None) -> str:
        return "ISO-TIME"


TIME = TimeParam()
