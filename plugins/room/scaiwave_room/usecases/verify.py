"""`room verify`: structure, hashes, manifest and signature of a bundle; no database."""

from __future__ import annotations

import os

from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import open_bundle
from scaiwave_room.bundle.signing import parse_public_key
from scaiwave_room.bundle.validate import validate
from scaiwave_room.usecases.source import bundle_path


def verify_bundle(app, *, from_file=None, public_key=None) -> dict:
    """The report of a sound bundle (``valid``, ``entries``, what it holds, the signing key);
    a ``BundleInvalid`` (exit 1) naming what is wrong otherwise. ``public_key``: the key text,
    or a file holding it."""
    key = None
    if public_key:
        text = public_key
        if os.path.isfile(public_key):
            with open(public_key, "rb") as fh:
                text = fh.read()
        key = parse_public_key(text)
    limits = Limits.from_settings(app.settings)
    with bundle_path(app, from_file) as path, open_bundle(path, limits, public_key=key) as opened:
        report = validate(opened, limits)
        record = {"valid": True, "entries": opened.entry_count}
        record.update(report.as_dict())
        if opened.signature is not None:
            record["key_id"] = opened.signature.get("key_id")
            record["public_key"] = opened.signature.get("public_key")
    return record
