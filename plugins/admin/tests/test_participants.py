"""`scaiwave admin list-participants` and `show-participant`, on SQLite and MariaDB (``db_url``).

The seeded world is in ``directory_fixtures.py``; admin tokens come from the core's
``admin_token`` fixture (verified with no network).
"""

# ruff: noqa: F811  (fixtures imported from directory_fixtures are test arguments of the same name)
from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from scaiwave_cli.testing import assert_help_is_light

sys.path.insert(0, str(Path(__file__).parent))
from directory_fixtures import (  # noqa: E402, F401  (fixtures)
    directory,
    statements,
)

ACME_IDS = {"ptn-ada", "ptn-bob", "ptn-zoe", "ptn-bot", "ptn-fed", "ptn-shadow", "ptn-shared"}


def ids(rows) -> list[str]:
    return [r["id"] for r in rows]


# -- list-participants --------------------------------------------------------------------------


def test_list_shows_the_tenants_participants_sorted_by_name(directory):
    rows = directory.json("admin", "list-participants", "--tenant", "acme")
    assert set(ids(rows)) == ACME_IDS  # nothing of globex
    assert [r["display_name"] for r in rows] == sorted(r["display_name"] for r in rows)
    ada = next(r for r in rows if r["id"] == "ptn-ada")
    assert ada == {
        "id": "ptn-ada",
        "display_name": "Ada Lovelace",
        "email": "Ada@Acme.test",
        "kind": "human",
        "scaikey_user_id": "usr_ada",
        "active": True,
        "last_synced_at": "2026-03-01T12:00:00+00:00",
    }


def test_list_filters_kind_active_and_search(directory):
    def listed(*args):
        return sorted(ids(directory.json("admin", "list-participants", "--tenant", "acme", *args)))

    assert listed("--kind", "human") == ["ptn-ada", "ptn-bob", "ptn-shared", "ptn-zoe"]
    assert listed("--kind", "ai", "--kind", "federated") == ["ptn-bot", "ptn-fed"]
    assert listed("--inactive") == ["ptn-bob"]
    assert "ptn-bob" not in listed("--active") and len(listed("--active")) == 6
    assert listed("--kind", "human", "--active") == ["ptn-ada", "ptn-shared", "ptn-zoe"]
    # search: display name or e-mail, case-insensitive, Unicode too
    assert listed("--search", "ADA") == ["ptn-ada"]
    assert listed("--search", "acme.TEST") == sorted(ACME_IDS - {"ptn-bot", "ptn-fed"})
    assert listed("--search", "ärger") == ["ptn-zoe"]
    assert listed("--search", "ÄRGER") == ["ptn-zoe"]
    assert listed("--search", "shared@", "--kind", "shadow") == ["ptn-shadow"]
    # LIKE wildcards are literal characters
    assert listed("--search", "50%_off") == ["ptn-shadow"]
    assert listed("--search", "%") == ["ptn-shadow"]
    assert listed("--search", "_") == ["ptn-shadow"]
    assert listed("--search", "nobody-by-this-name") == []


