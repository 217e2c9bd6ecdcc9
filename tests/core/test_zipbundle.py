"""`api.zipbundle`: deterministic ZIP bundles written as a stream, and the bounded check of a ZIP
someone hands us (hostile names, duplicates, zip bombs, too many entries, entries that do not
match integrity.json). Every refusal is a DomainError with SW_ZIP_INVALID (exit 1)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

import pytest

from scaiwave_cli import api
from scaiwave_cli.errors import SW_ZIP_INVALID

FORMAT = "test.bundle.integrity"


def bundle(entries=(("a.json", b'{"a":1}'), ("media/x/y.bin", b"\x00\x01" * 10))) -> bytes:
    buf = io.BytesIO()
    writer = api.zipbundle.ZipWriter(buf, integrity_format=FORMAT)
    for name, data in entries:
        writer.write_entry(name, [data], compress=name.endswith(".json"))
    writer.finish()
    return buf.getvalue()


def raw_zip(entries, *, integrity=True, body=None, method=zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP built with zipfile directly (``entries``: (name or ZipInfo, bytes)), ending with an
    integrity.json that lists them (or ``body``) unless ``integrity`` is False."""
    buf = io.BytesIO()
    listed = []
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
            plain = name.filename if isinstance(name, zipfile.ZipInfo) else name
            listed.append(
                {"name": plain, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )
        if integrity:
            content = (
                body if body is not None else api.zipbundle.integrity_body(listed, format=FORMAT)
            )
            zf.writestr("integrity.json", json.dumps(content))
    return buf.getvalue()


def check(tmp_path, data: bytes, **caps):
    path = tmp_path / "b.zip"
    path.write_bytes(data)
    return api.zipbundle.verify_integrity(path, format=FORMAT, **caps)


def refused(tmp_path, data: bytes, **caps) -> str:
    with pytest.raises(api.DomainError) as info:
        check(tmp_path, data, **caps)
    assert info.value.code == SW_ZIP_INVALID
    assert info.value.exit_code == 1
    return info.value.message


# -- writing -------------------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_keeps_utf8():
    assert api.zipbundle.dumps({"b": [1, {"d": 2, "c": "é"}], "a": None}) == (
        '{"a":null,"b":[1,{"c":"é","d":2}]}'
    )


def test_writer_is_deterministic_pipe_or_file_and_verifies(tmp_path):
    a, b = bundle(), bundle()
    assert a == b
    read, write = os.pipe()
    with os.fdopen(write, "wb") as pipe_out:
        writer = api.zipbundle.ZipWriter(pipe_out, integrity_format=FORMAT)
        writer.write_entry("a.json", [b'{"a":1}'])
        writer.write_entry("media/x/y.bin", [b"\x00\x01" * 10], compress=False)
        writer.finish()
    with os.fdopen(read, "rb") as pipe_in:
        assert pipe_in.read() == a
    result = check(tmp_path, a)
    assert [e["name"] for e in result["entries"]] == ["a.json", "media/x/y.bin"]
    assert result["format"] == FORMAT and result["file_bytes"] == len(a)
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        infos = zf.infolist()
        assert {i.date_time for i in infos} == {api.zipbundle.ZIP_EPOCH}
        assert infos[-1].filename == "integrity.json"
        raw = zf.read("integrity.json")
    assert result["integrity_sha256"] == hashlib.sha256(raw).hexdigest()


def test_source_date_epoch_sets_every_entry_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with zipfile.ZipFile(io.BytesIO(bundle())) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_safe_file_name_keeps_no_separator_or_leading_dot():
    assert api.zipbundle.safe_file_name("../../etc/passwd", "fb") == "_.._etc_passwd"
    assert api.zipbundle.safe_file_name("...", "fb") == "fb"
    assert api.zipbundle.safe_file_name(None, "fb") == "fb"
    assert len(api.zipbundle.safe_file_name("x" * 300 + ".png", "fb").encode()) <= 128


def test_help_does_not_import_zipbundle(proc):
    proc.run("--help")  # warm the cache
    for modules in (proc.modules_after("--help"), proc.modules_after("admin", "--help")):
        assert "scaiwave_cli.zipbundle" not in modules
        assert "zipfile" not in modules


# -- hostile archives ----------------------------------------------------------------------------


def test_not_a_zip_and_an_empty_file(tmp_path):
    assert "not a valid ZIP" in refused(tmp_path, b"PK\x03\x04 this is not a zip at all")
    assert "not a valid ZIP" in refused(tmp_path, b"")


@pytest.mark.parametrize(
    "name, says",
    [
        ("/etc/passwd", "absolute path"),
        ("../evil", "'..'"),
        ("media/../../evil", "'..'"),
        ("a/./b", "'..' or '.'"),
        ("a//b", "empty component"),
        ("C:evil", "drive"),
        ("a\\b", "backslash"),
        ("a\x01b", "control characters"),
    ],
)
def test_unsafe_names_are_refused(tmp_path, name, says):
    assert says in refused(tmp_path, raw_zip([(name, b"x")]))


def test_duplicate_names_are_refused(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        data = raw_zip([("a.json", b"1"), ("a.json", b"2")])
    assert "appears twice" in refused(tmp_path, data)


def test_directories_symlinks_and_other_methods_are_refused(tmp_path):
    assert "empty component" in refused(tmp_path, raw_zip([("dir/", b"")]))
    folder = zipfile.ZipInfo("dir")
    folder.external_attr = 0o040755 << 16
    assert "is a directory" in refused(tmp_path, raw_zip([(folder, b"")]))
    link = zipfile.ZipInfo("link")
    link.external_attr = 0o120777 << 16
    assert "symbolic link" in refused(tmp_path, raw_zip([(link, b"/etc/passwd")]))
    assert "compression method 12" in refused(
        tmp_path, raw_zip([("a.json", b"x" * 100)], method=zipfile.ZIP_BZIP2)
    )


def test_encrypted_flag_is_refused(tmp_path):
    data = bytearray(raw_zip([("a.json", b"x")]))
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"integrity.json"))
    data[central + 8] |= 0x1  # general purpose flag bit 0: encrypted
    assert "encrypted" in refused(tmp_path, bytes(data))


