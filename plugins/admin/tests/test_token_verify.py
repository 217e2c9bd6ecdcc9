"""The admin token (scaiwave_cli.tokens): a ScaiKey JWT verified against a JWKS (pytest-httpx).

Keys are generated here (RSA 2048 for RS256, EC P-256 for ES256); nothing leaves the process.
"""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from scaiwave_cli import api
from scaiwave_cli.access import PARTNER, PLATFORM, TENANT
from scaiwave_cli.tokens import verify_admin_token

BASE = "https://scaikey.test"
JWKS = BASE + "/api/v1/platform/.well-known/jwks.json"


class Signer:
    """A ScaiKey stand-in: a private key, its JWK, and a way to mint tokens."""

    def __init__(self, alg: str, kid: str):
        self.alg, self.kid = alg, kid
        if alg == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid=kid, use="sig", alg=alg)

    def token(self, *, kid: str | None = "same", headers: dict | None = None, **claims) -> str:
        now = int(time.time())
        body = {"sub": "usr_alice", "iat": now, "exp": now + 600, "role": "super_admin"}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        head = dict(headers or {})
        if kid is not None:
            head["kid"] = self.kid if kid == "same" else kid
        return jwt.encode(body, self.private, algorithm=self.alg, headers=head)


@pytest.fixture(scope="module")
def rsa_signer():
    return Signer("RS256", "rsa-1")


@pytest.fixture(scope="module")
def ec_signer():
    return Signer("ES256", "ec-1")


@pytest.fixture
def settings(scaiwave_env):
    def make(**env):
        environ = {"SCAIWAVE_HOME": str(scaiwave_env), "SCAIKEY_BASE_URL": BASE}
        environ.update({k: v for k, v in env.items() if v is not None})
        environ = {k: v for k, v in environ.items() if v != ""}
        return api.load_settings({}, environ=environ, cwd=scaiwave_env)

    return make


def serve(httpx_mock, *signers, url=JWKS, **kw):
    httpx_mock.add_response(url=url, json={"keys": [s.jwk for s in signers]}, **kw)


# -- scopes from the role claim ---------------------------------------------------------------


def test_super_admin_rs256_is_platform_scope(httpx_mock, settings, rsa_signer, ec_signer):
    serve(httpx_mock, rsa_signer, ec_signer)
    actor = verify_admin_token(rsa_signer.token(), settings())
    assert (actor.scope, actor.kind, actor.name) == (PLATFORM, "token", "scaikey:usr_alice")
    assert actor.roles == ("super_admin",)


def test_partner_admin_es256_is_partner_scope(httpx_mock, settings, rsa_signer, ec_signer):
    serve(httpx_mock, rsa_signer, ec_signer)
    token = ec_signer.token(role="partner_admin", partner_id="prt_north")
    actor = verify_admin_token(token, settings())
    assert (actor.scope, actor.partner_id, actor.tenant_id) == (PARTNER, "prt_north", None)


