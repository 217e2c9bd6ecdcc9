"""Helpers to build bundles in memory, good and hostile, for tests and the fuzz suite.

Not imported by the CLI and outside the plugin's layers. ``build_bundle`` writes a well-formed
bundle with ``BundleWriter`` (optionally from a raw manifest) and ``raw_zip`` writes a ZIP by
hand so a test can set any field (names, flags, methods, offsets, sizes) to what an attacker
would; ``hostile_bundle`` is the fuzz corpus.
"""

from __future__ import annotations

from scaiwave_room.testing.checks import assert_refused, check_bundle, good_files
from scaiwave_room.testing.hostile import MANIFEST_NAME, hostile_bundle
from scaiwave_room.testing.rawzip import (
    RawEntry,
    integrity_for,
    local_header,
    raw_bundle,
    raw_zip,
    read_manifest,
    rezip,
)
from scaiwave_room.testing.samples import (
    DB_SERVER,
    SERVER,
    build_bundle,
    manifest_bytes,
    media_of,
    normalise_manifest,
    sample_events,
    sample_header,
    sample_media,
    sample_room_events,
    sha,
)

__all__ = [
    "DB_SERVER",
    "MANIFEST_NAME",
    "SERVER",
    "RawEntry",
    "assert_refused",
    "build_bundle",
    "check_bundle",
    "good_files",
    "hostile_bundle",
    "integrity_for",
    "local_header",
    "manifest_bytes",
    "media_of",
    "normalise_manifest",
    "raw_bundle",
    "raw_zip",
    "read_manifest",
    "rezip",
    "sample_events",
    "sample_header",
    "sample_media",
    "sample_room_events",
    "sha",
]
