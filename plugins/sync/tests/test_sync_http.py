"""The ScaiKey adapter's exact requests and its handling of errors, with pytest-httpx."""

from __future__ import annotations

import base64

import httpx
import pytest
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.adapters import scaikey_client as skc
from scaiwave_sync.errors import InvalidResponse, ListingFailed

from scaiwave_cli import api

BASE = "https://scaikey.test"
TOKEN_URL = BASE + sk.TOKEN_PATH


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client(**kwargs) -> skc.ScaiKeyClient:
    kwargs.setdefault("sleep", kwargs.pop("sleeps", []).append)
    return skc.ScaiKeyClient(
        BASE, client_id="app_1", client_secret="s3cret-value", page_size=2, backoff=0, **kwargs
    )


def token(httpx_mock, value="tok-1", expires_in=3600, **kwargs):
    httpx_mock.add_response(
        method="POST",
        url=TOKEN_URL,
        json={"access_token": value, "token_type": "Bearer", "expires_in": expires_in},
        **kwargs,
    )


def page(items, total, page=1, per_page=2):
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def user(n, tenant="tnt_a", **kw):
    return dict({"id": f"usr_{n}", "tenant_id": tenant, "email": f"u{n}@a.example"}, **kw)


def test_token_request_is_client_credentials_with_basic_auth(httpx_mock):
    token(httpx_mock)
    c = client()
    assert c.token() == "tok-1"
    request = httpx_mock.get_requests()[0]
    assert request.method == "POST" and str(request.url) == TOKEN_URL
    expected = base64.b64encode(b"app_1:s3cret-value").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content == b"grant_type=client_credentials&scope=admin%3Aread"
    assert request.headers["User-Agent"].startswith("scaiwave-sync/")


def test_listing_pages_with_bearer_token_and_tenant_filter(httpx_mock):
    token(httpx_mock)
    url = BASE + sk.USERS_PATH
    httpx_mock.add_response(
        url=url + "?tenant_id=tnt_a&page=1&per_page=2", json=page([user(1), user(2)], 3)
    )
    httpx_mock.add_response(
        url=url + "?tenant_id=tnt_a&page=2&per_page=2",
        json=page([user(3, status="SUSPENDED")], 3, page=2),
    )
    users = client().list_users("tnt_a")
    assert [u.id for u in users] == ["usr_1", "usr_2", "usr_3"]
    assert [u.active for u in users] == [True, True, False]
    for request in httpx_mock.get_requests()[1:]:
        assert request.headers["Authorization"] == "Bearer tok-1"
        assert request.headers["Accept"] == "application/json"


def test_token_is_cached_until_shortly_before_expiry(httpx_mock):
    clock = Clock()
    token(httpx_mock, "tok-1", expires_in=100)
    token(httpx_mock, "tok-2", expires_in=100)
    c = client(clock=clock)
    assert c.token() == "tok-1"
    clock.now += 79  # 100 s lifetime, refreshed 20 s (20%) before expiry
    assert c.token() == "tok-1"
    clock.now += 2
    assert c.token() == "tok-2"
    assert c.tokens_fetched == 2


def test_401_gets_one_new_token_then_succeeds(httpx_mock):
    token(httpx_mock, "tok-old")
    token(httpx_mock, "tok-new")
    url = BASE + sk.TENANTS_PATH + "?page=1&per_page=2"
    httpx_mock.add_response(
        url=url, status_code=401, match_headers={"Authorization": "Bearer tok-old"}
    )
    httpx_mock.add_response(
        url=url,
        json=page([{"id": "tnt_a", "slug": "a", "name": "A"}], 1),
        match_headers={"Authorization": "Bearer tok-new"},
    )
    assert [t.slug for t in client().list_tenants()] == ["a"]


def test_401_twice_is_an_auth_error(httpx_mock):
    token(httpx_mock, "tok-1")
    token(httpx_mock, "tok-2")
    httpx_mock.add_response(
        url=BASE + sk.TENANTS_PATH + "?page=1&per_page=2", status_code=401, is_reusable=True
    )
    with pytest.raises(api.AuthError) as err:
        client().list_tenants()
    assert err.value.code == "SW_SCAIKEY_AUTH_FAILED" and err.value.exit_code == 3


def test_refused_credentials_exit_3_without_the_secret(httpx_mock):
    httpx_mock.add_response(
        method="POST", url=TOKEN_URL, status_code=401, json={"detail": "invalid_client"}
    )
    with pytest.raises(api.AuthError) as err:
        client().token()
    assert err.value.code == "SW_SCAIKEY_AUTH_FAILED"
    assert "s3cret-value" not in str(err.value.as_dict())


