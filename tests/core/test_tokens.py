"""The admin token (``scaiwave_cli/tokens.py``): a ScaiKey JWT verified against a JWKS.

Moved here from the admin plugin's tests: this is the core's code. The ES256 key is the core
``admin_token`` fixture's signer (``admin_token.signer``); RS256 needs an RSA key, made here.
The JWKS is either the one the fixture pre-seeds in the CLI's cache (no HTTP at all) or, for the
tests of fetching, caching and refetching, served by pytest-httpx at ``BASE`` (a URL the fixture
did not seed); nothing ever goes to the network.
"""

from __future__ import annotations

import json
import time

import click
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from scaiwave_cli import api

verify_admin_token = api.tokens.verify_admin_token
PLATFORM, PARTNER, TENANT = api.access.PLATFORM, api.access.PARTNER, api.access.TENANT

BASE = "https://scaikey.example"  # fetched through pytest-httpx (not the fixture's seeded URL)
JWKS = BASE + "/api/v1/platform/.well-known/jwks.json"


def _claims(**claims) -> dict:
    now = int(time.time())
    body = {"sub": "usr_alice", "iat": now, "exp": now + 600, "role": "super_admin"}
    body.update(claims)
    return {k: v for k, v in body.items() if v is not None}


class Key:
    """A public JWK and a way to mint tokens with its private key (``kid=None``: no kid)."""

    def __init__(self, private, jwk: dict, alg: str, kid: str):
        self.private, self.jwk, self.alg, self.kid = private, jwk, alg, kid

    def token(self, *, kid: str | None = "same", **claims) -> str:
        head = {} if kid is None else {"kid": self.kid if kid == "same" else kid}
        return jwt.encode(_claims(**claims), self.private, algorithm=self.alg, headers=head)


def _rsa_key(kid: str) -> Key:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg="RS256")
    return Key(private, jwk, "RS256", kid)


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return _rsa_key("rsa-1")


@pytest.fixture
def ec_key(admin_token) -> Key:
    """The core fixture's ES256 signer."""
    signer = admin_token.signer
    return Key(signer.private, signer.jwk, "ES256", signer.kid)


@pytest.fixture
def settings(scaiwave_env):
    def make(**env):
        environ = {"SCAIWAVE_HOME": str(scaiwave_env), "SCAIKEY_BASE_URL": BASE}
        environ.update({k: v for k, v in env.items() if v is not None})
        environ = {k: v for k, v in environ.items() if v != ""}
        return api.load_settings({}, environ=environ, cwd=scaiwave_env)

    return make


def serve(httpx_mock, *keys, url=JWKS, **kw):
    httpx_mock.add_response(url=url, json={"keys": [k.jwk for k in keys]}, **kw)


# -- the core fixture: no HTTP at all -----------------------------------------------------------


def test_admin_token_fixture_verifies_from_the_seeded_cache(admin_token, settings, httpx_mock):
    s = settings(SCAIKEY_JWKS_URL=admin_token.jwks_url)
    actor = verify_admin_token(admin_token("partner_admin", partner_id="prt_north"), s)
    assert (actor.scope, actor.partner_id, actor.name) == (
        PARTNER,
        "prt_north",
        "scaikey:usr_admin",
    )
    assert httpx_mock.get_requests() == []


@click.command("whoami")
@api.pass_app
def whoami(app):
    """The acting identity (``app.actor``, resolved by the core from SCAIWAVE_ADMIN_TOKEN)."""
    actor = app.actor
    app.out.record({"name": actor.name, "scope": actor.scope, "tenant_id": actor.tenant_id})


def test_a_command_acts_as_the_token_subject_and_bad_tokens_exit_3(cli, admin_token, httpx_mock):
    cli.register("whoami", whoami)
    env = admin_token.env("tenant_admin", tenant_id="tnt_1", sub="usr_it")
    out = cli.json("whoami", env=env)
    assert out == {"name": "scaikey:usr_it", "scope": TENANT, "tenant_id": "tnt_1"}
    expired = cli.invoke("--output", "json", "whoami", env=admin_token.env(exp=1_000_000))
    assert expired.exit_code == 3
    assert json.loads(expired.stderr)["error"]["code"] == "SW_AUTH_EXPIRED_TOKEN"
    forged = cli.invoke("whoami", env=dict(env, SCAIWAVE_ADMIN_TOKEN="not-a-jwt"))
    assert forged.exit_code == 3 and "SW_AUTH_INVALID_TOKEN" in forged.stderr
    assert httpx_mock.get_requests() == []  # the fixture's key set is cached: no HTTP


# -- scopes from the role claim ---------------------------------------------------------------


def test_super_admin_rs256_is_platform_scope(httpx_mock, settings, rsa_key, ec_key):
    serve(httpx_mock, rsa_key, ec_key)
    actor = verify_admin_token(rsa_key.token(), settings())
    assert (actor.scope, actor.kind, actor.name) == (PLATFORM, "token", "scaikey:usr_alice")
    assert actor.roles == ("super_admin",)