def test_zip_bomb_by_ratio_and_by_total_size(tmp_path):
    zeros = b"\x00" * (4 << 20)
    assert "zip bomb" in refused(tmp_path, raw_zip([("a.bin", zeros)]))
    assert "zip bomb" in refused(tmp_path, bundle([("a.json", b"x" * 5000)]), max_total_bytes=4000)
    # the cap is on the total, not per entry
    many = [(f"e{i}.json", b"y" * 900) for i in range(5)]
    assert "more than 4000 bytes" in refused(tmp_path, bundle(many), max_total_bytes=4000)


def test_too_many_entries_is_refused_before_the_directory_is_read(tmp_path):
    data = bundle([(f"e{i}.json", b"{}") for i in range(20)])
    assert "declares 21 entries; the cap is 10" in refused(tmp_path, data, max_entries=10)
    assert check(tmp_path, data, max_entries=21)["entries"][0]["name"] == "e0.json"


# -- integrity.json ------------------------------------------------------------------------------


def test_integrity_missing_or_not_last(tmp_path):
    assert "no integrity.json" in refused(tmp_path, raw_zip([("a.json", b"1")], integrity=False))
    body = api.zipbundle.integrity_body([], format=FORMAT)
    data = raw_zip([("integrity.json", json.dumps(body).encode()), ("a.json", b"1")],
                   integrity=False)  # fmt: skip
    assert "must be the last entry" in refused(tmp_path, data)


@pytest.mark.parametrize(
    "body, says",
    [
        ({"format": "other", "version": 1, "algorithm": "sha256", "entries": []}, "format"),
        ({"format": FORMAT, "version": 2, "algorithm": "sha256", "entries": []}, "version"),
        ({"format": FORMAT, "version": 1, "algorithm": "sha256", "entries": {}}, "no list"),
        ({"format": FORMAT, "version": 1, "algorithm": "sha256", "entries": [1]}, "malformed"),
        ([], "not a JSON object"),
    ],
)
def test_malformed_integrity_is_refused(tmp_path, body, says):
    assert says in refused(tmp_path, raw_zip([("a.json", b"1")], body=body))


def test_integrity_too_large_or_not_json(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("integrity.json", b"{not json")
    assert "not valid JSON" in refused(tmp_path, buf.getvalue())
    data = bundle([(f"e{i}.json", b"{}") for i in range(30)])
    assert "larger than 100 bytes" in refused(tmp_path, data, max_integrity_bytes=100)


def test_an_entry_added_missing_or_reordered_is_refused(tmp_path):
    good = [("a.json", b"1"), ("b.json", b"2")]
    listed = [{"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in good]
    body = api.zipbundle.integrity_body(listed[:1], format=FORMAT)
    assert "does not list 'b.json'" in refused(tmp_path, raw_zip(good, body=body))
    body = api.zipbundle.integrity_body(listed, format=FORMAT)
    assert "which the archive does not hold" in refused(tmp_path, raw_zip(good[:1], body=body))
    body = api.zipbundle.integrity_body(listed[::-1], format=FORMAT)
    assert "not in the order" in refused(tmp_path, raw_zip(good, body=body))
    body = api.zipbundle.integrity_body(listed + listed[:1], format=FORMAT)
    assert "twice" in refused(tmp_path, raw_zip(good, body=body))


def test_a_changed_byte_or_a_wrong_size_is_refused(tmp_path):
    data = bundle([("a.json", b"{}"), ("m.bin", b"hello world " * 10)])
    at = data.index(b"hello world")
    tampered = data[:at] + b"j" + data[at + 1 :]
    message = refused(tmp_path, tampered)
    assert "'m.bin'" in message and ("corrupt" in message or "sha256" in message)
    body = {
        "format": FORMAT,
        "version": 1,
        "algorithm": "sha256",
        "entries": [{"name": "a.json", "size": 2, "sha256": "0" * 64}],
    }
    assert "has 1 bytes; integrity.json says 2" in refused(
        tmp_path, raw_zip([("a.json", b"1")], body=body)
    )
    body["entries"][0]["size"] = 1
    assert "does not match its sha256" in refused(tmp_path, raw_zip([("a.json", b"1")], body=body))


def test_accepts_one_of_several_formats(tmp_path):
    path = tmp_path / "b.zip"
    path.write_bytes(bundle())
    result = api.zipbundle.verify_integrity(path, format=("x.integrity", FORMAT))
    assert result["format"] == FORMAT
    with pytest.raises(api.DomainError, match="'x.integrity' or 'y.integrity'"):
        api.zipbundle.verify_integrity(path, format=("x.integrity", "y.integrity"))