def test_list_jsonl_and_csv_stream_one_line_per_participant(directory):
    result = directory.run("--output", "jsonl", "admin", "list-participants", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(ids(lines)) == ACME_IDS
    result = directory.run("--output", "csv", "admin", "list-participants", "--tenant", "acme")
    header, *body = result.stdout.splitlines()
    assert header == "id,display_name,email,kind,scaikey_user_id,active,last_synced_at"
    assert len(body) == len(ACME_IDS)


def test_list_table_output(directory):
    result = directory.run("admin", "list-participants", "--tenant", "acme", "--kind", "ai")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == [
        "id",
        "display_name",
        "email",
        "kind",
        "scaikey_user_id",
        "active",
        "last_synced_at",
    ]
    assert row.split() == ["ptn-bot", "Summarizer", "ai", "yes"]


def test_list_runs_the_same_statements_for_5_or_2500_participants(directory, statements):
    args = ("--output", "jsonl", "admin", "list-participants", "--tenant", "acme")
    with statements() as few:
        assert directory.run(*args).exit_code == 0
    directory.add_participants(2500)
    with statements() as many:
        result = directory.run(*args)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2507
    assert len(many) == len(few)


# -- show-participant ---------------------------------------------------------------------------


def test_show_by_id_email_and_fqid(directory):
    by_id = directory.json("admin", "show-participant", "ptn-ada", "--tenant", "acme")
    by_email = directory.json("admin", "show-participant", "ada@ACME.test", "--tenant", "acme")
    by_fqid = directory.json("admin", "show-participant", "@ada:acme.test", "--tenant", "acme")
    assert by_id == by_email == by_fqid
    assert by_id["tenant"] == "acme" and by_id["email"] == "Ada@Acme.test"
    assert by_id["workspaces"] == [
        {
            "workspace": "ada",
            "workspace_id": "ws-ada",
            "name": "Ada's space",
            "kind": "personal",
            "role": "owner",
        },
        {
            "workspace": "design",
            "workspace_id": "ws-design",
            "name": "Design",
            "kind": "shared",
            "role": "owner",
        },
    ]
    assert [(r["room_id"], r["workspace"], r["power_level"]) for r in by_id["rooms"]] == [
        ("room-a1", "ada", 100),
        ("room-d1", "design", 100),
    ]
    may = by_id["may_create_rooms"]
    assert may["permission"] == "create_note" and may["every_workspace"] is False
    assert [(w["workspace"], w["allowed"]) for w in may["workspaces"]] == [
        ("ada", True),
        ("design", True),
    ]
    assert "'owner'" in may["workspaces"][0]["reason"]


def test_show_permission_answers_come_from_the_core_check(directory):
    def may(ref):
        return directory.json("admin", "show-participant", ref, "--tenant", "acme")[
            "may_create_rooms"
        ]

    # a viewer may not create rooms; a deactivated participant may do nothing anywhere
    bob = may("ptn-bob")
    assert [(w["workspace"], w["allowed"]) for w in bob["workspaces"]] == [("design", False)]
    assert "deactivated" in bob["workspaces"][0]["reason"]
    # an editor may
    assert [(w["workspace"], w["allowed"]) for w in may("ptn-bot")["workspaces"]] == [
        ("design", True)
    ]
    # a tenant-scope role granting create_note: every workspace
    fed = may("ptn-fed")
    assert fed["every_workspace"] is True and "room-maker" in fed["tenant_reason"]
    # a workspace-scoped role assignment counts for that workspace only
    shadow = directory.json("admin", "show-participant", "ptn-shadow", "--tenant", "acme")
    assert shadow["roles"] == [
        {
            "role": "room-maker",
            "scope": "workspace",
            "workspace": "empty",
            "workspace_id": "ws-empty",
            "builtin": False,
        }
    ]
    assert shadow["may_create_rooms"]["every_workspace"] is False
    assert [(w["workspace"], w["allowed"]) for w in shadow["may_create_rooms"]["workspaces"]] == [
        ("empty", True)
    ]
    # no rooms, no role assignments
    zoe = directory.json("admin", "show-participant", "zoe@acme.test", "--tenant", "acme")
    assert zoe["rooms"] == [] and zoe["roles"] == []


def test_show_table_has_sections(directory):
    result = directory.run("admin", "show-participant", "ptn-bob", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "display_name     Bob Builder" in out
    assert "Workspaces (membership role)" in out and "viewer" in out
    assert "Role assignments: none" in out
    assert "room-d1" in out and "leave" in out
    assert "May create rooms nowhere" in out


# -- errors, exit 1 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("list-participants", "--tenant", "nope"),
        ("show-participant", "ptn-ada", "--tenant", "nope"),
    ],
)
def test_unknown_tenant_is_exit_1(directory, args):
    result = directory.run("admin", *args)
    assert result.exit_code == 1
    assert "SW_TENANT_NOT_FOUND" in result.stderr and result.stdout == ""


def test_unknown_or_foreign_participant_is_not_found(directory):
    for ref in ("ptn-nobody", "nobody@acme.test", "ptn-globex-ada", "@far:elsewhere.test"):
        result = directory.run("admin", "show-participant", ref, "--tenant", "acme")
        assert result.exit_code == 1, ref
        assert "SW_PARTICIPANT_NOT_FOUND" in result.stderr
    # globex's participant with acme's Ada's address is not visible from acme, and vice versa
    ada = directory.json("admin", "show-participant", "ada@acme.test", "--tenant", "globex")
    assert ada["id"] == "ptn-globex-ada"


def test_shared_email_is_ambiguous_with_a_json_error(directory):
    result = directory.run(
        "--output", "json", "admin", "show-participant", "shared@acme.test", "--tenant", "acme"
    )
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_PARTICIPANT_AMBIGUOUS"
    assert sorted(error["details"]["ids"]) == ["ptn-shadow", "ptn-shared"]


# -- errors, exit 2 -----------------------------------------------------------------------------


