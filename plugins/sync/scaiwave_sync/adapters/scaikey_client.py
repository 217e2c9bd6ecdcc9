"""The HTTP client of ScaiKey's admin and registration API (what it says: ``scaikey.py``).

Behaviour: every attempt has a total deadline (``timeout``: connect, send and every read, so a
server that trickles a byte at a time is cut off at it: ``api.http.deadline_transport``);
connection errors, timeouts, 429 (honouring ``Retry-After``) and 5xx are retried a bounded
number of times with exponential backoff and full jitter (tenacity), all attempts and waits of
one call inside ``budget`` seconds; a 401 drops the cached token and retries once with a new one.
An answer is read up to ``max_response_bytes`` (``ResponseTooLarge``) and decoded as JSON with
anything malformed (too deep, truncated, of the wrong shape) an ``InvalidResponse``. A listing
holds at most ``max_listing`` items (``ListingTooLarge`` as soon as its total or its items say
more: memory stays bounded). Failures become the CLI's typed errors: unreachable -> exit 2
``SW_SCAIKEY_UNREACHABLE`` naming the URL; 401/403 -> exit 3. A listing that fails or comes back
inconsistent part-way (total changes, short or empty page before the end, duplicate ids, items
of another tenant) raises ``ListingFailed``: the caller must not act on any of it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable

import attrs
import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    wait_random_exponential,
)

from scaiwave_cli import api
from scaiwave_sync import errors
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.errors import InvalidResponse, ListingFailed, ListingTooLarge, ResponseTooLarge


class _Retryable(Exception):
    """A 429 or 5xx answer worth another attempt."""

    def __init__(self, response: httpx.Response, retry_after: float | None):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# Transport errors that mean "try again": the request may not have reached ScaiKey, or its
# answer was lost. Not: a malformed URL or a protocol error on our side.
_RETRY_TRANSPORT = (
    httpx.ConnectError,
    httpx.TimeoutException,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


class ScaiKeyClient:
    """One ScaiKey, one set of credentials. ``requests`` counts every HTTP attempt."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str = "admin:read",
        page_size: int = 500,
        timeout: float = 30.0,
        retries: int = 5,
        budget: float = 300.0,
        max_listing: int = 1_000_000,
        max_response_bytes: int = 64 * 1024 * 1024,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.page_size = page_size
        self.timeout = timeout
        self.retries = retries
        self.budget = budget
        self.max_listing = max_listing
        self.max_response_bytes = max_response_bytes
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self.requests = 0
        self.retried = 0
        self.tokens_fetched = 0
        self.pages = 0
        # called with (what, page number) after every page of a listing (progress display)
        self.on_page: Callable[[str, int], None] | None = None
        # every attempt's deadline bounds its socket operations (a given transport: the reads)
        self._deadlines = None
        self._last_deadline = timeout
        if transport is None:
            transport, self._deadlines = api.http.deadline_transport()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": sk.USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_config(cls, cfg, *, base_url=None, credentials=True, **kwargs) -> ScaiKeyClient:
        """A client with every bound of ``cfg`` (deadline, budget, caps, retries).
        ``base_url`` overrides ``cfg.base_url``; ``credentials=False``: the anonymous
        registration calls (no client id or secret is sent)."""
        return cls(
            base_url or cfg.base_url,
            client_id=cfg.client_id if credentials else None,
            client_secret=cfg.client_secret if credentials else None,
            scope=cfg.scope,
            page_size=cfg.page_size,
            timeout=cfg.http_timeout,
            retries=cfg.retries,
            budget=cfg.http_budget,
            max_listing=cfg.max_listing,
            max_response_bytes=cfg.max_response_bytes,
            backoff=cfg.backoff,
            backoff_max=cfg.backoff_max,
            retry_after_max=cfg.retry_after_max,
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transport with retries ---------------------------------------------------------------
    def _wait(self, retry_state) -> float:
        exc = retry_state.outcome.exception()
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max)
        if self.backoff <= 0:
            return 0.0
        return wait_random_exponential(multiplier=self.backoff, max=self.backoff_max)(retry_state)

    def _attempt(self, method, path, retry_5xx, ends, **kwargs) -> httpx.Response:
        """One request, its whole body read by its deadline (``timeout``, within the call's
        budget ending at ``ends``): a response with the body loaded, or an exception."""
        self.requests += 1
        deadline = api.http.Deadline(min(self.timeout, max(0.0, ends - self._clock())))
        self._last_deadline = deadline.seconds
        if self._deadlines is not None:
            self._deadlines.deadline = deadline
        try:
            with self._http.stream(method, path, timeout=deadline.seconds, **kwargs) as streamed:
                body = api.http.read_bounded(streamed, deadline, self.max_response_bytes)
        except api.http.BodyTooLarge as exc:
            raise ResponseTooLarge(
                f"ScaiKey at {self.base_url} sent {exc} to {method} {path} "
                "(SCAIWAVE_SYNC_MAX_RESPONSE_BYTES)",
                hint="a page is far smaller: is SCAIKEY_BASE_URL the ScaiKey API? (or lower "
                "SCAIWAVE_SYNC_PAGE_SIZE / raise SCAIWAVE_SYNC_MAX_RESPONSE_BYTES)",
            ) from None
        finally:
            if self._deadlines is not None:
                self._deadlines.deadline = None
        # the body as read (decoded): the answer without its transfer headers
        skip = ("content-encoding", "content-length", "transfer-encoding")
        headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in skip]
        response = httpx.Response(
            streamed.status_code, headers=headers, content=body, request=streamed.request
        )
        if response.status_code == 429 or (retry_5xx and response.status_code >= 500):
            raise _Retryable(response, parse_retry_after(response.headers.get("Retry-After")))
        return response

    def _send(self, method, path, *, retry_on=_RETRY_TRANSPORT, retry_5xx=True, **kwargs):
        ends = self._clock() + self.budget
        made, spent = [1], []  # attempts made; set when the budget ended the retries

        def count(_state):
            self.retried += 1

        def stop(state) -> bool:
            made[0] = state.attempt_number
            if state.attempt_number >= self.retries:
                return True
            if self._clock() + state.upcoming_sleep >= ends:
                spent.append(True)
                return True
            return False

        retrying = Retrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception_type((*retry_on, _Retryable)),
            sleep=self._sleep,
            before_sleep=count,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, retry_5xx, ends, **kwargs)
        except (httpx.TransportError, _Retryable) as exc:
            tries = f"{made[0]} attempt(s)"
            if spent:
                tries += f", the budget of {self.budget:g} s (SCAIWAVE_SYNC_HTTP_BUDGET) spent"
            if isinstance(exc, _Retryable):
                raise api.BackendUnavailable(
                    f"ScaiKey at {self.base_url} kept answering {exc.response.status_code} to "
                    f"{method} {path} (after {tries})",
                    code=errors.SW_SCAIKEY_UNREACHABLE,
                    hint="ScaiKey is overloaded or failing; try again later",
                ) from None
            reason = str(exc) or "no answer"
            if isinstance(exc, httpx.TimeoutException):
                reason = f"no complete answer within the deadline of {self._last_deadline:g} s"
            raise api.BackendUnavailable(
                f"cannot reach ScaiKey at {self.base_url} ({method} {path}): "
                f"{type(exc).__name__}: {reason} (after {tries})",
                code=errors.SW_SCAIKEY_UNREACHABLE,
                hint="check SCAIKEY_BASE_URL and that ScaiKey is up; SCAIWAVE_SYNC_RETRIES, "
                "SCAIWAVE_SYNC_HTTP_TIMEOUT (per attempt) and SCAIWAVE_SYNC_HTTP_BUDGET (per "
                "call) tune the patience",
            ) from None

    # -- token -------------------------------------------------------------------------------
    def _need_credentials(self) -> None:
        if not (self.client_id and self._client_secret):
            raise api.ConfigError(
                "ScaiKey credentials are not configured (SCAIKEY_CLIENT_ID, SCAIKEY_CLIENT_SECRET)",
                code=errors.SW_SCAIKEY_NOT_CONFIGURED,
                hint="run `scaiwave sync register`, then `scaiwave sync status` once approved",
            )

    def token(self, *, force: bool = False) -> str:
        """A valid access token, from the cache unless it expires within the refresh margin."""
        if not force and self._token and self._clock() < self._token_expires:
            return self._token
        self._need_credentials()
        response = self._send(
            "POST",
            sk.TOKEN_PATH,
            auth=(self.client_id, self._client_secret),
            data=sk.token_form(self.scope),
        )
        if response.status_code in (400, 401, 403):
            raise api.AuthError(
                f"ScaiKey at {self.base_url} refused the client credentials of "
                f"{self.client_id!r} (HTTP {response.status_code}{_detail(response)})",
                code=errors.SW_SCAIKEY_AUTH_FAILED,
                hint="check SCAIKEY_CLIENT_ID / SCAIKEY_CLIENT_SECRET (rotated secret?) and "
                "that the application may use client_credentials with scope "
                f"{self.scope!r}",
            )
        answer = sk.structure(self._json(response, "token answer"), sk.TokenAnswer, "token answer")
        lifetime = max(1, answer.expires_in)
        margin = min(60.0, lifetime * 0.2)
        self._token = answer.access_token
        self._token_expires = self._clock() + lifetime - margin
        self.tokens_fetched += 1
        return self._token

    def _json(self, response: httpx.Response, what: str):
        if response.status_code >= 300:
            raise api.BackendUnavailable(
                f"ScaiKey at {self.base_url} rejected {response.request.method} "
                f"{response.request.url.path}: HTTP {response.status_code}{_detail(response)}",
                code=errors.SW_SCAIKEY_REQUEST_REJECTED,
                hint="the ScaiKey API differs from what this scaiwave-sync expects "
                "(see plugins/sync/README.md, 'The ScaiKey contract')",
            )
        try:
            return api.http.parse_json(response.content)
        except ValueError as exc:
            raise InvalidResponse(
                f"ScaiKey sent a {what} that is not JSON ({response.request.url.path}: "
                f"{str(exc)[:100]})",
                hint="is SCAIKEY_BASE_URL the ScaiKey API and not a web page or proxy?",
            ) from None

    def get(self, path: str, params: dict | None = None) -> httpx.Response:
        """An authenticated GET: a 401 gets one new token and one more try; 403 is exit 3."""
        token = self.token()
        response = self._send("GET", path, params=params, headers=_bearer(token))
        if response.status_code == 401:
            token = self.token(force=True)
            response = self._send("GET", path, params=params, headers=_bearer(token))
            if response.status_code == 401:
                raise api.AuthError(
                    f"ScaiKey at {self.base_url} refused a fresh token for GET {path}",
                    code=errors.SW_SCAIKEY_AUTH_FAILED,
                    hint="the application's credentials or token settings changed in ScaiKey",
                )
        if response.status_code == 403:
            raise api.PermissionDenied(
                f"ScaiKey at {self.base_url} denied GET {path}{_detail(response)}",
                code=errors.SW_SCAIKEY_FORBIDDEN,
                hint="the sync needs a GLOBAL SERVICE application with the admin:read scope "
                "(allowed_scopes in ScaiKey)",
            )
        return response

    # -- listings ----------------------------------------------------------------------------
    def paginate(self, path: str, cls, what: str, *, params: dict | None = None, check=None):
        """Every item of a paged listing, or ``ListingFailed``. ``check(item)`` returns an error
        text for an item that does not belong in this listing."""
        items: list = []
        seen: set[str] = set()
        total = None
        page_no = 1
        while True:
            response = self.get(path, params=sk.listing_params(page_no, self.page_size, params))
            page, records = sk.decode_page(response, cls) or (None, None)
            if page is None:  # not all valid: decoded, validated item by item, errors in order
                body = self._json(response, f"{what} page")
                page = sk.structure(body, sk.Page, f"{what} page {page_no}")
            self.pages += 1
            if self.on_page is not None:
                self.on_page(what, page_no)

            if total is None:
                total = page.total
                if total > self.max_listing:
                    _too_large(what, f"claims {total} items", self.max_listing)
            elif page.total != total:
                _inconsistent(what, page_no, f"the total changed from {total} to {page.total}")
            if page.page != page_no:
                _inconsistent(what, page_no, f"asked for page {page_no}, got page {page.page}")
            if len(page.items) > self.page_size:
                _inconsistent(
                    what, page_no, f"{len(page.items)} items on a page of {self.page_size}"
                )
            for n, raw in enumerate(page.items):
                item = records[n] if records is not None else sk.structure(raw, cls, what)
                if item.id in seen:
                    _inconsistent(what, page_no, f"{item.id} listed twice")
                if check is not None and (problem := check(item)):
                    _inconsistent(what, page_no, problem)
                seen.add(item.id)
                items.append(item)
                if len(items) > self.max_listing:
                    _too_large(what, "has more items", self.max_listing)
            if len(items) >= total:
                if len(items) > total:
                    _inconsistent(what, page_no, f"{len(items)} items for a total of {total}")
                return items
            if len(page.items) < self.page_size:
                _inconsistent(
                    what,
                    page_no,
                    f"page {page_no} is short ({len(page.items)} items) before the total {total}",
                )
            page_no += 1

    def list_tenants(self) -> list[sk.Tenant]:
        return self.paginate(sk.TENANTS_PATH, sk.Tenant, "tenants")

    def list_users(self, tenant_id: str) -> list[sk.User]:
        return self._list_in_tenant(sk.USERS_PATH, sk.User, "users", tenant_id)

    def list_groups(self, tenant_id: str) -> list[sk.Group]:
        return self._list_in_tenant(sk.GROUPS_PATH, sk.Group, "groups", tenant_id)

    def _list_in_tenant(self, path: str, record, what: str, tenant_id: str) -> list:
        """A listing filtered to one tenant; a record of another tenant is an invalid answer."""
        return self.paginate(
            path,
            record,
            f"{what} of {tenant_id}",
            params={sk.TENANT_FILTER: tenant_id},
            check=sk.same_tenant(tenant_id),
        )

    def list_group_members(self, group_id: str) -> list[sk.Member]:
        return self.paginate(
            sk.GROUP_MEMBERS_PATH.format(group_id=group_id), sk.Member, f"members of {group_id}"
        )

    def list_admin_roles(self) -> list[sk.AdminRole]:
        return self.paginate(sk.ADMIN_ROLES_PATH, sk.AdminRole, "admin roles")

    # -- registration (public, unauthenticated) ------------------------------------------------
    def register_application(
        self,
        *,
        name: str,
        server_url: str,
        contact_email: str,
        scope: str,
        partner: str | None = None,
        tenant: str | None = None,
    ) -> sk.RegistrationTicket:
        body = sk.registration_body(
            name=name,
            server_url=server_url,
            contact_email=contact_email,
            scope=scope,
            requested_scopes=self.scope.split(),
            partner=partner,
            tenant=tenant,
        )
        # Only a request that never reached ScaiKey (or was refused with 429) is retried:
        # filing twice would leave a duplicate request for the admins.
        response = self._send(
            "POST",
            sk.REGISTER_PATH,
            json=body,
            retry_on=(httpx.ConnectError, httpx.ConnectTimeout),
            retry_5xx=False,
        )
        if response.status_code in (400, 409, 422):
            raise api.DomainError(
                f"ScaiKey refused the registration request: HTTP {response.status_code}"
                f"{_detail(response)}",
                code=errors.SW_SYNC_REGISTRATION_REFUSED,
                hint="check the scope, partner/tenant and e-mail given",
            )
        return sk.structure(
            self._json(response, "registration answer"),
            sk.RegistrationTicket,
            "registration answer",
        )

    def registration_status(self, request_id: str, status_token: str) -> sk.RegistrationStatus:
        response = self._send(
            "GET",
            sk.REGISTRATION_STATUS_PATH.format(request_id=request_id),
            params={"status_token": status_token},
        )
        if response.status_code in (401, 403, 404):
            raise api.AuthError(
                f"ScaiKey does not know registration request {request_id} with the stored "
                f"status token (HTTP {response.status_code})",
                code=errors.SW_SYNC_REGISTRATION_UNKNOWN,
                hint="register again with `scaiwave sync register --new`",
            )
        answer = sk.structure(
            self._json(response, "registration status"), sk.RegistrationStatus, "status"
        )
        return attrs.evolve(answer, status=answer.status.lower())


def _inconsistent(what: str, page_no: int, reason: str):
    raise ListingFailed(
        f"the {what} listing from ScaiKey was inconsistent at page {page_no}: "
        f"{reason}; nothing was changed on the strength of it",
        hint="ScaiKey changed during the listing or is misbehaving; run the sync "
        "again (the next run starts from scratch)",
    )


def _too_large(what: str, reason: str, cap: int):
    raise ListingTooLarge(
        f"the {what} listing from ScaiKey {reason}, more than {cap} "
        "(SCAIWAVE_SYNC_MAX_LISTING); nothing was changed on the strength of it",
        hint="if ScaiKey really holds that many, raise SCAIWAVE_SYNC_MAX_LISTING; otherwise "
        "ScaiKey is misbehaving",
    )


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _detail(response: httpx.Response) -> str:
    """``: <message>`` from an error answer, without echoing anything long."""
    try:
        body = api.http.parse_json(response.content)
    except ValueError:
        return ""
    return sk.error_detail(body)
