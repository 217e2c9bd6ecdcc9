"""`room export-all` / `verify-all` / `import-all` on two ARQ workers (a real `redis-server`,
`scaiwave worker` processes), and killed with SIGKILL (a worker mid-room, the coordinating
command), on SQLite and MariaDB (``db_url``): a re-run (or the retry) finishes with the
`tenant-manifest.json` of an uninterrupted run, byte for byte (SOURCE_DATE_EPOCH set in all)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from room_export_all_helpers import (  # noqa: E402
    EPOCH,
    export_all,
    files_of,
    import_all,
    seed,
    verify_all,
)

EXPORT = ("--output", "json", "room", "export-all", "--tenant", "acme", "--to")


def _reference(w, tmp_path) -> bytes:
    """The manifest of an uninterrupted run (in-process, one worker)."""
    seed(w)
    ref = tmp_path / "reference"
    result = export_all(w, ref)
    assert result.exit_code == 0, result.output
    return (ref / "tenant-manifest.json").read_bytes()


def _same_export(w, out, reference: bytes) -> None:
    assert (out / "tenant-manifest.json").read_bytes() == reference
    assert not [f for f in files_of(out) if f.endswith(".tmp")]
    result = verify_all(w, out)
    assert result.exit_code == 0, result.output


def test_round_trip_on_two_arq_workers(world, tmp_path, redis_url, arq_workers):
    w = world
    reference = _reference(w, tmp_path)
    arq_workers.start(2, redis_url)
    out = tmp_path / "queued"
    result = export_all(w, out, "--queue", redis_url)
    assert result.exit_code == 0, result.output + arq_workers.logs()
    assert json.loads(result.stdout)["exported"] == 3
    _same_export(w, out, reference)
    checked = verify_all(w, out, "--queue", redis_url)
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["verified"] == 3
    imported = import_all(w, out, "--queue", redis_url)
    assert imported.exit_code == 0, imported.output + arq_workers.logs()
    summary = json.loads(imported.stdout)
    assert (summary["imported"], summary["skipped"]) == (3, 0)
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 3
    assert w.count(w.m.Event, tenant_id="tnt-globex") == 8 + 3 + 2
    again = import_all(w, out, "--queue", redis_url)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["skipped"] == 3
    assert w.count(w.m.Room, tenant_id="tnt-globex") == 3


def test_a_local_worker_killed_mid_room_is_replaced(world, tmp_path):
    w = world
    reference = _reference(w, tmp_path)
    w.cli.env["SOURCE_DATE_EPOCH"] = EPOCH
    out = tmp_path / "out"
    done = w.cli.kill_at(
        "SCAIWAVE_ROOM_TEST_HOOK", "bundle", *EXPORT, str(out), "--workers", "2",
        marker_dir=tmp_path, kill="marker",
    )  # fmt: skip
    # the worker died with a partial bundle; its room was tried again on a new worker
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exported"] == 3
    _same_export(w, out, reference)


def test_a_killed_coordinator_is_resumed_by_a_re_run(world, tmp_path):
    w = world
    reference = _reference(w, tmp_path)
    w.cli.env["SOURCE_DATE_EPOCH"] = EPOCH
    out = tmp_path / "out"
    w.cli.kill_at(
        "SCAIWAVE_CORE_TEST_HOOK", "fanout-first-result", *EXPORT, str(out), "--workers", "2",
        marker_dir=tmp_path,
    )  # fmt: skip
    assert not (out / "tenant-manifest.json").exists()
    assert (out / "export-state.json").exists()
    result = export_all(w, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["kept"] >= 1 and summary["kept"] + summary["exported"] == 3
    _same_export(w, out, reference)


def test_an_arq_worker_killed_mid_room_and_a_killed_coordinator(
    world, tmp_path, redis_url, arq_workers
):
    """ARQ runs a dead worker's job again once its timeout (5 s here) + 10 s have passed; a
    coordinator killed while its jobs run is re-attached to them by a re-run."""
    w = world
    reference = _reference(w, tmp_path)
    marker = tmp_path / "reached-bundle"
    arq_workers.start(2, redis_url, env={"SCAIWAVE_ROOM_TEST_HOOK": f"bundle:{marker}"})
    out = tmp_path / "out"
    proc = w.cli.popen(*EXPORT, str(out), "--queue", redis_url, env={"SOURCE_DATE_EPOCH": EPOCH})
    try:
        arq_workers.kill_at_marker(marker)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr + arq_workers.logs()
    _same_export(w, out, reference)

    again = tmp_path / "again"
    w.cli.env["SOURCE_DATE_EPOCH"] = EPOCH
    w.cli.kill_at(
        "SCAIWAVE_CORE_TEST_HOOK", "fanout-enqueued", *EXPORT, str(again), "--queue", redis_url,
        marker_dir=tmp_path,
    )  # fmt: skip
    result = export_all(w, again, "--queue", redis_url)
    assert result.exit_code == 0, result.output + arq_workers.logs()
    _same_export(w, again, reference)
