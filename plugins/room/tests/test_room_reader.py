"""The hardened reader: every ZIP-level refusal, before any manifest byte is parsed."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from scaiwave_room import testing as bt
from scaiwave_room.bundle import layout as fmt
from scaiwave_room.bundle.limits import Limits
from scaiwave_room.testing import assert_refused as refused
from scaiwave_room.testing import check_bundle as check
from scaiwave_room.testing import good_files

SMALL = Limits(max_uncompressed_bytes=1 << 20, max_entries=10)


def test_a_good_bundle_is_accepted_and_reported(tmp_path):
    report = check(tmp_path, bt.build_bundle(media=bt.sample_media()))
    assert report.events == 5
    assert report.media == 1
    assert report.relations["reaction"] == 1
    assert report.foreign_senders == 1


def test_a_hand_made_bundle_with_the_same_files_is_accepted(tmp_path):
    files, _ = good_files()
    assert check(tmp_path, bt.raw_bundle(files)).events == 5


def test_not_a_zip(tmp_path):
    refused(tmp_path, b"hello, not a zip", "not a valid ZIP archive")


def test_truncated_zip(tmp_path):
    data = bt.build_bundle(media=bt.sample_media())
    refused(tmp_path, data[: len(data) // 2], "not a valid ZIP archive")


def test_zip_bomb_by_ratio(tmp_path):
    files, _ = good_files()
    bomb = b"\0" * (8 << 20)
    refused(
        tmp_path,
        bt.raw_bundle(files + [(fmt.media_entry_name(bt.sha(bomb), "z.bin"), bomb)]),
        "zip bomb",
    )


def test_zip_bomb_by_total_size(tmp_path):
    files, _ = good_files()
    big = bytes(range(256)) * 8192  # 2 MiB, compresses well but under the ratio cap
    refused(
        tmp_path,
        bt.raw_bundle(files + [(fmt.media_entry_name(bt.sha(big), "big.bin"), big)]),
        "would unpack to more than",
        limits=SMALL,
    )


def test_declared_size_lies_are_caught(tmp_path):
    """An entry that inflates to more than its declared size fails (zipfile stops + CRC)."""
    files, _ = good_files()
    name, data = files[0]
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries[0] = bt.RawEntry(name, data, method=8, file_size=10)
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    refused(tmp_path, bt.raw_zip(entries), "manifest.json")


def test_entry_count_cap(tmp_path):
    files, _ = good_files()
    extra = [(fmt.media_entry_name(bt.sha(bytes([i])), f"{i}.bin"), bytes([i])) for i in range(12)]
    refused(tmp_path, bt.raw_bundle(files + extra), "entries; the cap is 10", limits=SMALL)


@pytest.mark.parametrize(
    "name, match",
    [
        ("media/../../etc/passwd", "'..'"),
        ("../manifest.json", "'..'"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/evil.dll", "drive"),
        ("c:evil", "drive"),
        ("media\\..\\evil", "backslash"),
        ("media/./x", "'.'"),
        ("media//x", "empty component"),
        ("evil.sh", "unexpected entry"),
        ("media/" + "a" * 64, "unexpected entry"),
        ("media/NOTHEX/x.png", "not a lowercase sha256"),
    ],
)
def test_unsafe_entry_names(tmp_path, name, match):
    files, _ = good_files()
    refused(tmp_path, bt.raw_bundle(files + [(name, b"x")]), match)


def test_nul_in_name(tmp_path):
    files, _ = good_files()
    refused(tmp_path, bt.raw_bundle(files + [("media/x\x00.png", b"x")]), "NUL byte")


def test_symlink_entry(tmp_path):
    files, key = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    link = bt.RawEntry(
        fmt.media_entry_name(bt.sha(b"/etc/passwd"), "l"),
        b"/etc/passwd",
        external_attr=(stat.S_IFLNK | 0o777) << 16,
    )
    entries.append(link)
    listed = files + [(link.name.decode(), b"/etc/passwd")]
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(listed), method=8))
    refused(tmp_path, bt.raw_zip(entries), "symbolic link")


def test_directory_entry(tmp_path):
    files, _ = good_files()
    refused(tmp_path, bt.raw_bundle(files + [("media/", b"")]), "empty component")


def test_duplicate_names(tmp_path):
    files, _ = good_files()
    refused(tmp_path, bt.raw_bundle(files + [files[0]]), "appears twice")


def test_overlapping_entries(tmp_path):
    """Entry B's local header lives inside entry A's data: two names, one set of bytes."""
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    inner = bt.RawEntry(fmt.media_entry_name(bt.sha(b"inner"), "in.bin"), b"inner")
    wrapper_plain = bt.local_header(inner) + inner.data
    wrapper = bt.RawEntry(fmt.media_entry_name(bt.sha(wrapper_plain), "wrap.bin"), wrapper_plain)
    entries.append(wrapper)
    body = bt.raw_zip(entries)  # to learn the offsets
    offset = body.index(wrapper_plain)
    inner.offset = offset
    inner.write_local = False
    entries2 = [bt.RawEntry(n, d, method=8) for n, d in files] + [wrapper, inner]
    wrapper.offset = None
    listed = files + [
        (wrapper.name.decode(), wrapper_plain),
        (inner.name.decode(), b"inner"),
    ]
    entries2.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(listed), method=8))
    data = bt.raw_zip(entries2)
    assert zipfile.ZipFile(io.BytesIO(data)).read(inner.name.decode()) == b"inner"
    refused(tmp_path, data, "overlaps")


def test_two_records_for_one_local_header(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    twin = bt.RawEntry(files[0][0], files[0][1], method=8, write_local=False, offset=0)
    entries.insert(1, twin)
    refused(tmp_path, bt.raw_zip(entries), "appears twice")


def test_encrypted_entry(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries[0].flags |= 0x1
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    refused(tmp_path, bt.raw_zip(entries), "encrypted")


@pytest.mark.parametrize("method", [12, 14, 99, 1])
def test_unknown_compression(tmp_path, method):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries[0].method = method
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    refused(tmp_path, bt.raw_zip(entries), f"compression method {method}")


def test_bad_sha256(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    body = fmt.integrity_body([{"name": n, "size": len(d), "sha256": "0" * 64} for n, d in files])
    entries.append(bt.RawEntry(fmt.INTEGRITY, fmt.dumps(body).encode(), method=8))
    refused(tmp_path, bt.raw_zip(entries), "does not match its sha256")


def test_media_whose_content_does_not_match_its_name(tmp_path):
    files, key = good_files()
    files = [(n, (b"tampered" if n.startswith("media/") else d)) for n, d in files]
    refused(tmp_path, bt.raw_bundle(files), "not the one in its name")


def test_corrupt_deflate_stream(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries[0].data = b"\xff" * len(entries[0].data)
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8))
    refused(tmp_path, bt.raw_zip(entries), "corrupt")


def test_missing_integrity(tmp_path):
    files, _ = good_files()
    data = bt.raw_zip([bt.RawEntry(n, d, method=8) for n, d in files])
    refused(tmp_path, data, "no integrity.json")


def test_integrity_not_last(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files), method=8)]
    entries += [bt.RawEntry(n, d, method=8) for n, d in files]
    refused(tmp_path, bt.raw_zip(entries), "must be the last entry")


def test_integrity_misses_an_entry(tmp_path):
    files, _ = good_files()
    entries = [bt.RawEntry(n, d, method=8) for n, d in files]
    entries.append(bt.RawEntry(fmt.INTEGRITY, bt.integrity_for(files[:1]), method=8))
    refused(tmp_path, bt.raw_zip(entries), "does not list")


def test_missing_media(tmp_path):
    files, _ = good_files()
    files = [(n, d) for n, d in files if not n.startswith("media/")]
    refused(tmp_path, bt.raw_bundle(files), "missing from the bundle")


def test_event_names_media_that_is_not_listed(tmp_path):
    events = bt.sample_events(3)
    events[1]["media"] = ["a" * 64]
    refused(tmp_path, bt.build_bundle(events=events), "missing media")


def test_unlisted_media_in_bundle(tmp_path):
    media = bt.sample_media()
    data = bt.build_bundle(header=bt.sample_header(), events=bt.sample_events(3), media=media)
    refused(tmp_path, data, "not listed in manifest.json")