def test_partner_admin_es256_is_partner_scope(httpx_mock, settings, rsa_key, ec_key):
    serve(httpx_mock, rsa_key, ec_key)
    token = ec_key.token(role="partner_admin", partner_id="prt_north")
    actor = verify_admin_token(token, settings())
    assert (actor.scope, actor.partner_id, actor.tenant_id) == (PARTNER, "prt_north", None)


def test_tenant_admin_is_tenant_scope(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    actor = verify_admin_token(rsa_key.token(role="tenant_admin", tenant_id="tnt_1"), settings())
    assert (actor.scope, actor.tenant_id, actor.partner_id) == (TENANT, "tnt_1", None)


@pytest.mark.parametrize("role", ["member", None, "SUPER_ADMIN"])
def test_other_roles_are_denied(httpx_mock, settings, rsa_key, role):
    serve(httpx_mock, rsa_key)
    with pytest.raises(api.PermissionDenied) as info:
        verify_admin_token(rsa_key.token(role=role), settings())
    assert info.value.code == "SW_AUTH_INSUFFICIENT_PERMISSION" and info.value.exit_code == 3


@pytest.mark.parametrize(
    "claims", [{"role": "partner_admin"}, {"role": "tenant_admin", "partner_id": "prt_x"}]
)
def test_scoped_role_without_its_id_claim_is_invalid(httpx_mock, settings, rsa_key, claims):
    serve(httpx_mock, rsa_key)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(**claims), settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and "_id claim" in info.value.message


# -- rejected tokens ----------------------------------------------------------------------------


def test_expired_token(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(exp=int(time.time()) - 3600), settings())
    assert info.value.code == "SW_AUTH_EXPIRED_TOKEN" and "expired" in info.value.message


def test_within_leeway_is_accepted(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    verify_admin_token(rsa_key.token(exp=int(time.time()) - 20), settings())


def test_token_without_exp_is_invalid(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(exp=None), settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and "exp" in info.value.message


def test_signature_by_another_key_with_the_same_kid(httpx_mock, settings, admin_token, ec_key):
    serve(httpx_mock, ec_key)
    wrong_key = ec.generate_private_key(ec.SECP256R1())
    forged = admin_token.signer.sign(_claims(), key=wrong_key)  # the signer's kid, another key
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(forged, settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN"
    assert "signature" in info.value.message


def test_tampered_payload(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    head, _, sig = rsa_key.token(role="tenant_admin", tenant_id="tnt_1").split(".")
    other = rsa_key.token().split(".")[1]
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(f"{head}.{other}.{sig}", settings())
    assert "signature" in info.value.message


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_token(settings, garbage):
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(garbage, settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and info.value.exit_code == 3


def test_hs256_and_none_are_refused_without_fetching_keys(settings, admin_token):
    claims = {"role": "super_admin", "exp": time.time() + 60}
    hs = admin_token.signer.sign(claims, key="k" * 32, algorithm="HS256")
    none = jwt.encode(claims, None, algorithm="none", headers={"kid": admin_token.signer.kid})
    for token in (hs, none):
        with pytest.raises(api.AuthError) as info:
            verify_admin_token(token, settings())
        assert "only RS256 or ES256" in info.value.message


def test_rs256_header_with_an_ec_key_is_not_accepted(httpx_mock, settings, admin_token, ec_key):
    serve(httpx_mock, ec_key)
    # A token that claims RS256 but names the EC key: no RSA key has that kid.
    token = admin_token.signer.sign(
        {"exp": time.time() + 60, "role": "super_admin"},
        key=_rsa_key("x").private,
        algorithm="RS256",
    )
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(token, settings())
    assert "not in ScaiKey's key set" in info.value.message


def test_issuer_and_audience_checked_when_configured(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    s = settings(SCAIKEY_ISSUER="https://scaikey.test/tenants/t", SCAIKEY_AUDIENCE="scaiwave")
    good = rsa_key.token(iss="https://scaikey.test/tenants/t", aud="scaiwave")
    assert verify_admin_token(good, s).scope == PLATFORM
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(iss="https://evil.test", aud="scaiwave"), s)
    assert "issued by someone else" in info.value.message
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(iss="https://scaikey.test/tenants/t", aud="x"), s)
    assert "audience" in info.value.message
    with pytest.raises(api.AuthError):  # aud required once configured
        verify_admin_token(rsa_key.token(iss="https://scaikey.test/tenants/t"), s)


def test_issuer_and_audience_ignored_when_not_configured(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    assert verify_admin_token(rsa_key.token(iss="anyone", aud="anything"), settings())


# -- the JWKS: location, cache, refetch, failures ----------------------------------------------


def test_jwks_url_setting_wins_and_keys_are_cached_on_disk(
    httpx_mock, settings, rsa_key, scaiwave_env
):
    url = "https://keys.test/jwks.json"
    serve(httpx_mock, rsa_key, url=url)
    s = settings(SCAIKEY_JWKS_URL=url)
    for _ in range(3):  # one request: the second and third come from the cache file
        verify_admin_token(rsa_key.token(), s)
    assert len(httpx_mock.get_requests()) == 1
    [cached] = (scaiwave_env / "cache").glob("jwks-*.json")
    assert json.loads(cached.read_text())["url"] == url


def test_cache_expires_after_ttl(httpx_mock, settings, rsa_key, scaiwave_env):
    serve(httpx_mock, rsa_key, is_reusable=True)
    s = settings()
    verify_admin_token(rsa_key.token(), s)
    [cached] = (scaiwave_env / "cache").glob("jwks-*.json")
    data = json.loads(cached.read_text())
    data["fetched_at"] -= 3601
    cached.write_text(json.dumps(data))
    verify_admin_token(rsa_key.token(), s)
    assert len(httpx_mock.get_requests()) == 2
    verify_admin_token(rsa_key.token(), settings(SCAIWAVE_JWKS_CACHE_TTL="0"))
    assert len(httpx_mock.get_requests()) == 3


def test_unknown_kid_refetches_once_after_rotation(httpx_mock, settings, rsa_key, ec_key):
    serve(httpx_mock, rsa_key)
    serve(httpx_mock, rsa_key, ec_key)  # ScaiKey rotated: the new key is published
    s = settings()
    verify_admin_token(rsa_key.token(), s)  # fills the cache with the old set
    actor = verify_admin_token(ec_key.token(role="tenant_admin", tenant_id="t1"), s)
    assert actor.tenant_id == "t1"
    assert len(httpx_mock.get_requests()) == 2


def test_unknown_kid_after_refetch_is_invalid(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key, is_reusable=True)
    s = settings()
    verify_admin_token(rsa_key.token(), s)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_key.token(kid="gone"), s)
    assert "key id 'gone'" in info.value.message
    assert len(httpx_mock.get_requests()) == 2  # exactly one refetch, no loop


def test_unknown_kid_right_after_a_fetch_does_not_fetch_again(httpx_mock, settings, rsa_key):
    serve(httpx_mock, rsa_key)
    with pytest.raises(api.AuthError):
        verify_admin_token(rsa_key.token(kid="gone"), settings())
    assert len(httpx_mock.get_requests()) == 1


def test_token_without_kid_tries_keys_of_its_algorithm(httpx_mock, settings, rsa_key):
    other = _rsa_key("rsa-2")
    serve(httpx_mock, other, rsa_key)
    assert verify_admin_token(rsa_key.token(kid=None), settings()).scope == PLATFORM


def test_jwks_unreachable_is_backend_unavailable(httpx_mock, settings, rsa_key):
    httpx_mock.add_exception(httpx.ConnectError("connection refused"), url=JWKS)
    with pytest.raises(api.BackendUnavailable) as info:
        verify_admin_token(rsa_key.token(), settings())
    assert info.value.exit_code == 2 and JWKS in info.value.message


@pytest.mark.parametrize(
    "response, code",
    [
        ({"status_code": 503}, "SW_BACKEND_UNREACHABLE"),
        ({"text": "<html>"}, "SW_JWKS_INVALID_RESPONSE"),
        ({"json": {"no": "keys"}}, "SW_JWKS_INVALID_RESPONSE"),
    ],
)
def test_jwks_error_answers_are_backend_unavailable(httpx_mock, settings, rsa_key, response, code):
    httpx_mock.add_response(url=JWKS, **response)
    with pytest.raises(api.BackendUnavailable) as info:
        verify_admin_token(rsa_key.token(), settings())
    assert info.value.code == code and info.value.exit_code == 2


def test_no_scaikey_configured_is_a_config_error(settings, rsa_key):
    with pytest.raises(api.ConfigError) as info:
        verify_admin_token(rsa_key.token(), settings(SCAIKEY_BASE_URL=""))
    assert info.value.exit_code == 2 and "SCAIKEY_BASE_URL" in info.value.hint


def test_error_messages_never_contain_the_token(httpx_mock, settings, admin_token, ec_key):
    serve(httpx_mock, ec_key, is_reusable=True, is_optional=True)
    forged = admin_token.signer.sign(_claims(), key=ec.generate_private_key(ec.SECP256R1()))
    expired = ec_key.token(exp=int(time.time()) - 3600)
    for token in (forged, expired, forged[:-5], forged + "x"):
        with pytest.raises(api.AuthError) as info:
            verify_admin_token(token, settings())
        text = json.dumps(info.value.as_dict())
        for part in token.split("."):
            assert part[:20] not in text