def test_403_names_the_missing_scope(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(
        url=BASE + sk.TENANTS_PATH + "?page=1&per_page=2",
        status_code=403,
        json={"detail": "Platform token requires admin:read or admin:write scope"},
    )
    with pytest.raises(api.PermissionDenied) as err:
        client().list_tenants()
    assert err.value.code == "SW_SCAIKEY_FORBIDDEN" and err.value.exit_code == 3
    assert "admin:read" in err.value.hint


def test_429_honours_retry_after(httpx_mock):
    sleeps = []
    token(httpx_mock)
    url = BASE + sk.TENANTS_PATH + "?page=1&per_page=2"
    httpx_mock.add_response(url=url, status_code=429, headers={"Retry-After": "7"})
    httpx_mock.add_response(url=url, json=page([], 0))
    c = client(sleeps=sleeps)
    assert c.list_tenants() == []
    assert sleeps == [7.0] and c.retried == 1


def test_retry_after_is_capped(httpx_mock):
    sleeps = []
    token(httpx_mock)
    url = BASE + sk.TENANTS_PATH + "?page=1&per_page=2"
    httpx_mock.add_response(url=url, status_code=429, headers={"Retry-After": "86400"})
    httpx_mock.add_response(url=url, json=page([], 0))
    client(sleeps=sleeps, retry_after_max=30).list_tenants()
    assert sleeps == [30]


def test_backoff_is_exponential_with_jitter_and_bounded():
    c = skc.ScaiKeyClient(BASE, backoff=1.0, backoff_max=8.0, sleep=lambda s: None)

    class State:
        def __init__(self, n):
            self.attempt_number = n
            self.outcome = type("O", (), {"exception": lambda self: httpx.ConnectError("x")})()

    for n in range(1, 8):
        waits = [c._wait(State(n)) for _ in range(50)]
        assert all(0 <= w <= min(8.0, 2 ** (n - 1)) + 1e-9 for w in waits)
    assert len({round(c._wait(State(3)), 6) for _ in range(20)}) > 1  # jitter


def test_5xx_then_success_is_retried(httpx_mock):
    token(httpx_mock)
    url = BASE + sk.TENANTS_PATH + "?page=1&per_page=2"
    httpx_mock.add_response(url=url, status_code=502)
    httpx_mock.add_response(url=url, status_code=503)
    httpx_mock.add_response(url=url, json=page([], 0))
    c = client(retries=3)
    c.list_tenants()
    assert c.requests == 4 and c.retried == 2


def test_persistent_5xx_is_unreachable_exit_2(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(
        url=BASE + sk.TENANTS_PATH + "?page=1&per_page=2", status_code=500, is_reusable=True
    )
    c = client(retries=3)
    with pytest.raises(api.BackendUnavailable) as err:
        c.list_tenants()
    assert err.value.code == "SW_SCAIKEY_UNREACHABLE" and err.value.exit_code == 2
    assert BASE in err.value.format_message() and c.requests == 4  # token + 3 attempts


def test_connection_errors_are_retried_then_exit_2_naming_the_url(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    c = client(retries=4)
    with pytest.raises(api.BackendUnavailable) as err:
        c.token()
    assert c.requests == 4
    assert err.value.code == "SW_SCAIKEY_UNREACHABLE"
    assert "https://scaikey.test" in err.value.format_message()


def test_read_timeout_then_success(httpx_mock):
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), method="POST", url=TOKEN_URL)
    token(httpx_mock)
    assert client().token() == "tok-1"


@pytest.mark.parametrize(
    "pages, reason",
    [
        ([page([user(1), user(2)], 3), page([user(3)], 4, page=2)], "total changed"),
        ([page([user(1), user(2)], 3), page([user(2)], 3, page=2)], "listed twice"),
        ([page([user(1)], 3), page([user(2)], 3, page=2)], "short"),
        ([page([user(1), user(2)], 3), page([], 3, page=2)], "short"),
        ([page([user(1), user(2, tenant="tnt_b")], 2)], "belongs to tnt_b"),
        ([page([user(1), user(2)], 3), page([user(3)], 3, page=5)], "got page 5"),
        ([page([user(1), user(2), user(3)], 3)], "3 items on a page of 2"),
    ],
)
def test_inconsistent_listing_fails_whole(httpx_mock, pages, reason):
    token(httpx_mock)
    for n, body in enumerate(pages, start=1):
        httpx_mock.add_response(
            url=BASE + sk.USERS_PATH + f"?tenant_id=tnt_a&page={n}&per_page=2",
            json=body,
            is_optional=n > 1,
        )
    with pytest.raises(ListingFailed) as err:
        client().list_users("tnt_a")
    assert reason in err.value.format_message()
    assert err.value.code == "SW_SCAIKEY_LISTING_INCONSISTENT" and err.value.exit_code == 2


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"id": 5, "tenant_id": "tnt_a"}], "total": 1, "page": 1, "per_page": 2},
        {"items": [{"tenant_id": "tnt_a"}], "total": 1, "page": 1, "per_page": 2},
        {"items": [user(1)], "total": "1", "page": 1, "per_page": 2},
        {"data": []},
        [],
    ],
)
def test_invalid_pages_are_rejected(httpx_mock, body):
    token(httpx_mock)
    httpx_mock.add_response(
        url=BASE + sk.USERS_PATH + "?tenant_id=tnt_a&page=1&per_page=2", json=body
    )
    with pytest.raises(InvalidResponse) as err:
        client().list_users("tnt_a")
    assert err.value.code == "SW_SCAIKEY_INVALID_RESPONSE" and err.value.exit_code == 2


