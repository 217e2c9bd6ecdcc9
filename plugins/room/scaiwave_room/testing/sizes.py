"""Hostile bundles by size (issue 14): values nested ``levels`` deep and one enormous JSON
string, written as a real bundle file whose manifest is streamed into the ZIP (a 300 MB string
never sits in this process's memory). Used by ``tests/test_room_hostile_sizes.py`` (reduced and
full sizes) and ``bench/hostile_bench.py`` (full sizes, peak RSS and time per shape)."""

from __future__ import annotations

import hashlib
import os
import random
import zipfile

from scaiwave_room.bundle import layout as fmt
from scaiwave_room.testing.samples import sample_events, sample_header

FULL_DEPTH = 100_000
FULL_STRING = 300_000_000

# where the deep value goes: the event's content, the header's room.topic, an event's
# relates_to and media, plus original_content and a sender (the same parser path)
DEEP_PLACES = ("content", "topic", "relates_to", "media", "original_content", "sender")
# where the long string goes: an event's body, the header's room.topic
LONG_PLACES = ("body", "topic")


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _split_manifest(header: dict, events: list[dict], hole: tuple) -> tuple[bytes, bytes]:
    """The manifest's bytes before and after a placeholder string, ``hole`` being the path of
    the placeholder (("room", "topic") or ("events", i, key[, key2]))."""
    marker = "\u0000HOLE\u0000"
    if hole[0] == "room":
        header["room"][hole[1]] = marker
    elif hole[0] == "senders":
        header["senders"][0][hole[1]] = marker
    else:
        target = events[hole[1]]
        for key in hole[2:-1]:
            target = target[key]
        target[hole[-1]] = marker
    body = fmt.dumps(header)
    text = (body[:-1] + ',"events":[' + ",".join(fmt.dumps(e) for e in events) + "]}").encode()
    token = fmt.dumps(marker).encode()
    before, after = text.split(token)
    return before, after


def deep_manifest(place: str, levels: int = FULL_DEPTH) -> bytes:
    """A manifest whose ``place`` (one of ``DEEP_PLACES``) holds ``levels`` nested arrays."""
    header, events = sample_header(), sample_events(3)
    hole = {
        "content": ("events", 1, "content"),
        "topic": ("room", "topic"),
        "relates_to": ("events", 1, "relates_to"),
        "media": ("events", 1, "media"),
        "original_content": ("events", 1, "original_content"),
        "sender": ("senders", "display_name"),
    }[place]
    before, after = _split_manifest(header, events, hole)
    return before + _deep(levels) + after


_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _long_chunks(size: int, fill: bytes = b"a", alphabet: bytes = _LETTERS, seed: int = 14):
    """``size`` bytes deflating 10 to 40 times: ``fill`` with a random byte of ``alphabet``
    every 40 bytes (under the reader's ratio cap of 200, like the bundle of the issue: 279 MB
    in 8 MB), in 8 different 1 MB blocks (deflate's 32 KB window cannot see the repeats)."""
    rng = random.Random(seed)
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    blocks = []
    for _ in range(8):
        block = bytearray(fill * (1 << 20))
        block[::40] = rng.randbytes(len(block[::40])).translate(table)
        blocks.append(bytes(block))
    written = 0
    i = 0
    while written < size:
        chunk = blocks[i % len(blocks)][: size - written]
        written += len(chunk)
        i += 1
        yield chunk


def long_string_manifest_parts(place: str) -> tuple[bytes, bytes]:
    """The manifest around a placeholder for the long string (``LONG_PLACES``), quotes
    included: the string's bytes go between the two parts."""
    header, events = sample_header(), sample_events(3)
    hole = {"body": ("events", 1, "content", "body"), "topic": ("room", "topic")}[place]
    before, after = _split_manifest(header, events, hole)
    return before + b'"', b'"' + after


def write_bundle_file(path, manifest_chunks, *, level: int = 1) -> int:
    """A well-formed bundle (integrity.json right) around the streamed manifest, deflated at
    ``level`` (1: a 300 MB manifest in about two seconds); returns its size."""
    digest = hashlib.sha256()
    size = 0
    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        info = zipfile.ZipInfo(fmt.MANIFEST, date_time=fmt.ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = level  # noqa: SLF001 (zipfile reads it per entry)
        with zf.open(info, "w", force_zip64=True) as out:
            for chunk in manifest_chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        body = fmt.integrity_body(
            [{"name": fmt.MANIFEST, "size": size, "sha256": digest.hexdigest()}]
        )
        info = zipfile.ZipInfo(fmt.INTEGRITY, date_time=fmt.ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, fmt.dumps(body).encode())
    return os.path.getsize(path)


def deep_bundle_file(path, place: str, levels: int = FULL_DEPTH) -> int:
    return write_bundle_file(path, [deep_manifest(place, levels)])


def long_string_bundle_file(path, place: str = "body", size: int = FULL_STRING) -> int:
    before, after = long_string_manifest_parts(place)

    def chunks():
        yield before
        yield from _long_chunks(size)
        yield after

    return write_bundle_file(path, chunks())


def long_number_bundle_file(path, size: int = FULL_STRING) -> int:
    """An event whose content holds one number of ``size`` digits (the parser buffers a
    number token like a string)."""
    header, events = sample_header(), sample_events(3)
    before, after = _split_manifest(header, events, ("events", 1, "content", "n"))

    def chunks():
        yield before + b"1"
        yield from _long_chunks(size - 1, b"7", b"0123456789")
        yield after

    return write_bundle_file(path, chunks())


# -- measuring a CLI run -------------------------------------------------------------------------

# The CLI's own peak RSS is VmHWM of its process image, read at exit. ``ru_maxrss`` from
# ``wait4`` would also count the forked copy of the (possibly large) parent before exec.
_LAUNCH = r"""
import atexit, os, runpy, sys
def _hwm(path=os.environ.pop("SCAIWAVE_HWM_FILE")):
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(str(kb))
atexit.register(_hwm)
sys.argv = ["scaiwave", *sys.argv[1:]]
runpy.run_module("scaiwave_cli", run_name="__main__", alter_sys=True)
"""


def run_measured(args, env, *, cap_mb: int | None = None, timeout: float | None = None) -> dict:
    """``scaiwave ARGS`` in a subprocess: ``exit`` (or "timeout"), ``error`` (the JSON error
    record of ``--output json``, else the stderr tail), wall ``seconds`` and ``rss_mb`` (the
    CLI's peak RSS, None when it did not exit normally). ``cap_mb``: an address-space cap."""
    import json
    import resource
    import subprocess
    import sys
    import tempfile
    import time

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap_mb << 20, cap_mb << 20))

    with tempfile.TemporaryDirectory() as tmp:
        hwm = os.path.join(tmp, "hwm")
        run_env = dict(env, SCAIWAVE_HWM_FILE=hwm)
        with open(os.path.join(tmp, "err"), "w+b") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCH, *args],
                env=run_env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=limit if cap_mb else None,
            )
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = "timeout"
            seconds = time.perf_counter() - start
            err.seek(0)
            text = err.read().decode(errors="replace")
        rss = None
        if os.path.exists(hwm):
            with open(hwm) as fh:
                rss = int(fh.read()) / 1024
    try:
        error = json.loads(text.strip().splitlines()[-1])["error"]
    except (ValueError, KeyError, IndexError, TypeError):
        error = {"code": "MemoryError" if "MemoryError" in text else None, "message": text[-2000:]}
    return {"exit": code, "error": error, "seconds": seconds, "rss_mb": rss}
