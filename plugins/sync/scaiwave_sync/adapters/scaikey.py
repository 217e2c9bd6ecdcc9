"""ScaiKey's API as the sync assumes it: the ONE module that knows ScaiKey's paths, parameters
and field names (the HTTP client, ``scaikey_client.py``, uses only the names defined here).

Everything the sync assumes about ScaiKey's API is in this file (and documented in the
plugin's README, "The ScaiKey contract we assume"), so adapting to the real API is a one-file
change. What the public documentation confirms and what is our guess:

- token (confirmed): ``POST /api/v1/platform/oauth/token``, HTTP Basic client id/secret, form
  ``grant_type=client_credentials&scope=admin:read``; answer ``access_token``, ``token_type``,
  ``expires_in``. No refresh token: a new token is asked for shortly before expiry.
- listings (paths confirmed, envelope guessed): ``GET /api/v1/admin/tenants/``, ``…/users/?
  tenant_id=``, ``…/groups/?tenant_id=``, ``…/admin-roles/``, paged with ``page`` (1-based) and
  ``per_page``; the envelope ``{"items": [...], "total": N, "page": p, "per_page": n}``.
- group members (path guessed): ``GET /api/v1/admin/groups/{group_id}/members``, items
  ``{"id": "usr_…"|"grp_…", "type": "user"|"group"}`` (groups nest).
- registration (paths confirmed, body guessed): ``POST /api/v1/public/register/applications``
  -> ``request_id``, ``status_token``; ``GET …/{request_id}/status?status_token=`` -> ``status``
  PENDING|APPROVED|REJECTED|CANCELLED|EXPIRED and, once, ``client_id``, ``client_secret``,
  ``issuer``, ``app_id``.

Every page is validated with cattrs into the attrs classes below (``structure``): a wrong type
or a missing field is ``InvalidResponse`` (exit 2 ``SW_SCAIKEY_INVALID_RESPONSE``).
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import cattrs

from scaiwave_sync.errors import InvalidResponse

# -- the contract: paths, parameters, field names ----------------------------------------------

TOKEN_PATH = "/api/v1/platform/oauth/token"
TENANTS_PATH = "/api/v1/admin/tenants/"
USERS_PATH = "/api/v1/admin/users/"
GROUPS_PATH = "/api/v1/admin/groups/"
GROUP_MEMBERS_PATH = "/api/v1/admin/groups/{group_id}/members"
ADMIN_ROLES_PATH = "/api/v1/admin/admin-roles/"
REGISTER_PATH = "/api/v1/public/register/applications"
REGISTRATION_STATUS_PATH = "/api/v1/public/register/applications/{request_id}/status"

PAGE_PARAM = "page"
PER_PAGE_PARAM = "per_page"
TENANT_FILTER = "tenant_id"

USER_AGENT = "scaiwave-sync/0.1"

#: ScaiKey's admin roles -> the ScaiWave built-in role the sync grants at tenant scope.
ADMIN_ROLE_MAP = {
    "TENANT_ADMIN": "tenant_admin",
    "PARTNER_ADMIN": "partner_admin",
    "SUPER_ADMIN": "platform_admin",
}
REGISTRATION_STATES = ("pending", "approved", "rejected", "cancelled", "expired")


@attrs.frozen(slots=True)
class Tenant:
    id: str
    slug: str
    name: str
    status: str = "ACTIVE"
    partner_id: str | None = None


@attrs.frozen(slots=True)
class User:
    id: str
    tenant_id: str
    email: str | None = None
    display_name: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    status: str = "ACTIVE"
    deleted_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status.upper() == "ACTIVE" and not self.deleted_at

    @property
    def name(self) -> str:
        if self.display_name:  # the usual case, without building the full name first
            return self.display_name[:200]
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return (self.display_name or full or self.username or self.email or self.id)[:200]


@attrs.frozen(slots=True)
class Group:
    id: str
    tenant_id: str
    name: str
    group_type: str = "SECURITY"


@attrs.frozen(slots=True)
class Member:
    id: str
    type: str = "user"  # "user" | "group"


@attrs.frozen(slots=True)
class AdminRole:
    id: str
    user_id: str
    role: str
    tenant_id: str | None = None
    partner_id: str | None = None
    is_active: bool = True
    expires_at: str | None = None

    def current(self, now: dt.datetime) -> bool:
        if not self.is_active:
            return False
        if not self.expires_at:
            return True
        try:
            expires = dt.datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        return expires > now


@attrs.frozen(slots=True)
class Page:
    items: list[dict]
    total: int
    page: int
    per_page: int


@attrs.frozen(slots=True)
class TokenAnswer:
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = 3600


@attrs.frozen(slots=True)
class RegistrationTicket:
    request_id: str
    status_token: str
    status: str = "PENDING"


@attrs.frozen(slots=True)
class RegistrationStatus:
    status: str
    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    issuer: str | None = None
    app_id: str | None = None


# -- strict validation ----------------------------------------------------------------------

_converter = cattrs.Converter()


def _strict(kind):
    def hook(value, _type):
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got a boolean")
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return hook


for _kind in (str, int, bool):
    _converter.register_structure_hook(_kind, _strict(_kind))
_converter.register_structure_hook(dict, _strict(dict))


def structure(raw, cls, what: str):
    """``raw`` (decoded JSON) as ``cls``, or ``InvalidResponse`` saying what was wrong."""
    try:
        return _converter.structure(raw, cls)
    except Exception as exc:  # cattrs raises an ExceptionGroup with per-field details
        try:
            reasons = "; ".join(cattrs.transform_error(exc))
        except Exception:
            reasons = str(exc)
        raise InvalidResponse(
            f"ScaiKey sent an invalid {what}: {reasons}",
            hint="the ScaiKey API differs from what this scaiwave-sync expects "
            "(see plugins/sync/README.md, 'The ScaiKey contract')",
        ) from None


# -- the fast path of a listing page ------------------------------------------------------------
#
# A page of 500 users went through ``json`` and cattrs at about 10 us a user. ``decode_page``
# decodes with orjson when it is installed and checks every field with the same strict rules in
# one pass; whatever it does not accept exactly (not JSON to orjson, a missing key, a value of
# another type, a float where JSON had an integer too large for orjson) it leaves to the exact
# old path (``json`` + ``structure``), so the answers and the errors stay the same.

try:
    import orjson as _orjson
except ImportError:  # optional: the stdlib's json then
    _orjson = None

_KINDS = {str: (str,), int: (int,), bool: (bool,), str | None: (str, type(None))}
_MISSING = object()
_READERS: dict[type, object] = {}


def _reader(cls):
    """A function ``raw -> cls | None`` (None: not exactly what ``structure`` accepts), or None
    when ``cls`` has a field the fast path does not know. Generated once per record class:

        def read(raw):
            if type(raw) is not dict: return None
            get = raw.get
            v0 = get('id', MISSING)
            if type(v0) is not str: return None
            v1 = get('email', d1)                       # absent: the field's default
            if type(v1) is not str and type(v1) is not NoneType: return None
            ...
            return cls(v0, v1, ...)
    """
    if cls in _READERS:
        return _READERS[cls]
    import typing

    hints = typing.get_type_hints(cls)
    names: dict = {"cls": cls, "MISSING": _MISSING}
    lines = ["def read(raw):", "    if type(raw) is not dict: return None", "    get = raw.get"]
    args = []
    for i, a in enumerate(attrs.fields(cls)):
        kinds = _KINDS.get(hints[a.name])
        if kinds is None or not a.init or a.kw_only or isinstance(a.default, attrs.Factory):
            _READERS[cls] = None
            return None
        default = "MISSING" if a.default is attrs.NOTHING else f"d{i}"
        names[f"d{i}"] = a.default
        lines.append(f"    v{i} = get({a.name!r}, {default})")
        for j, kind in enumerate(kinds):
            names[f"k{i}_{j}"] = kind
        wrong = " and ".join(f"type(v{i}) is not k{i}_{j}" for j in range(len(kinds)))
        lines.append(f"    if {wrong}: return None")
        args.append(f"v{i}")
    lines.append(f"    return cls({', '.join(args)})")
    exec("\n".join(lines), names)  # noqa: S102 - our own code, from the record's fields
    _READERS[cls] = names["read"]
    return _READERS[cls]


def decode_page(response, cls) -> tuple[Page, list] | None:
    """A listing page (an HTTP answer: ``status_code``, ``content``) and its items as ``cls``
    records, or None: then decode and validate it the exact way (``structure``), which raises
    what is wrong."""
    read = _reader(cls)
    if read is None or response.status_code >= 300:
        return None
    try:
        content = response.content
        body = _orjson.loads(content) if _orjson is not None else json.loads(content)
    except (ValueError, RecursionError):
        return None
    if type(body) is not dict:
        return None
    items = body.get("items")
    if type(items) is not list or not all(
        type(body.get(k)) is int for k in ("total", "page", "per_page")
    ):
        return None
    records = []
    for raw in items:
        record = read(raw)
        if record is None:
            return None
        records.append(record)
    return Page(items, body["total"], body["page"], body["per_page"]), records


# -- request bodies ---------------------------------------------------------------------------


def token_form(scope: str) -> dict:
    """The form of a client-credentials token request (credentials go in HTTP Basic)."""
    return {"grant_type": "client_credentials", "scope": scope}


def registration_body(
    *,
    name: str,
    server_url: str,
    contact_email: str,
    scope: str,
    requested_scopes: list[str],
    partner: str | None = None,
    tenant: str | None = None,
) -> dict:
    """The JSON body of a self-registration request for a SERVICE application."""
    body = {
        "name": name,
        "application_type": "SERVICE",
        "app_scope": scope,
        "homepage_url": server_url,
        "contact_email": contact_email,
        "requested_scopes": requested_scopes,
        "grant_types": ["client_credentials"],
    }
    if partner:
        body["partner_id"] = partner
    if tenant:
        body["tenant_slug"] = tenant
    return body


def listing_params(page: int, per_page: int, params: dict | None = None) -> dict:
    """The query of one page of a listing (pages are 1-based)."""
    return dict(params or {}, **{PAGE_PARAM: page, PER_PAGE_PARAM: per_page})


def same_tenant(tenant_id: str):
    """A listing check: every user/group must carry the tenant id asked for."""

    def check(item) -> str | None:
        if item.tenant_id != tenant_id:
            return f"{item.id} belongs to {item.tenant_id}, not {tenant_id}"
        return None

    return check


def error_detail(body) -> str:
    """``: <message>`` from a FastAPI-style error body, without echoing anything long."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return f": {detail[:200]}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str) and error:
        return f": {error[:200]}"
    return ""
