"""Caps for untrusted bundles (``Limits``), read from the plugin's declared settings
(``SCAIWAVE_ROOM_MAX_*``, declared in ``cli.py``; the defaults here are the same numbers)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Limits:
    """Caps for untrusted bundles; each can be set with the environment variable in brackets."""

    max_bundle_bytes: int = 16 << 30  # SCAIWAVE_ROOM_MAX_BUNDLE_BYTES
    max_uncompressed_bytes: int = 32 << 30  # SCAIWAVE_ROOM_MAX_UNCOMPRESSED_BYTES
    max_ratio: int = 200  # SCAIWAVE_ROOM_MAX_RATIO
    max_entries: int = 100_000  # SCAIWAVE_ROOM_MAX_ENTRIES
    max_integrity_bytes: int = 64 << 20  # SCAIWAVE_ROOM_MAX_INTEGRITY_BYTES
    max_events: int = 20_000_000  # SCAIWAVE_ROOM_MAX_EVENTS
    max_content_bytes: int = 64 * 1024  # SCAIWAVE_ROOM_MAX_CONTENT_BYTES
    max_depth: int = 64  # SCAIWAVE_ROOM_MAX_JSON_DEPTH

    @classmethod
    def from_settings(cls, settings) -> Limits:
        """The caps as ``app.settings`` gives them: typed, validated and defaulted by the
        declarations in ``scaiwave_room/cli.py`` (``api.declare_setting``)."""
        fields = attrs.fields(cls)
        return cls(**{f.name: settings.get(setting_name(f.name), f.default) for f in fields})


def setting_name(field: str) -> str:
    """``max_depth`` -> ``SCAIWAVE_ROOM_MAX_JSON_DEPTH``; the others by their own name."""
    return "SCAIWAVE_ROOM_" + field.upper().replace("MAX_DEPTH", "MAX_JSON_DEPTH")