def test_non_json_answer_is_invalid(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(url=BASE + sk.TENANTS_PATH + "?page=1&per_page=2", text="<html>")
    with pytest.raises(InvalidResponse):
        client().list_tenants()


def test_group_members_and_admin_roles_paths(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(
        url=BASE + "/api/v1/admin/groups/grp_1/members?page=1&per_page=2",
        json=page([{"id": "usr_1", "type": "user"}, {"id": "grp_2", "type": "group"}], 2),
    )
    httpx_mock.add_response(
        url=BASE + sk.ADMIN_ROLES_PATH + "?page=1&per_page=2",
        json=page(
            [
                {
                    "id": "adr_1",
                    "user_id": "usr_1",
                    "role": "TENANT_ADMIN",
                    "tenant_id": "tnt_a",
                    "expires_at": "2000-01-01T00:00:00Z",
                }
            ],
            1,
        ),
    )
    c = client()
    assert [m.type for m in c.list_group_members("grp_1")] == ["user", "group"]
    (role,) = c.list_admin_roles()
    assert role.role == "TENANT_ADMIN" and not role.current(api.store.utcnow())


def test_registration_request_body_and_no_retry_on_5xx(httpx_mock):
    httpx_mock.add_response(
        method="POST",
        url=BASE + sk.REGISTER_PATH,
        status_code=201,
        json={"request_id": "req_1", "status_token": "st-1"},
    )
    c = skc.ScaiKeyClient(BASE, backoff=0)
    ticket = c.register_application(
        name="ScaiWave x",
        server_url="https://w.example",
        contact_email="ops@example.com",
        scope="TENANT",
        tenant="acme",
    )
    assert (ticket.request_id, ticket.status_token) == ("req_1", "st-1")
    body = httpx_mock.get_requests()[0].read()
    import json

    sent = json.loads(body)
    assert sent["app_scope"] == "TENANT" and sent["tenant_slug"] == "acme"
    assert sent["contact_email"] == "ops@example.com" and sent["application_type"] == "SERVICE"
    assert "Authorization" not in httpx_mock.get_requests()[0].headers


def test_registration_post_is_not_repeated_after_a_5xx(httpx_mock):
    httpx_mock.add_response(method="POST", url=BASE + sk.REGISTER_PATH, status_code=500)
    c = skc.ScaiKeyClient(BASE, backoff=0)
    with pytest.raises(api.BackendUnavailable):
        c.register_application(
            name="n", server_url="https://w.example", contact_email="o@example.com", scope="GLOBAL"
        )
    assert c.requests == 1


def test_registration_status_carries_the_status_token(httpx_mock):
    httpx_mock.add_response(
        url=BASE + "/api/v1/public/register/applications/req_1/status?status_token=st-1",
        json={
            "status": "APPROVED",
            "client_id": "app_9",
            "client_secret": "sec-xyz-123",
            "issuer": BASE,
        },
    )
    answer = skc.ScaiKeyClient(BASE).registration_status("req_1", "st-1")
    assert answer.status == "approved" and answer.client_id == "app_9"
    assert "sec-xyz-123" not in repr(answer)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("3", 3.0),
        ("0", 0.0),
        ("-4", 0.0),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
    ],
)
def test_parse_retry_after(value, expected):
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert skc.parse_retry_after(value, now=now) == expected