def test_tenant_admin_is_tenant_scope(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    actor = verify_admin_token(rsa_signer.token(role="tenant_admin", tenant_id="tnt_1"), settings())
    assert (actor.scope, actor.tenant_id, actor.partner_id) == (TENANT, "tnt_1", None)


@pytest.mark.parametrize("role", ["member", None, "SUPER_ADMIN"])
def test_other_roles_are_denied(httpx_mock, settings, rsa_signer, role):
    serve(httpx_mock, rsa_signer)
    with pytest.raises(api.PermissionDenied) as info:
        verify_admin_token(rsa_signer.token(role=role), settings())
    assert info.value.code == "SW_AUTH_INSUFFICIENT_PERMISSION" and info.value.exit_code == 3


@pytest.mark.parametrize(
    "claims", [{"role": "partner_admin"}, {"role": "tenant_admin", "partner_id": "prt_x"}]
)
def test_scoped_role_without_its_id_claim_is_invalid(httpx_mock, settings, rsa_signer, claims):
    serve(httpx_mock, rsa_signer)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(**claims), settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and "_id claim" in info.value.message


# -- rejected tokens ----------------------------------------------------------------------------


def test_expired_token(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(exp=int(time.time()) - 3600), settings())
    assert info.value.code == "SW_AUTH_EXPIRED_TOKEN" and "expired" in info.value.message


def test_within_leeway_is_accepted(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    verify_admin_token(rsa_signer.token(exp=int(time.time()) - 20), settings())


def test_token_without_exp_is_invalid(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(exp=None), settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and "exp" in info.value.message


def test_signature_by_another_key_with_the_same_kid(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    forger = Signer("RS256", rsa_signer.kid)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(forger.token(), settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN"
    assert "signature" in info.value.message


def test_tampered_payload(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    head, _, sig = rsa_signer.token(role="tenant_admin", tenant_id="tnt_1").split(".")
    other = rsa_signer.token().split(".")[1]
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(f"{head}.{other}.{sig}", settings())
    assert "signature" in info.value.message


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed_token(settings, garbage):
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(garbage, settings())
    assert info.value.code == "SW_AUTH_INVALID_TOKEN" and info.value.exit_code == 3


def test_hs256_and_none_are_refused_without_fetching_keys(settings):
    hs = jwt.encode({"role": "super_admin", "exp": time.time() + 60}, "k" * 32, algorithm="HS256")
    none = jwt.encode({"role": "super_admin", "exp": time.time() + 60}, None, algorithm="none")
    for token in (hs, none):
        with pytest.raises(api.AuthError) as info:
            verify_admin_token(token, settings())
        assert "only RS256 or ES256" in info.value.message


def test_rs256_header_with_an_ec_key_is_not_accepted(httpx_mock, settings, ec_signer):
    serve(httpx_mock, ec_signer)
    # A token that claims RS256 but names the EC key: no RSA key has that kid.
    token = jwt.encode(
        {"exp": time.time() + 60, "role": "super_admin"},
        Signer("RS256", "x").private,
        algorithm="RS256",
        headers={"kid": ec_signer.kid},
    )
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(token, settings())
    assert "not in ScaiKey's key set" in info.value.message


def test_issuer_and_audience_checked_when_configured(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    s = settings(SCAIKEY_ISSUER="https://scaikey.test/tenants/t", SCAIKEY_AUDIENCE="scaiwave")
    good = rsa_signer.token(iss="https://scaikey.test/tenants/t", aud="scaiwave")
    assert verify_admin_token(good, s).scope == PLATFORM
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(iss="https://evil.test", aud="scaiwave"), s)
    assert "issued by someone else" in info.value.message
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(iss="https://scaikey.test/tenants/t", aud="x"), s)
    assert "audience" in info.value.message
    with pytest.raises(api.AuthError):  # aud required once configured
        verify_admin_token(rsa_signer.token(iss="https://scaikey.test/tenants/t"), s)


def test_issuer_and_audience_ignored_when_not_configured(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    assert verify_admin_token(rsa_signer.token(iss="anyone", aud="anything"), settings())


# -- the JWKS: location, cache, refetch, failures ----------------------------------------------


def test_jwks_url_setting_wins_and_keys_are_cached_on_disk(
    httpx_mock, settings, rsa_signer, scaiwave_env
):
    url = "https://keys.test/jwks.json"
    serve(httpx_mock, rsa_signer, url=url)
    s = settings(SCAIKEY_JWKS_URL=url)
    for _ in range(3):  # one request: the second and third come from the cache file
        verify_admin_token(rsa_signer.token(), s)
    assert len(httpx_mock.get_requests()) == 1
    [cached] = (scaiwave_env / "cache").glob("jwks-*.json")
    assert json.loads(cached.read_text())["url"] == url


def test_cache_expires_after_ttl(httpx_mock, settings, rsa_signer, scaiwave_env):
    serve(httpx_mock, rsa_signer, is_reusable=True)
    s = settings()
    verify_admin_token(rsa_signer.token(), s)
    [cached] = (scaiwave_env / "cache").glob("jwks-*.json")
    data = json.loads(cached.read_text())
    data["fetched_at"] -= 3601
    cached.write_text(json.dumps(data))
    verify_admin_token(rsa_signer.token(), s)
    assert len(httpx_mock.get_requests()) == 2
    verify_admin_token(rsa_signer.token(), settings(SCAIWAVE_JWKS_CACHE_TTL="0"))
    assert len(httpx_mock.get_requests()) == 3


def test_unknown_kid_refetches_once_after_rotation(httpx_mock, settings, rsa_signer, ec_signer):
    serve(httpx_mock, rsa_signer)
    serve(httpx_mock, rsa_signer, ec_signer)  # ScaiKey rotated: the new key is published
    s = settings()
    verify_admin_token(rsa_signer.token(), s)  # fills the cache with the old set
    actor = verify_admin_token(ec_signer.token(role="tenant_admin", tenant_id="t1"), s)
    assert actor.tenant_id == "t1"
    assert len(httpx_mock.get_requests()) == 2


def test_unknown_kid_after_refetch_is_invalid(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer, is_reusable=True)
    s = settings()
    verify_admin_token(rsa_signer.token(), s)
    with pytest.raises(api.AuthError) as info:
        verify_admin_token(rsa_signer.token(kid="gone"), s)
    assert "key id 'gone'" in info.value.message
    assert len(httpx_mock.get_requests()) == 2  # exactly one refetch, no loop


def test_unknown_kid_right_after_a_fetch_does_not_fetch_again(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer)
    with pytest.raises(api.AuthError):
        verify_admin_token(rsa_signer.token(kid="gone"), settings())
    assert len(httpx_mock.get_requests()) == 1


def test_token_without_kid_tries_keys_of_its_algorithm(httpx_mock, settings, rsa_signer):
    other = Signer("RS256", "rsa-2")
    serve(httpx_mock, other, rsa_signer)
    assert verify_admin_token(rsa_signer.token(kid=None), settings()).scope == PLATFORM


def test_jwks_unreachable_is_backend_unavailable(httpx_mock, settings, rsa_signer):
    httpx_mock.add_exception(httpx.ConnectError("connection refused"), url=JWKS)
    with pytest.raises(api.BackendUnavailable) as info:
        verify_admin_token(rsa_signer.token(), settings())
    assert info.value.exit_code == 2 and JWKS in info.value.message


@pytest.mark.parametrize(
    "response", [{"status_code": 503}, {"text": "<html>"}, {"json": {"no": "keys"}}]
)
def test_jwks_error_answers_are_backend_unavailable(httpx_mock, settings, rsa_signer, response):
    httpx_mock.add_response(url=JWKS, **response)
    with pytest.raises(api.BackendUnavailable) as info:
        verify_admin_token(rsa_signer.token(), settings())
    assert info.value.code == "SW_BACKEND_UNREACHABLE"


def test_no_scaikey_configured_is_a_config_error(settings, rsa_signer):
    with pytest.raises(api.ConfigError) as info:
        verify_admin_token(rsa_signer.token(), settings(SCAIKEY_BASE_URL=""))
    assert info.value.exit_code == 2 and "SCAIKEY_BASE_URL" in info.value.hint


def test_error_messages_never_contain_the_token(httpx_mock, settings, rsa_signer):
    serve(httpx_mock, rsa_signer, is_reusable=True, is_optional=True)
    forged = Signer("RS256", rsa_signer.kid).token()
    expired = rsa_signer.token(exp=int(time.time()) - 3600)
    for token in (forged, expired, forged[:-5], forged + "x"):
        with pytest.raises(api.AuthError) as info:
            verify_admin_token(token, settings())
        text = json.dumps(info.value.as_dict())
        for part in token.split("."):
            assert part[:20] not in text
