"""The first sync's fast paths (issue 17 §4) write and read exactly what the exact paths do:
``db.insert_rows`` (raw executemany) the rows SQLAlchemy's ``insert()`` writes, and
``scaikey.decode_page`` (orjson + generated checks) the records ``json`` + cattrs make, leaving
every answer it does not accept exactly to the old path (same errors, same order)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from scaiwave_sync.adapters import db
from scaiwave_sync.adapters import scaikey as sk
from scaiwave_sync.adapters import scaikey_client as skc
from sqlalchemy import delete, select

from scaiwave_cli import api

m = api.store.models
BASE = "https://scaikey.test"
NOW = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)


TABLES = (  # written by a first sync, with the columns that differ between two writes
    (m.Participant, ()),
    (m.Workspace, ()),
    (m.WorkspaceMember, ()),
    (m.ScaikeyGroup, ("id",)),  # autoincrement
    (m.ScaikeyGroupMember, ("group_id",)),
    (m.RoleAssignment, ("id",)),
)
PEOPLE = [
    {"id": "prt-1", "scaikey_user_id": "usr_1", "display_name": "Ä " + "x" * 190, "email": "a@x"},
    {"id": "prt-2", "scaikey_user_id": "usr_2", "display_name": "Two", "email": None},
]
GROUPS = [{"scaikey_group_id": "grp_1", "name": "Group 1"}]


def _old_writes(s, t: str) -> None:
    """What the sync wrote before issue 17: dicts through ``insert()`` (SQLAlchemy fills in
    the Python-side defaults, e.g. ``operator_hold``)."""
    rows = [
        dict(r, tenant_id=t, kind="human", fqid=None, avatar_url=None, active=True)
        | {"deactivated_at": None, "last_synced_at": NOW, "created_at": NOW}
        for r in PEOPLE
    ]
    api.store.insert_batches(s, m.Participant, rows)
    api.store.insert_batches(
        s,
        m.Workspace,
        [
            {"id": "ws-" + r["id"].split("-", 1)[1], "tenant_id": t, "description": None}
            | {"slug": db.personal_workspace_slug(r["id"]), "personal": True}
            | {"name": r["display_name"][:186] + " (personal)", "created_at": NOW}
            for r in PEOPLE
        ],
    )
    api.store.insert_batches(
        s,
        m.WorkspaceMember,
        [
            {"workspace_id": "ws-" + r["id"].split("-", 1)[1], "participant_id": r["id"]}
            | {"tenant_id": t, "role": "owner", "created_at": NOW}
            for r in PEOPLE
        ],
    )
    api.store.insert_batches(
        s, m.ScaikeyGroup, [dict(g, tenant_id=t, active=True, last_synced_at=NOW) for g in GROUPS]
    )
    gid, roles = db.group_ids(s, t)["grp_1"], db.builtin_role_ids(s)
    api.store.insert_batches(
        s,
        m.ScaikeyGroupMember,
        [{"group_id": gid, "participant_id": r["id"], "tenant_id": t} for r in PEOPLE],
    )
    api.store.insert_batches(
        s,
        m.RoleAssignment,
        [
            {"tenant_id": t, "participant_id": "prt-1", "role_id": roles["tenant_admin"]}
            | {"workspace_id": None, "scope_key": "", "created_at": NOW}
            | {"created_by": db.SYNC_CREATOR}
        ],
    )


def _new_writes(s, t: str) -> None:
    db.insert_participants(s, t, PEOPLE, NOW)
    db.insert_groups(s, t, GROUPS, NOW)
    gid, roles = db.group_ids(s, t)["grp_1"], db.builtin_role_ids(s)
    db.insert_members(s, t, [(gid, r["id"]) for r in PEOPLE])
    db.grant_roles(s, t, [("prt-1", roles["tenant_admin"])], NOW)


def _snapshot_and_delete(store) -> dict:
    out = {}
    with store.transaction() as s:
        for model, drop in TABLES:
            rows = s.execute(select(model.__table__)).mappings().all()
            out[model.__tablename__] = sorted(
                (tuple((k, v) for k, v in row.items() if k not in drop) for row in rows),
                key=repr,
            )
        for model, _ in reversed(TABLES):
            s.execute(delete(model.__table__))
    return out


def test_insert_rows_writes_what_sqlalchemy_insert_writes(store, factory):
    """The same rows written the old way, read back and deleted, then the fast way."""
    factory.tenant("acme")
    with store.transaction() as s:
        _old_writes(s, "tnt-acme")
    old = _snapshot_and_delete(store)
    with store.transaction() as s:
        _new_writes(s, "tnt-acme")
    new = _snapshot_and_delete(store)
    assert all(len(rows) > 0 for rows in old.values())
    assert new == old
    p = dict(old["participants"][0])
    assert p["operator_hold"] is False and p["erased_at"] is None
    assert p["created_at"] == NOW  # aware UTC back, microseconds kept


def test_insert_rows_refuses_to_leave_a_python_default_out(store, factory):
    factory.tenant("acme")
    with store.transaction() as s, pytest.raises(ValueError, match="operator_hold"):
        db.insert_rows(s, m.Participant, ("id",), [("prt-x",)], tenant_id="tnt-acme")


def _user(n, **kw):
    return dict({"id": f"usr_{n}", "tenant_id": "tnt_a", "email": f"u{n}@a.example"}, **kw)


def _page(items, total=None, **kw):
    return json.dumps(
        dict({"items": items, "total": len(items) if total is None else total, "page": 1}, **kw)
        | {"per_page": kw.get("per_page", 500)}
    ).encode()


GOOD = [
    _user(1),
    _user(2, display_name="Two", username="two", first_name="T", last_name="W"),
    _user(3, status="SUSPENDED", deleted_at="2026-01-01T00:00:00Z", email=None),
]
ODD = [
    _user(4, email=5),  # wrong type
    _user(5, status=None),  # None for a str with a default
    _user(6, display_name=True),  # a boolean for a str
    {"tenant_id": "tnt_a"},  # a required field missing
    _user(7, extra={"x": [1, 2]}),  # extra fields are ignored
    "usr_8",  # not an object
    _user(9, id=10**30),  # a number beyond 64 bits
]


@pytest.fixture(params=["orjson", "json"])
def decoder(request, monkeypatch):
    """The fast path with orjson (when installed) and with the stdlib's json."""
    if request.param == "json":
        monkeypatch.setattr(sk, "_orjson", None)
    elif sk._orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


