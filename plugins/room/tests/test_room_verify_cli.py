"""`room verify` through the CLI (no database): exit 0 / 1, signatures and key formats."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from scaiwave_room import testing as bt
from scaiwave_room.bundle.signing import Ed25519Signer


@pytest.fixture
def key():
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key()
    return {
        "signer": Ed25519Signer(raw, key_id="ed25519:abc123"),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }


def test_verify_a_good_bundle_from_stdin_and_file(cli, tmp_path):
    data = bt.build_bundle(media=bt.sample_media())
    result = cli.invoke("--output", "json", "room", "verify", input=data)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["valid"] is True and record["events"] == 5 and record["entries"] == 3
    path = tmp_path / "b.zip"
    path.write_bytes(data)
    assert cli.invoke("room", "verify", "--from", str(path)).exit_code == 0


@pytest.mark.parametrize("form", ["base64", "hex", "pem-file", "raw-file"])
def test_verify_with_the_signing_key(cli, tmp_path, key, form):
    data = bt.build_bundle(media=bt.sample_media(), signer=key["signer"])
    if form == "base64":
        arg = base64.b64encode(key["raw"]).decode()
    elif form == "hex":
        arg = key["raw"].hex()
    elif form == "pem-file":
        (tmp_path / "k.pem").write_bytes(key["pem"])
        arg = str(tmp_path / "k.pem")
    else:
        (tmp_path / "k.pub").write_text(base64.b64encode(key["raw"]).decode() + "\n")
        arg = str(tmp_path / "k.pub")
    result = cli.invoke("--output", "json", "room", "verify", "--public-key", arg, input=data)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["signed"] and record["signature_checked"]
    assert record["key_id"] == "ed25519:abc123"


def test_verify_with_another_key_fails(cli, key):
    data = bt.build_bundle(signer=key["signer"])
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    result = cli.invoke(
        "--output", "json", "room", "verify", "--public-key", other.hex(), input=data
    )
    assert result.exit_code == 1
    assert "another key" in json.loads(result.stderr)["error"]["message"]


def test_unsigned_bundle_with_a_key_fails(cli, key):
    result = cli.invoke("room", "verify", "--public-key", key["raw"].hex(), input=bt.build_bundle())
    assert result.exit_code == 1 and "not signed" in result.stderr


def test_bad_public_key_text(cli):
    result = cli.invoke(
        "--output", "json", "room", "verify", "--public-key", "not-a-key", input=bt.build_bundle()
    )
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_KEY_INVALID"


def test_verify_names_what_is_wrong(cli):
    data = bytearray(bt.build_bundle(media=bt.sample_media()))
    i = data.index(b"\x89PNG")
    data[i + 10] ^= 0xFF
    result = cli.invoke("--output", "json", "room", "verify", input=bytes(data))
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID" and "media/" in error["message"]
    assert "Traceback" not in result.output


def test_empty_stdin(cli):
    result = cli.invoke("room", "verify", input=b"")
    # no bundle at all, not a damaged one (see test_room_source.py)
    assert result.exit_code == 2 and "SW_BUNDLE_MISSING" in result.stderr
    assert "not a valid ZIP" not in result.stderr


def test_pipe_is_spooled_under_the_cap(cli):
    data = bt.build_bundle(media=bt.sample_media())
    result = cli.invoke(
        "room", "verify", input=data, env={"SCAIWAVE_ROOM_MAX_BUNDLE_BYTES": str(len(data) - 1)}
    )
    assert result.exit_code == 1 and "larger than" in result.stderr


def test_a_topic_longer_than_the_store_column_is_refused_before_import(cli):
    """rooms.topic is a TEXT column (65,535 bytes on MariaDB): a longer topic is refused by
    verify, naming the field, instead of failing at INSERT; one that fits passes."""
    fits = "é" * 32_000  # 64,000 bytes
    ok = cli.invoke("room", "verify", input=bt.build_bundle(bt.sample_header(room={"topic": fits})))
    assert ok.exit_code == 0, ok.output
    long = "é" * 33_000  # 66,000 bytes, 33,000 characters
    data = bt.build_bundle(bt.sample_header(room={"topic": long}))
    result = cli.invoke("--output", "json", "room", "verify", input=data)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_BUNDLE_INVALID" and "topic" in error["message"]
    assert "65535 bytes" in error["message"]
