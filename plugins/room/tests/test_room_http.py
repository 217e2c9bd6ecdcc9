"""`--via api`: the ScaiWave HTTP API adapter, exact requests with pytest-httpx."""

from __future__ import annotations

import json

import pytest
from pytest_httpx import IteratorStream
from scaiwave_room import testing as bt

API = "http://scaiwave.test"
ENV = {"SCAIWAVE_API_URL": API, "SCAIWAVE_ADMIN_TOKEN": "tok-secret-123"}


@pytest.fixture
def env(cli):
    cli.env.update(ENV)
    return cli


def test_export_streams_the_body_into_the_file(env, httpx_mock, tmp_path):
    bundle = bt.build_bundle(media=bt.sample_media())
    chunks = [bundle[i : i + 100] for i in range(0, len(bundle), 100)]
    httpx_mock.add_response(
        method="GET",
        url=f"{API}/v1/rooms/room-1/export",
        match_headers={
            "Authorization": "Bearer tok-secret-123",
            "X-ScaiWave-Tenant": "acme",
        },
        stream=IteratorStream(chunks),
        headers={"Content-Type": "application/zip"},
    )
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.zip"
    result = env.invoke(
        "--output",
        "json",
        "room",
        "export",
        "room-1",
        "--tenant",
        "acme",
        "--via",
        "api",
        "--to",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == bundle
    record = json.loads(result.stdout)
    assert record["bytes"] == len(bundle) and record["via"] == "api"


def test_export_to_stdout_streams_bytes(env, httpx_mock):
    bundle = bt.build_bundle()
    httpx_mock.add_response(
        url=f"{API}/v1/rooms/room-1/export?sign=true",
        stream=IteratorStream([bundle[:7], bundle[7:]]),
    )
    result = env.invoke("room", "export", "room-1", "--tenant", "acme", "--via", "api", "--sign")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == bundle


@pytest.mark.parametrize(
    "status, code, exit_code",
    [
        (404, "SW_ROOM_NOT_FOUND", 1),
        (400, "SW_ROOM_EXPORT_REFUSED", 1),
        (401, "SW_AUTH_INVALID_TOKEN", 3),
        (403, "SW_AUTH_INSUFFICIENT_PERMISSION", 3),
        (503, "SW_SERVICE_UNAVAILABLE", 2),
    ],
)
def test_api_error_envelopes_map_to_exit_codes(env, httpx_mock, tmp_path, status, code, exit_code):
    httpx_mock.add_response(
        url=f"{API}/v1/rooms/room-9/export",
        status_code=status,
        json={"error": {"code": code, "message": "nope"}},
    )
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.zip"
    result = env.invoke(
        "--output",
        "json",
        "room",
        "export",
        "room-9",
        "--tenant",
        "acme",
        "--via",
        "api",
        "--to",
        str(target),
    )
    assert result.exit_code == exit_code, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == code
    assert "tok-secret-123" not in result.output
    assert not target.exists()
    assert not list(target.parent.iterdir())  # no temporary file left either


def test_error_without_envelope(env, httpx_mock, tmp_path):
    httpx_mock.add_response(url=f"{API}/v1/rooms/room-9/export", status_code=500, text="boom")
    result = env.invoke(
        "room",
        "export",
        "room-9",
        "--tenant",
        "acme",
        "--via",
        "api",
        "--to",
        str(tmp_path / "x.zip"),
    )
    assert result.exit_code == 2
    assert "SW_BACKEND_UNREACHABLE" in result.stderr


def test_network_failure_is_exit_2(env, httpx_mock, tmp_path):
    import httpx

    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{API}/v1/rooms/r/export")
    result = env.invoke(
        "room", "export", "r", "--tenant", "acme", "--via", "api", "--to", str(tmp_path / "x.zip")
    )
    assert result.exit_code == 2
    assert "cannot reach the ScaiWave API" in result.stderr


def test_missing_api_url_is_a_config_error(cli, tmp_path):
    result = cli.invoke(
        "room", "export", "r", "--tenant", "acme", "--via", "api", "--to", str(tmp_path / "x.zip")
    )
    assert result.exit_code == 2
    assert "SCAIWAVE_API_URL" in result.stderr


def test_import_posts_the_bundle_as_a_stream(env, httpx_mock, tmp_path):
    bundle = bt.build_bundle(media=bt.sample_media())
    path = tmp_path / "in.zip"
    path.write_bytes(bundle)
    httpx_mock.add_response(
        method="POST",
        url=f"{API}/v1/rooms/import?workspace=general&as=prt-1",
        match_headers={"Content-Type": "application/zip", "X-ScaiWave-Tenant": "acme"},
        json={"data": {"room_id": "room-new", "events": 5, "media": 1}},
    )
    result = env.invoke(
        "--output",
        "json",
        "room",
        "import",
        "general",
        "--tenant",
        "acme",
        "--as",
        "prt-1",
        "--via",
        "api",
        "--from",
        str(path),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"room_id": "room-new", "events": 5, "media": 1}
    request = httpx_mock.get_requests()[0]
    assert request.read() == bundle
    assert request.headers["Content-Length"] == str(len(bundle))


def test_import_from_stdin_with_dry_run(env, httpx_mock):
    bundle = bt.build_bundle()
    httpx_mock.add_response(
        method="POST",
        url=f"{API}/v1/rooms/import?workspace=general&as=prt-1&dry_run=true",
        json={"data": {"dry_run": True, "events": 5}},
    )
    result = env.invoke(
        "--output",
        "json",
        "room",
        "import",
        "general",
        "--tenant",
        "acme",
        "--as",
        "prt-1",
        "--via",
        "api",
        "--dry-run",
        input=bundle,
    )
    assert result.exit_code == 0, result.output
    assert httpx_mock.get_requests()[0].read() == bundle


def test_import_refusal_from_the_api(env, httpx_mock, tmp_path):
    path = tmp_path / "in.zip"
    path.write_bytes(bt.build_bundle())
    httpx_mock.add_response(
        method="POST",
        status_code=400,
        json={"error": {"code": "SW_ROOM_IMPORT_REFUSED", "message": "sidekick room"}},
    )
    result = env.invoke(
        "--output",
        "json",
        "room",
        "import",
        "general",
        "--tenant",
        "acme",
        "--as",
        "prt-1",
        "--via",
        "api",
        "--from",
        str(path),
    )
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "SW_ROOM_IMPORT_REFUSED"


def test_list_and_show_via_api(env, httpx_mock):
    httpx_mock.add_response(
        url=f"{API}/v1/rooms?type=group",
        json={"data": [{"id": "room-1", "name": "Design", "type": "group", "state": "open"}]},
    )
    httpx_mock.add_response(
        url=f"{API}/v1/rooms/room-1",
        json={"data": {"id": "room-1", "name": "Design", "type": "group"}},
    )
    rows = env.json("room", "list", "--tenant", "acme", "--type", "group", "--via", "api")
    assert rows[0]["id"] == "room-1"
    shown = env.json("room", "show", "room-1", "--tenant", "acme", "--via", "api")
    assert shown["name"] == "Design"


def test_body_without_envelope_is_a_backend_error(env, httpx_mock):
    httpx_mock.add_response(url=f"{API}/v1/rooms/room-1", json=[1, 2])
    result = env.invoke("room", "show", "room-1", "--tenant", "acme", "--via", "api")
    assert result.exit_code == 2


def test_a_stream_cut_mid_way_leaves_no_file(env, httpx_mock, tmp_path):
    import httpx

    def body():
        yield b"PK\x03\x04 partial"
        raise httpx.ReadError("connection reset")

    httpx_mock.add_response(url=f"{API}/v1/rooms/room-1/export", stream=IteratorStream(body()))
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.zip"
    result = env.invoke(
        "room", "export", "room-1", "--tenant", "acme", "--via", "api", "--to", str(target)
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach the ScaiWave API" in result.stderr
    assert not target.exists() and not list(target.parent.iterdir())  # nor a temporary file
