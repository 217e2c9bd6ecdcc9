"""Checking bundles in tests: open and validate one as `room verify` would, or expect its
refusal (pytest is imported only by ``assert_refused``)."""

from __future__ import annotations

import io
import zipfile

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.bundle.reader import open_bundle
from scaiwave_room.bundle.validate import validate
from scaiwave_room.errors import SW_BUNDLE_INVALID
from scaiwave_room.testing.samples import build_bundle, sample_media


def check_bundle(tmp_path, data: bytes, limits: Limits | None = None, public_key=None):
    """Write ``data`` to ``tmp_path/b.zip``, open it and validate it; the ``Report``."""
    path = tmp_path / "b.zip"
    path.write_bytes(data)
    with open_bundle(path, limits or Limits(), public_key=public_key) as opened:
        return validate(opened, limits or Limits())


def assert_refused(tmp_path, data, match, limits=None, code=SW_BUNDLE_INVALID, **kw):
    """``check_bundle`` must fail with ``code`` (exit 1) and a message holding ``match``;
    returns the error."""
    import pytest

    with pytest.raises(Exception) as info:
        check_bundle(tmp_path, data, limits, **kw)
    exc = info.value
    assert getattr(exc, "code", None) == code, f"{type(exc).__name__}: {exc}"
    assert exc.exit_code == 1
    assert match in str(exc), str(exc)
    return exc


def good_files():
    """(the entries of a good bundle but integrity.json as (name, bytes), its media's sha256)."""
    media = sample_media()
    key = next(iter(media))
    bundle = build_bundle(media=media)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        files = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != fmt.INTEGRITY]
    return files, key
