"""The ScaiKey client's bounds, request by request (pytest-httpx): the listing cap stops at the
first page that says too much, the retry budget counts the waits it would make, an answer over
the body cap is refused, hostile JSON in any answer (an error body too) is never an internal
error."""

from __future__ import annotations

import httpx
import pytest
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.adapters import scaikey_client as skc
from scaiwave_sync.errors import InvalidResponse, ListingTooLarge, ResponseTooLarge

from scaiwave_cli import api

BASE = "https://scaikey.test"
TOKEN_URL = BASE + sk.TOKEN_PATH
USERS = BASE + sk.USERS_PATH + "?tenant_id=tnt_a&page={}&per_page=2"
DEEP = b"[" * 100_000 + b"]" * 100_000


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client(**kwargs) -> skc.ScaiKeyClient:
    kwargs.setdefault("sleep", [].append)
    return skc.ScaiKeyClient(
        BASE, client_id="app_1", client_secret="s3cret", page_size=2, backoff=0, **kwargs
    )


def token(httpx_mock):
    httpx_mock.add_response(
        method="POST", url=TOKEN_URL, json={"access_token": "tok", "expires_in": 3600}
    )


def page(items, total, n=1):
    return {"items": items, "total": total, "page": n, "per_page": 2}


def users(n, start=0):
    return [{"id": f"usr_{i}", "tenant_id": "tnt_a"} for i in range(start, start + n)]


def test_a_listing_claiming_more_than_the_cap_is_refused_at_its_first_page(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(url=USERS.format(1), json=page(users(2), 10**9))
    with pytest.raises(ListingTooLarge) as err:
        client(max_listing=1000).list_users("tnt_a")
    assert err.value.code == "SW_SCAIKEY_LISTING_TOO_LARGE" and err.value.exit_code == 2
    assert "claims 1000000000 items, more than 1000" in err.value.message
    assert len(httpx_mock.get_requests()) == 2  # the token and one page


def test_a_listing_at_the_cap_is_read_whole(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(url=USERS.format(1), json=page(users(2), 4))
    httpx_mock.add_response(url=USERS.format(2), json=page(users(2, 2), 4, n=2))
    assert len(client(max_listing=4).list_users("tnt_a")) == 4


def test_a_retry_after_past_the_budget_ends_the_call_at_once(httpx_mock):
    token(httpx_mock)
    httpx_mock.add_response(url=USERS.format(1), status_code=503, headers={"Retry-After": "100"})
    sleeps: list[float] = []
    with pytest.raises(api.BackendUnavailable) as err:
        client(budget=50, retries=5, sleep=sleeps.append, clock=Clock()).list_users("tnt_a")
    assert err.value.code == "SW_SCAIKEY_UNREACHABLE"
    assert "budget of 50 s (SCAIWAVE_SYNC_HTTP_BUDGET) spent" in err.value.message
    assert sleeps == []  # no wait past the budget
    assert len(httpx_mock.get_requests()) == 2


def test_retries_within_the_budget_are_made(httpx_mock):
    token(httpx_mock)
    for _ in range(2):
        httpx_mock.add_response(url=USERS.format(1), status_code=503, headers={"Retry-After": "1"})
    httpx_mock.add_response(url=USERS.format(1), json=page(users(1), 1))
    sleeps: list[float] = []
    found = client(budget=50, sleep=sleeps.append).list_users("tnt_a")
    assert len(found) == 1 and sleeps == [1.0, 1.0]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "streamed"])
def test_an_answer_over_the_body_cap_is_refused(httpx_mock, chunked):
    token(httpx_mock)
    body = b'{"pad": "' + b"x" * 5000 + b'"}'
    if chunked:
        httpx_mock.add_response(url=USERS.format(1), stream=_Chunks(body))
    else:
        httpx_mock.add_response(url=USERS.format(1), content=body)
    with pytest.raises(ResponseTooLarge) as err:
        client(max_response_bytes=2048).list_users("tnt_a")
    assert err.value.code == "SW_SCAIKEY_RESPONSE_TOO_LARGE" and err.value.exit_code == 2
    assert "2048 bytes" in err.value.message


@pytest.mark.parametrize(
    "status, expected",
    [(200, InvalidResponse), (403, api.PermissionDenied), (404, api.BackendUnavailable)],
)
def test_deep_json_is_never_an_internal_error(httpx_mock, status, expected):
    token(httpx_mock)
    httpx_mock.add_response(url=USERS.format(1), status_code=status, content=DEEP)
    with pytest.raises(expected) as err:
        client().list_users("tnt_a")
    assert err.value.exit_code in (2, 3)


def test_a_deep_token_answer_is_an_invalid_response(httpx_mock):
    httpx_mock.add_response(method="POST", url=TOKEN_URL, content=DEEP)
    with pytest.raises(InvalidResponse) as err:
        client().token()
    assert "nested too deeply" in err.value.message


class _Chunks(httpx.SyncByteStream):
    """A body without a Content-Length, in 1 KiB chunks."""

    def __init__(self, body: bytes):
        self.body = body

    def __iter__(self):
        for i in range(0, len(self.body), 1024):
            yield self.body[i : i + 1024]