def test_usage_errors_are_exit_2(directory):
    for args in (
        ("list-participants",),  # --tenant missing
        ("list-participants", "--tenant", "acme", "--kind", "robot"),
        ("show-participant", "--tenant", "acme"),  # no participant
    ):
        result = directory.run("admin", *args)
        assert result.exit_code == 2, args


@pytest.mark.parametrize(
    "args",
    [
        ("list-participants", "--tenant", "acme"),
        ("show-participant", "ptn-ada", "--tenant", "acme"),
    ],
)
def test_unusable_database_is_exit_2(directory, unusable_db_url, args):
    url, code = unusable_db_url()
    result = directory.run("admin", *args, env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2, result.output
    assert code in result.stderr
    assert "pw-" not in result.stderr and "secret-pw" not in result.stderr  # password masked


def test_missing_mariadb_database_is_exit_2(directory, db_url):
    """A server that answers but has no such database (the core's helper covers a refused
    port): SW_DB_NOT_FOUND, the password masked."""
    if db_url.startswith("sqlite"):
        pytest.skip("a MariaDB server's answer; SQLite is covered above")
    url = db_url.rsplit("/", 1)[0] + "/scaiwave_missing_db"
    result = directory.run("admin", "list-participants", "--tenant", "acme",
                           env={"SCAIWAVE_DB_URL": url})  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "SW_DB_NOT_FOUND" in result.stderr and "pw-" not in result.stderr


def test_unreachable_jwks_is_exit_2(directory, admin_token, httpx_mock):
    # a key set the fixture did not cache: fetched, and the fetch fails (pytest-httpx)
    jwks = "https://scaikey.unreachable.test/jwks.json"
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=jwks)
    env = {"SCAIWAVE_ADMIN_TOKEN": admin_token(role="super_admin"), "SCAIKEY_JWKS_URL": jwks}
    result = directory.run("admin", "list-participants", "--tenant", "acme", env=env)
    assert result.exit_code == 2 and "SW_BACKEND_UNREACHABLE" in result.stderr


# -- errors, exit 3: the admin token's scope ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("list-participants", "--tenant", "acme"),
        ("show-participant", "ptn-ada", "--tenant", "acme"),
    ],
)
def test_tenant_admin_sees_only_its_tenant(directory, admin_token, args):
    other = admin_token.env(role="tenant_admin", tenant_id="tnt_globex")
    result = directory.run("admin", *args, env=other)
    assert result.exit_code == 3, result.output
    assert "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr and result.stdout == ""
    own = admin_token.env(role="tenant_admin", tenant_id="tnt_acme")
    assert directory.run("admin", *args, env=own).exit_code == 0


def test_partner_admin_sees_its_partners_tenants_only(directory, admin_token):
    args = ("admin", "list-participants", "--tenant", "acme")
    north = admin_token.env(role="partner_admin", partner_id="prt_north")
    assert directory.run(*args, env=north).exit_code == 0
    south = admin_token.env(role="partner_admin", partner_id="prt_south")
    assert directory.run(*args, env=south).exit_code == 3
    platform = admin_token.env(role="super_admin")
    assert directory.run(*args, env=platform).exit_code == 0


def test_invalid_or_expired_token_is_exit_3(directory, admin_token):
    env = admin_token.env(role="super_admin", exp=1)
    result = directory.run("admin", "show-participant", "ptn-ada", "--tenant", "acme", env=env)
    assert result.exit_code == 3 and "SW_AUTH_EXPIRED_TOKEN" in result.stderr
    env["SCAIWAVE_ADMIN_TOKEN"] = "not-a-jwt"
    result = directory.run("admin", "list-participants", "--tenant", "acme", env=env)
    assert result.exit_code == 3 and "SW_AUTH_INVALID_TOKEN" in result.stderr


# -- the module contract ------------------------------------------------------------------------


def test_kinds_match_the_schema():
    from scaiwave_admin.participants import KINDS

    from scaiwave_cli import api

    assert KINDS == api.store.models.PARTICIPANT_KINDS


@pytest.mark.parametrize("command", ["list-participants", "show-participant"])
def test_command_modules_import_no_heavy_library(command):
    # sqlalchemy, httpx, cryptography, rich (and jwt, attrs, …): assert_help_is_light's default
    assert_help_is_light("admin", command)


def test_every_command_has_help_with_an_example(cli):
    for command in ("list-participants", "show-participant", "list-workspaces", "create-workspace"):
        result = cli.invoke("admin", command, "--help")
        assert result.exit_code == 0 and "Example: scaiwave admin " + command in result.stdout
