"""`room verify-all DIR`: a whole tenant export checked, with no database.

``tenant-manifest.json`` against ``tenant-manifest.integrity.json`` (then its shape); every
bundle it lists as a ``room.verify`` job (``api.fanout``): present, the size and sha256 the
manifest names, the full bundle check of `room verify`, the room and the export time the
manifest names; and no file in DIR the export did not write (an extra bundle, a partial file).
Every problem is collected; any one is ``SW_ROOM_EXPORT_INVALID`` (exit 1) listing them all.
"""

from __future__ import annotations

import os
from pathlib import Path

from scaiwave_room.usecases import tenant_manifest as tm


def verify_all(app, *, from_dir, workers=1, queue=None):
    """Returns ``(summary, error)``: ``error`` is the ``SW_ROOM_EXPORT_INVALID`` to raise after
    printing the summary, or None."""
    tm.check_queue(app, queue)
    base = Path(os.path.abspath(from_dir))
    manifest = tm.read_manifest(base)
    rooms = manifest["rooms"]
    epoch = manifest["parameters"]["exported_at"]
    problems = []
    listed = {Path(r["file"]).name for r in rooms}
    others, partials = tm.strangers(base, listed | {tm.STATE, tm.MANIFEST, tm.INTEGRITY})
    for rel in others + partials:
        problems.append({"file": rel, "problem": "not part of the export (extra file)"})
    present = []
    for r in rooms:
        if (base / r["file"]).is_file():
            present.append(r)
        else:
            problems.append({"file": r["file"], "room_id": r["id"], "problem": "missing"})
    tag = tm.dir_tag(base)
    done, failed = tm.run_rooms(
        app,
        "room.verify",
        present,
        lambda r: f"{r['id']}@{tag}",
        lambda r: {
            "dir": str(base),
            "file": r["file"],
            "room_id": r["id"],
            "sha256": r["sha256"],
            "bytes": r["bytes"],
            "epoch": epoch,
        },
        workers=workers,
        queue=queue,
        label=f"verifying {base}",
    )
    verified = len(done)
    for r in present:
        if r["id"] in failed:
            problem = failed[r["id"]]
            problems.append(
                {
                    "file": r["file"],
                    "room_id": r["id"],
                    "problem": f"{problem.get('code')}: {problem.get('message')}",
                }
            )
    problems.sort(key=lambda p: p["file"])
    summary = {
        "dir": str(base),
        "valid": not problems,
        "tenant": manifest["parameters"]["tenant"],
        "exported_at": manifest["exported_at"],
        "rooms": len(rooms),
        "verified": verified,
        "refused": len(manifest["refused"]),
        "events": manifest["totals"]["events"],
        "bytes": manifest["totals"]["bytes"],
        "problems": problems,
    }
    if not problems:
        return summary, None
    shown = "; ".join(f"{p['file']}: {p['problem']}" for p in problems[:5])
    more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
    return summary, tm.invalid(f"the export in {base} does not verify: {shown}{more}", problems)