def _answer(content: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=content)


def _same_or_aside(content: bytes) -> None:
    """``decode_page`` gives what ``json`` + ``structure`` give, or None (then the client
    takes the exact path, which raises what is wrong, or reads it the way it always did)."""
    fast = sk.decode_page(_answer(content), sk.User)
    try:
        exact_page = sk.structure(api.http.parse_json(content), sk.Page, "page")
        exact = [sk.structure(raw, sk.User, "users") for raw in exact_page.items]
    except (ValueError, sk.InvalidResponse):
        assert fast is None
        return
    if fast is not None:
        page, records = fast
        assert records == exact and page == exact_page


def test_decode_page_reads_a_valid_page(decoder):
    assert sk.decode_page(_answer(_page(GOOD), status=404), sk.User) is None
    page, records = sk.decode_page(_answer(_page(GOOD)), sk.User)
    assert records == [sk.structure(raw, sk.User, "users") for raw in GOOD]
    assert (page.total, page.page, page.per_page) == (3, 1, 500)
    _same_or_aside(_page(GOOD))


@pytest.mark.parametrize("odd", ODD)
def test_decode_page_gives_what_the_exact_path_gives_or_steps_aside(odd, decoder):
    _same_or_aside(_page([*GOOD, odd]))


@pytest.mark.parametrize(
    "content",
    [
        b'{"items": [], "total": 100000000000000000000000000000, "page": 1, "per_page": 2}',
        b'{"items": [], "total": 1.0, "page": 1, "per_page": 2}',
        b'{"items": [], "total": true, "page": 1, "per_page": 2}',
        b'{"items": [], "total": NaN, "page": 1, "per_page": 2}',
        b'{"items": {}, "total": 0, "page": 1, "per_page": 2}',
        b'\xef\xbb\xbf{"items": [], "total": 0, "page": 1, "per_page": 2}',
        b'{"items": [{"id": "\\ud800", "tenant_id": "tnt_a"}], "total": 1, "page": 1, '
        b'"per_page": 2}',
        b"[" * 5000 + b"]" * 5000,
        b"not json",
    ],
)
def test_decode_page_of_what_orjson_and_json_may_read_apart(content, decoder):
    _same_or_aside(content)
    if decoder == "orjson" and (b'total": 1000' in content or b"1.0" in content):
        assert sk.decode_page(_answer(content), sk.User) is None  # orjson's float is never an int


def test_a_total_beyond_64_bits_is_still_too_large_not_invalid(httpx_mock):
    """orjson would read 10**30 as a float (an invalid answer); json reads the integer."""
    httpx_mock.add_response(
        method="POST",
        url=BASE + sk.TOKEN_PATH,
        json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600},
    )
    httpx_mock.add_response(
        content=b'{"items": [], "total": 1000000000000000000000000000000, "page": 1, "per_page": 2}'
    )
    client = skc.ScaiKeyClient(BASE, client_id="a", client_secret="s", page_size=2, backoff=0)
    with pytest.raises(api.ScaiwaveError) as err:
        client.list_users("tnt_a")
    assert err.value.code == "SW_SCAIKEY_LISTING_TOO_LARGE"


def _reference_id(prefix: str, ms: int, random: bytes) -> str:
    """The ULID a sync's ids have always had (the core's ``new_id`` before issue 17)."""
    crockford = "0123456789abcdefghjkmnpqrstvwxyz"
    value = (ms << 80) | int.from_bytes(random, "big")
    return f"{prefix}-{''.join(crockford[(value >> 5 * i) & 31] for i in reversed(range(26)))}"


def test_new_id_keeps_its_ulid_format(monkeypatch):
    """A first sync makes 100k ids: the faster ``new_id`` gives the same ids as before."""
    import random
    import types

    models = api.store.models
    rng = random.Random(17)
    cases = [(0, b"\0" * 10), (2**48 - 1, b"\xff" * 10), (1_767_225_600_123, bytes(range(10)))]
    cases += [(rng.getrandbits(48), rng.randbytes(10)) for _ in range(2000)]
    for ms, raw in cases:
        clock = types.SimpleNamespace(time=lambda ms=ms: ms / 1000 + 0.0004)
        monkeypatch.setattr(models, "time", clock)
        monkeypatch.setattr(models, "os", types.SimpleNamespace(urandom=lambda n, raw=raw: raw))
        assert models.new_id("prt") == _reference_id("prt", ms, raw)
