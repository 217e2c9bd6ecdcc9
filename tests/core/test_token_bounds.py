"""The admin token against a hostile key set and a borrowed identity (issue 14): the JWKS fetch
ends by its total deadline (``SCAIWAVE_JWKS_TIMEOUT``) however slowly the server trickles, a
key set that is malformed, nested 100,000 deep or over 1 MiB is ``SW_JWKS_INVALID_RESPONSE``
(exit 2, never ``SW_INTERNAL``), a partner admin is matched by the ScaiKey partner id only, and
the audience falls back to ``SCAIKEY_CLIENT_ID``. The key set is served by a real HTTP server on
127.0.0.1 that each test starts (never any other address)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click
import pytest

from scaiwave_cli import api


class JwksServer:
    """Serves ``body`` at any path: at once, or one byte every ``trickle`` seconds (up to
    ``seconds``), from the status line on when ``head``."""

    def __init__(self, body: bytes, *, trickle: float = 0, seconds: float = 8, head=False):
        self.body, self.trickle, self.seconds, self.head = body, trickle, seconds, head
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                data = server.body
                raw = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
                ).encode() + data
                sent = 0 if server.head or not server.trickle else len(raw) - len(data)
                self.wfile.write(raw[:sent])
                end = time.monotonic() + server.seconds
                try:
                    while server.trickle and sent < len(raw) and time.monotonic() < end:
                        self.wfile.write(raw[sent : sent + 1])
                        sent += 1
                        time.sleep(server.trickle)
                    self.wfile.write(raw[sent:])
                except OSError:
                    pass  # the client gave up: what a deadline is for

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server():
    servers = []

    def start(body, **kwargs) -> JwksServer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        server = JwksServer(data, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@click.command("whoami")
@api.pass_app
def whoami(app):
    """The acting identity."""
    app.out.record({"name": app.actor.name, "scope": app.actor.scope})


@click.command("see")
@click.argument("tenant")
@api.pass_app
def see(app, tenant):
    """The tenant TENANT, if the actor may see it."""
    with app.store.session() as s:
        app.out.record({"tenant": api.find_tenant(s, tenant, actor=app.actor).slug})


def run(cli, env, *args):
    started = time.monotonic()
    result = cli.invoke("--output", "json", *(args or ("whoami",)), env=env)
    return result, time.monotonic() - started


def code(result) -> str:
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]["code"]


@pytest.fixture
def token_env(cli, admin_token):
    cli.register("whoami", whoami)
    cli.register("see", see)

    def make(url: str, **env) -> dict:
        base = {"SCAIKEY_JWKS_URL": url, "SCAIWAVE_JWKS_TIMEOUT": "1"}
        return {**admin_token.env("super_admin"), **base, **env}

    return make


# -- the JWKS fetch: a total deadline, a size cap, hostile JSON --------------------------------


@pytest.mark.parametrize("head", [False, True], ids=["body", "status-line"])
def test_a_trickling_key_set_ends_at_its_deadline(cli, token_env, jwks_server, admin_token, head):
    server = jwks_server({"keys": [admin_token.signer.jwk]}, trickle=0.2, seconds=8, head=head)
    result, elapsed = run(cli, token_env(server.url))
    assert result.exit_code == 2, result.output
    assert code(result) == "SW_BACKEND_UNREACHABLE"
    assert "deadline of 1 s" in result.stderr
    assert elapsed < 4, f"took {elapsed:.1f} s"


def test_a_slow_but_complete_key_set_within_the_deadline_is_used(
    cli, token_env, jwks_server, admin_token
):
    body = json.dumps({"keys": [admin_token.signer.jwk]}).encode()
    server = jwks_server(body, trickle=0.5 / len(body))  # the whole body within 0.5 s
    result, _ = run(cli, token_env(server.url, SCAIWAVE_JWKS_TIMEOUT="5"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scope"] == "platform"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        {"keys": [[[[[]]]]] * 3},
        b'{"keys": [{"kty": "EC"',
        {"keys": {"kid": "x"}},
        b"<html>hello</html>",
        {"keys": [], "pad": "x" * (1 << 20)},
    ],
    ids=["deep", "nested-keys", "truncated", "keys-not-a-list", "html", "over-1-MiB"],
)
def test_a_hostile_key_set_is_an_invalid_response(cli, token_env, jwks_server, body):
    server = jwks_server(body)
    result, elapsed = run(cli, token_env(server.url))
    assert result.exit_code in (2, 3), result.output
    if isinstance(body, dict) and isinstance(body["keys"], list) and len(body) == 1:
        # a list of entries none of which is a key: the token's key is not in the set
        assert code(result) == "SW_AUTH_INVALID_TOKEN"
    else:
        assert result.exit_code == 2 and code(result) == "SW_JWKS_INVALID_RESPONSE"
    assert "SW_INTERNAL" not in result.stderr and elapsed < 4


# -- who the token names ----------------------------------------------------------------------


def test_a_partner_admin_is_matched_by_the_scaikey_partner_id_only(
    cli, factory, admin_token, store
):
    """A partner without a ScaiKey id whose slug is "prt_north" is not reachable by a token
    whose partner_id is "prt_north"; the partner with that ScaiKey id is."""
    cli.register("see", see)
    factory.tenant("acme", partner=factory.partner("prt_north", scaikey_partner_id=None))
    factory.tenant("globex", partner=factory.partner("south", scaikey_partner_id="prt_north"))
    env = admin_token.env("partner_admin", partner_id="prt_north")
    denied = cli.invoke("--output", "json", "see", "acme", env=env)
    assert denied.exit_code == 3, denied.output
    assert code(denied) == "SW_AUTH_INSUFFICIENT_PERMISSION"
    assert cli.json("see", "globex", env=env) == {"tenant": "globex"}


def test_partner_key_is_the_scaikey_partner_id_only():
    partner_key = api.access.partner_key
    assert partner_key(None) is None
    assert partner_key(type("P", (), {"slug": "prt_north", "scaikey_partner_id": None})) is None
    assert partner_key(type("P", (), {"slug": "prt_north", "scaikey_partner_id": ""})) is None
    assert partner_key(type("P", (), {"slug": "n", "scaikey_partner_id": "prt_n"})) == "prt_n"


@pytest.mark.parametrize(
    "claims, env, exit_code",
    [
        ({"aud": "app_scaiwave"}, {"SCAIKEY_CLIENT_ID": "app_scaiwave"}, 0),
        ({"aud": ["other", "app_scaiwave"]}, {"SCAIKEY_CLIENT_ID": "app_scaiwave"}, 0),
        ({"aud": "app_other"}, {"SCAIKEY_CLIENT_ID": "app_scaiwave"}, 3),
        ({}, {"SCAIKEY_CLIENT_ID": "app_scaiwave"}, 3),
        ({"aud": "app_other"}, {}, 0),  # neither set: not checked (as before)
        ({"aud": "scaiwave"}, {"SCAIKEY_CLIENT_ID": "app_x", "SCAIKEY_AUDIENCE": "scaiwave"}, 0),
        ({"aud": "app_x"}, {"SCAIKEY_CLIENT_ID": "app_x", "SCAIKEY_AUDIENCE": "scaiwave"}, 3),
    ],
    ids=["client-id", "in-a-list", "other-app", "no-aud", "unchecked", "audience-wins", "not-it"],
)
def test_the_audience_falls_back_to_the_client_id(cli, admin_token, claims, env, exit_code):
    cli.register("whoami", whoami)
    result = cli.invoke("--output", "json", "whoami", env={**admin_token.env(**claims), **env})
    assert result.exit_code == exit_code, result.output
    if exit_code == 3:
        assert code(result) == "SW_AUTH_INVALID_TOKEN"
        assert "SCAIKEY_AUDIENCE" in result.stderr or "SCAIKEY_CLIENT_ID" in result.stderr
