"""The admin token: a ScaiKey JWT, verified against the issuer's JWKS, turned into an ``Actor``.

``resolve_actor`` calls ``verify_admin_token`` when ``SCAIWAVE_ADMIN_TOKEN`` is set (set but
empty or blank: ``SW_AUTH_EMPTY_TOKEN``, exit 3, never the local operator). Every
plugin that mutates data (admin, role, room) gets its actor through ``app.actor``, so this is the
one place a token is checked.

- Keys: the JWKS at ``SCAIKEY_JWKS_URL``, else ``<SCAIKEY_BASE_URL>/api/v1/platform/.well-known/
  jwks.json`` (ScaiKey's platform key set; tenant tokens use the same keys). Fetched with httpx and
  cached on disk under ``$SCAIWAVE_HOME/cache/`` for ``SCAIWAVE_JWKS_CACHE_TTL`` seconds (default
  3600); a token whose ``kid`` the cached set does not know triggers one refetch (key rotation).
- Algorithms: RS256 and ES256 only (what ScaiKey signs with); ``none``/HS* are refused.
- Claims: ``exp`` required, ``iss`` checked when ``SCAIKEY_ISSUER`` is set, ``aud`` against
  ``SCAIKEY_AUDIENCE``, else against ``SCAIKEY_CLIENT_ID`` when that is set (ScaiKey puts the
  audience application's client id there); 60 s leeway for clock skew (the server's tolerance).
- Scope from the ``role`` claim: ``super_admin`` -> platform; ``partner_admin`` -> its
  ``partner_id`` (a ScaiKey partner id, never a local slug); ``tenant_admin`` -> its
  ``tenant_id``; anything else -> ``PermissionDenied``.

Errors: a bad signature, malformed token, wrong iss/aud -> ``AuthError`` ``SW_AUTH_INVALID_TOKEN``
(exit 3); an expired one -> ``SW_AUTH_EXPIRED_TOKEN`` (exit 3); JWKS unreachable, or no answer
within ``SCAIWAVE_JWKS_TIMEOUT`` seconds (default 10, a total: connect and every read) ->
``SW_BACKEND_UNREACHABLE`` (exit 2); an answer that is not a key set (malformed or hostile JSON,
over 1 MiB) -> ``SW_JWKS_INVALID_RESPONSE`` (exit 2); no JWKS location configured ->
``ConfigError`` (exit 2). The token itself never appears in a message (config registers it as a
secret as well).

Bounded HTTP (the end of this module; the sync plugin's ScaiKey client uses it too, through
``api.tokens``): ``deadline_transport`` gives an httpx transport whose every socket operation
ends by the deadline of the call in progress (``Deadline``), so a server that trickles a byte at a
time cannot keep a call alive past it; ``read_bounded`` reads a streamed body under a size cap;
``parse_json`` turns JSON nested too deep to decode into a ``ValueError`` like any malformed JSON.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from scaiwave_cli.access import PARTNER, PLATFORM, TENANT, Actor, local_actor
from scaiwave_cli.errors import (
    SW_AUTH_EMPTY_TOKEN,
    SW_AUTH_EXPIRED_TOKEN,
    SW_AUTH_INSUFFICIENT_PERMISSION,
    SW_AUTH_INVALID_TOKEN,
    SW_BACKEND_UNREACHABLE,
    SW_CONFIG_INVALID,
    SW_JWKS_INVALID_RESPONSE,
    AuthError,
    BackendUnavailable,
    ConfigError,
    PermissionDenied,
)
from scaiwave_cli.http import BodyTooLarge, Deadline, deadline_transport, parse_json, read_bounded

ALGORITHMS = ("RS256", "ES256")
JWKS_PATH = "/api/v1/platform/.well-known/jwks.json"
DEFAULT_TTL = 3600
LEEWAY = 60
HTTP_TIMEOUT = 10.0  # seconds, the whole fetch (SCAIWAVE_JWKS_TIMEOUT)
JWKS_MAX_BYTES = 1 << 20  # a key set is a few KB

ROLE_SCOPES = {"super_admin": PLATFORM, "partner_admin": PARTNER, "tenant_admin": TENANT}

_TOKEN_HINT = (
    "get a fresh admin token from ScaiKey, or unset SCAIWAVE_ADMIN_TOKEN on a server shell"
)


def jwks_url(settings) -> str:
    """Where the signing keys are published (``SCAIKEY_JWKS_URL`` wins over the base URL)."""
    if settings.scaikey_jwks_url:
        return settings.scaikey_jwks_url
    if settings.scaikey_base_url:
        return settings.scaikey_base_url.rstrip("/") + JWKS_PATH
    raise ConfigError(
        "SCAIWAVE_ADMIN_TOKEN is set but there is no ScaiKey to verify it against",
        code=SW_CONFIG_INVALID,
        hint="set SCAIKEY_BASE_URL (or SCAIKEY_JWKS_URL), or unset SCAIWAVE_ADMIN_TOKEN",
    )


def resolve_actor(settings) -> Actor:
    """The actor for these settings: the admin token's verified subject, else the local user.

    A token that is set but empty or blank (a script whose token fetch yielded "") is
    ``SW_AUTH_EMPTY_TOKEN`` (exit 3): only an unset variable means the local operator."""
    token = settings.admin_token
    if token is None:
        return local_actor()
    if not token.strip():
        source = settings.sources.get("admin_token", "environment")
        raise AuthError(
            f"SCAIWAVE_ADMIN_TOKEN is set but empty ({source}); refusing to run as the local "
            "platform operator",
            code=SW_AUTH_EMPTY_TOKEN,
            hint="check the step that fetches the token; to act as the local operator on the "
            "server, unset SCAIWAVE_ADMIN_TOKEN (and remove it from .env)",
        )
    return verify_admin_token(token, settings)


def verify_admin_token(token: str, settings) -> Actor:
    """Verify ``token`` and return the acting admin. Raises AuthError/PermissionDenied/…"""
    import jwt

    token = (token or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _invalid(f"the admin token is not a JWT ({_reason(exc)})") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _invalid(
            f"the admin token is signed with {alg!r}; only {' or '.join(ALGORITHMS)} are accepted"
        )
    kid = header.get("kid")

    cache = JwksCache(settings)
    keys = _candidate_keys(cache.keys(), kid, alg)
    if not keys and not cache.fresh_from_network:
        keys = _candidate_keys(cache.keys(refresh=True), kid, alg)
    if not keys:
        which = f"key id {kid!r}" if kid else f"any {alg} key"
        raise _invalid(
            f"the admin token's signing key ({which}) is not in ScaiKey's key set at {cache.url}"
        )

    claims = _decode(token, keys, alg, settings)
    return _actor(claims)


# -- decoding ---------------------------------------------------------------------------------


def _decode(token: str, keys: list, alg: str, settings) -> dict:
    import jwt

    # the expected audience: SCAIKEY_AUDIENCE, else this application's client id
    audience, audience_from = settings.scaikey_audience, "SCAIKEY_AUDIENCE"
    if not audience and settings.scaikey_client_id:
        audience, audience_from = settings.scaikey_client_id, "SCAIKEY_CLIENT_ID"
    options = {
        "require": ["exp"],
        "verify_aud": bool(audience),
        "verify_iss": bool(settings.scaikey_issuer),
    }
    kwargs = {}
    if audience:
        kwargs["audience"] = audience
    if settings.scaikey_issuer:
        kwargs["issuer"] = settings.scaikey_issuer
    last: Exception | None = None
    for key in keys:
        try:
            return jwt.decode(
                token, key, algorithms=[alg], options=options, leeway=LEEWAY, **kwargs
            )
        except jwt.InvalidSignatureError as exc:  # try the next key that matches
            last = exc
            continue
        except jwt.ExpiredSignatureError:
            raise AuthError(
                "the admin token has expired",
                code=SW_AUTH_EXPIRED_TOKEN,
                hint=_TOKEN_HINT,
            ) from None
        except jwt.InvalidAudienceError as exc:
            raise _invalid(
                f"the admin token is not for this audience ({_reason(exc)}; "
                f"{audience_from}={audience})"
            ) from None
        except jwt.InvalidIssuerError as exc:
            raise _invalid(
                f"the admin token was issued by someone else ({_reason(exc)}; "
                f"SCAIKEY_ISSUER={settings.scaikey_issuer})"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            if exc.claim == "aud":
                raise _invalid(
                    f"the admin token names no audience (aud); {audience_from}={audience} "
                    "expects it"
                ) from None
            raise _invalid(f"the admin token lacks a required claim ({_reason(exc)})") from None
        except jwt.ImmatureSignatureError as exc:
            raise _invalid(f"the admin token is not valid yet ({_reason(exc)})") from None
        except jwt.PyJWTError as exc:
            raise _invalid(f"the admin token is malformed ({_reason(exc)})") from None
    raise _invalid(f"the admin token's signature does not verify ({_reason(last)})")


def _actor(claims: dict) -> Actor:
    role = claims.get("role")
    sub = str(claims.get("sub") or claims.get("client_id") or "unknown")
    name = f"scaikey:{sub}"
    scope = ROLE_SCOPES.get(role) if isinstance(role, str) else None
    if scope is None:
        raise PermissionDenied(
            f"{name} has role {role!r}; admin commands need super_admin, partner_admin or "
            "tenant_admin",
            code=SW_AUTH_INSUFFICIENT_PERMISSION,
            hint=(
                "use a token of a ScaiKey admin (role claim), or run without a token on the server"
            ),
        )
    partner_id = claims.get("partner_id")
    tenant_id = claims.get("tenant_id")
    if scope == PARTNER and not partner_id:
        raise _invalid("a partner_admin token without a partner_id claim")
    if scope == TENANT and not tenant_id:
        raise _invalid("a tenant_admin token without a tenant_id claim")
    return Actor(
        name=name,
        kind="token",
        scope=scope,
        partner_id=str(partner_id) if scope == PARTNER else None,
        tenant_id=str(tenant_id) if scope == TENANT else None,
        roles=(role,),
    )


def _invalid(message: str) -> AuthError:
    return AuthError(message, code=SW_AUTH_INVALID_TOKEN, hint=_TOKEN_HINT)


def _reason(exc) -> str:
    text = str(exc) if exc is not None else ""
    return text or type(exc).__name__


# -- keys ------------------------------------------------------------------------------------


def _candidate_keys(jwks: dict, kid: str | None, alg: str) -> list:
    """Public keys from ``jwks`` that may have signed a token with this ``kid``/``alg``."""
    import jwt

    want_kty = "RSA" if alg == "RS256" else "EC"
    out = []
    for entry in jwks.get("keys") or []:
        if not isinstance(entry, dict):
            continue
        if kid is not None and entry.get("kid") != kid:
            continue
        if entry.get("kty") != want_kty or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg") not in (None, alg):
            continue
        if alg == "ES256" and entry.get("crv") != "P-256":
            continue
        try:
            out.append(jwt.PyJWK(entry, algorithm=alg).key)
        except Exception:  # noqa: BLE001 - a key we cannot use (or a hostile entry): skipped
            continue  # another may still match
    return out


class JwksCache:
    """ScaiKey's key set, fetched with httpx and kept in ``$SCAIWAVE_HOME/cache`` for a TTL."""

    def __init__(self, settings):
        self.url = jwks_url(settings)
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.path = Path(settings.home) / "cache" / f"jwks-{digest}.json"
        self.ttl = _seconds(settings, "SCAIWAVE_JWKS_CACHE_TTL", DEFAULT_TTL, "3600 (0: no cache)")
        self.timeout = _seconds(
            settings, "SCAIWAVE_JWKS_TIMEOUT", HTTP_TIMEOUT, "10 (the whole fetch)"
        )
        self.fresh_from_network = False

    def keys(self, *, refresh: bool = False) -> dict:
        if not refresh:
            cached = self._read()
            if cached is not None:
                return cached
        jwks = self._fetch()
        self._write(jwks)
        self.fresh_from_network = True
        return jwks

    def _read(self) -> dict | None:
        try:
            data = parse_json(self.path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != self.url:
            return None
        age = time.time() - float(data.get("fetched_at", 0))
        if age < 0 or age > self.ttl or not isinstance(data.get("jwks"), dict):
            return None
        return data["jwks"]

    def _write(self, jwks: dict) -> None:
        from scaiwave_cli.files import atomic_write, private_dir

        try:
            private_dir(self.path.parent)
            body = json.dumps({"url": self.url, "fetched_at": time.time(), "jwks": jwks})
            atomic_write(self.path, body, mode=0o600)
        except OSError:
            pass  # a read-only home only costs a fetch per run

    def _fetch(self) -> dict:
        import httpx

        hint = "check SCAIKEY_BASE_URL / SCAIKEY_JWKS_URL and that ScaiKey is reachable"
        transport, backend = deadline_transport()
        deadline = backend.deadline = Deadline(self.timeout)
        try:
            with httpx.Client(transport=transport, follow_redirects=True) as client:
                with client.stream("GET", self.url, timeout=self.timeout) as response:
                    status = response.status_code
                    body = (
                        read_bounded(response, deadline, JWKS_MAX_BYTES) if status == 200 else b""
                    )
        except httpx.HTTPError as exc:
            reason = _reason(exc)
            if isinstance(exc, httpx.TimeoutException):
                reason = f"no complete answer within the deadline of {self.timeout:g} s"
            raise BackendUnavailable(
                f"cannot fetch ScaiKey's signing keys from {self.url}: {reason}",
                code=SW_BACKEND_UNREACHABLE,
                hint=hint + " (SCAIWAVE_JWKS_TIMEOUT: the seconds the whole fetch may take)",
            ) from None
        except BodyTooLarge as exc:
            raise _not_a_key_set(self.url, str(exc)) from None
        if status != 200:
            raise BackendUnavailable(
                f"ScaiKey's key set at {self.url} answered HTTP {status}",
                code=SW_BACKEND_UNREACHABLE,
                hint=hint,
            )
        try:
            jwks = parse_json(body)
        except ValueError as exc:
            raise _not_a_key_set(self.url, f"not JSON: {exc}") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise _not_a_key_set(self.url, "no 'keys' list")
        return jwks


def _not_a_key_set(url: str, reason: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"{url} did not return a JWKS document ({reason[:200]})",
        code=SW_JWKS_INVALID_RESPONSE,
        hint="check SCAIKEY_JWKS_URL / SCAIKEY_BASE_URL: it must be ScaiKey's key set",
    )


def _seconds(settings, name: str, default: float, example: str) -> float:
    raw = settings.get(name) if hasattr(settings, "get") else None
    if raw in (None, ""):
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ConfigError(
            f"{name} must be a number of seconds, got {raw!r}",
            hint=f"e.g. {name}={example}",
        ) from None
