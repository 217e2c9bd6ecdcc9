"""`scaiwave admin list-workspaces` and `create-workspace`, on SQLite and MariaDB (``db_url``).

The seeded world is in ``directory_fixtures.py``: tenant acme has a personal workspace ``ada``,
a shared ``design`` (owners Ada and Zoë, an editor, a viewer, two rooms) and a shared ``empty``.
"""

# ruff: noqa: F811  (fixtures imported from directory_fixtures are test arguments of the same name)
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from directory_fixtures import (  # noqa: E402, F401  (fixtures)
    directory,
    statements,
)

CREATE = ("admin", "create-workspace", "--tenant", "acme")


def slugs(rows) -> list[str]:
    return [r["slug"] for r in rows]


# -- list-workspaces ----------------------------------------------------------------------------


def test_list_shows_kind_owners_members_and_rooms(directory):
    rows = directory.json("admin", "list-workspaces", "--tenant", "acme")
    assert slugs(rows) == ["ada", "design", "empty"]  # not globex's "design"
    by_slug = {r["slug"]: r for r in rows}
    design = by_slug["design"]
    assert (design["kind"], design["members"], design["rooms"]) == ("shared", 4, 2)
    assert design["owners"] == [
        {"id": "ptn-ada", "display_name": "Ada Lovelace", "email": "Ada@Acme.test", "active": True},
        {"id": "ptn-zoe", "display_name": "Zoë Ärger", "email": "zoe@acme.test", "active": True},
    ]
    assert design["description"] == "the design team" and design["id"] == "ws-design"
    ada = by_slug["ada"]
    assert (ada["kind"], ada["members"], ada["rooms"]) == ("personal", 1, 1)
    assert [o["id"] for o in ada["owners"]] == ["ptn-ada"]
    empty = by_slug["empty"]
    assert (empty["kind"], empty["owners"], empty["members"], empty["rooms"]) == (
        "shared",
        [],
        0,
        0,
    )


def test_list_member_filter_by_id_or_email_adds_the_role(directory):
    def listed(ref):
        rows = directory.json("admin", "list-workspaces", "--tenant", "acme", "--member", ref)
        return [(r["slug"], r["member_role"]) for r in rows]

    assert listed("ptn-ada") == [("ada", "owner"), ("design", "owner")]
    assert listed("ZOE@acme.test") == [("design", "owner")]
    assert listed("ptn-bob") == [("design", "viewer")]
    assert listed("ptn-fed") == []  # a tenant role is not a workspace membership
    result = directory.run("admin", "list-workspaces", "--tenant", "acme", "--member", "ptn-x")
    assert result.exit_code == 1 and "SW_PARTICIPANT_NOT_FOUND" in result.stderr
    result = directory.run(
        "admin", "list-workspaces", "--tenant", "acme", "--member", "ptn-globex-ada"
    )
    assert result.exit_code == 1 and "SW_PARTICIPANT_NOT_FOUND" in result.stderr


def test_list_table_and_csv(directory):
    with directory.store.transaction() as s:  # an inactive owner is marked in the table
        s.add(
            directory.m.WorkspaceMember(
                workspace_id="ws-empty",
                participant_id="ptn-bob",
                tenant_id="tnt-acme",
                role="owner",
            )
        )
    result = directory.run("admin", "list-workspaces", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["slug", "name", "kind", "owners", "members", "rooms"]
    assert "Ada Lovelace, Zoë Ärger" in lines[2] and lines[2].split()[-2:] == ["4", "2"]
    assert "Bob Builder (inactive)" in lines[3]
    result = directory.run("--output", "csv", "admin", "list-workspaces", "--tenant", "acme")
    header, *body = result.stdout.splitlines()
    assert header == "slug,name,kind,owners,members,rooms,id,description,created_at"
    assert len(body) == 3


def test_list_statement_count_does_not_grow_with_workspaces(directory, statements):
    def run(*extra):
        with statements() as seen:
            args = ("--output", "jsonl", "admin", "list-workspaces", "--tenant", "acme")
            result = directory.run(*args, *extra)
        assert result.exit_code == 0, result.output
        return len(seen), len(result.stdout.splitlines())

    few, few_member = run(), run("--member", "ptn-ada")
    directory.add_workspaces(60)
    many, many_member = run(), run("--member", "ptn-ada")
    assert (few[1], many[1]) == (3, 63) and (few_member[1], many_member[1]) == (2, 62)
    assert many[0] == few[0] and many_member[0] == few_member[0]


# -- create-workspace ---------------------------------------------------------------------------


def test_create_makes_the_workspace_its_owner_and_an_audit_row(directory):
    out = directory.json(*CREATE, "--slug", "research", "--name", "Research", "--owner", "ptn-zoe")
    assert out["status"] == "created" and out["kind"] == "shared" and out["tenant"] == "acme"
    assert out["owners"] == [
        {"id": "ptn-zoe", "display_name": "Zoë Ärger", "email": "zoe@acme.test"}
    ]
    m = directory.m
    assert directory.count(m.Workspace, tenant_id="tnt-acme", slug="research") == 1
    assert directory.count(m.WorkspaceMember, workspace_id=out["id"]) == 1
    assert directory.count(m.WorkspaceMember, workspace_id=out["id"], role="owner") == 1
    [entry] = directory.audit_rows("workspace.create")
    assert (entry.target, entry.tenant_id, entry.actor_kind) == (
        "workspace:acme/research",
        "tnt-acme",
        "local",
    )
    assert entry.details["owners"] == ["ptn-zoe"] and entry.details["workspace_id"] == out["id"]
    # the owner may now create rooms there (what `room import --as` needs)
    shown = directory.json("admin", "show-participant", "ptn-zoe", "--tenant", "acme")
    assert {"workspace": "research", "allowed": True} in [
        {k: w[k] for k in ("workspace", "allowed")} for w in shown["may_create_rooms"]["workspaces"]
    ]


def test_identical_rerun_is_unchanged_and_not_audited(directory):
    args = (*CREATE, "--slug", "research", "--name", "Research", "--owner", "ptn-ada")
    first = directory.json(*args, "--owner", "zoe@acme.test", "--description", "R&D")
    again = directory.json(*args, "--owner", "zoe@acme.test", "--description", "R&D")
    assert (first["status"], again["status"]) == ("created", "unchanged")
    assert again["id"] == first["id"]
    # the same owners named differently, a subset of them, or without the description: unchanged
    assert directory.json(*args, "--owner", "ZOE@ACME.TEST")["status"] == "unchanged"
    subset = (*CREATE, "--slug", "research", "--name", "Research", "--owner", "ada@acme.test")
    assert directory.json(*subset)["status"] == "unchanged"
    # a workspace that existed before any command ran counts too
    existing = directory.json(*CREATE, "--slug", "design", "--name", "Design", "--owner", "ptn-zoe")
    assert (existing["status"], existing["id"]) == ("unchanged", "ws-design")
    assert len(directory.audit_rows("workspace.create")) == 1
    assert directory.count(directory.m.WorkspaceMember, workspace_id=first["id"]) == 2
    result = directory.run(*args)  # table output
    assert result.exit_code == 0 and "status       unchanged" in result.stdout
    assert "Ada Lovelace" in result.stdout


def test_duplicate_owner_refs_make_one_owner(directory):
    out = directory.json(
        *CREATE, "--slug", "dup", "--name", "Dup", "--owner", "ptn-ada", "--owner", "ada@acme.test"
    )
    assert [o["id"] for o in out["owners"]] == ["ptn-ada"]
    assert directory.count(directory.m.WorkspaceMember, workspace_id=out["id"]) == 1


@pytest.mark.parametrize(
    "args, differs",
    [
        (("--slug", "design", "--name", "Designers", "--owner", "ptn-ada"), "name"),
        (("--slug", "design", "--name", "Design", "--owner", "ptn-shared"), "owners"),
        (
            ("--slug", "design", "--name", "Design", "--owner", "ptn-ada", "--description", "x"),
            "description",
        ),
        (("--slug", "ada", "--name", "Ada's space", "--owner", "ptn-ada"), "kind"),
    ],
)
def test_slug_used_differently_is_taken(directory, args, differs):
    result = directory.run("--output", "json", *CREATE, *args)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_WORKSPACE_SLUG_TAKEN"
    assert list(error["details"]["differences"]) == [differs]
    assert directory.audit_rows("workspace.create") == []


def test_slug_taken_meanwhile_is_decided_again(directory, monkeypatch):
    """Another writer inserts the slug between our look-up and our insert: the unique
    constraint stops ours, and the command decides again on what is there."""
    from scaiwave_admin.adapters import directory as adapter

    real = adapter.workspace_by_slug
    calls = []

    def blind_first_time(session, tenant_id, slug):
        calls.append(slug)
        return None if len(calls) == 1 else real(session, tenant_id, slug)

    monkeypatch.setattr(adapter, "workspace_by_slug", blind_first_time)
    out = directory.json(*CREATE, "--slug", "design", "--name", "Design", "--owner", "ptn-ada")
    assert (out["status"], out["id"], len(calls)) == ("unchanged", "ws-design", 2)
    calls.clear()
    result = directory.run(*CREATE, "--slug", "design", "--name", "Other", "--owner", "ptn-ada")
    assert result.exit_code == 1 and "SW_WORKSPACE_SLUG_TAKEN" in result.stderr
    assert directory.count(directory.m.Workspace, slug="design", tenant_id="tnt-acme") == 1
    assert directory.audit_rows("workspace.create") == []


# -- errors, exit 1 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "owners, reasons",
    [
        ((), ["missing"]),
        (("ptn-nobody",), ["not_found"]),
        (("ptn-globex-ada",), ["not_found"]),  # another tenant's participant
        (("ptn-bob",), ["inactive"]),
        (("ptn-bot",), ["not_human"]),
        (("shared@acme.test",), ["ambiguous"]),
        (("ptn-ada", "ptn-fed", "nobody@acme.test"), ["not_human", "not_found"]),
    ],
)
def test_workspace_needs_an_active_human_owner(directory, owners, reasons):
    flags = [x for ref in owners for x in ("--owner", ref)]
    result = directory.run("--output", "json", *CREATE, "--slug", "new", "--name", "New", *flags)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "SW_WORKSPACE_NEEDS_OWNER"
    assert [p["reason"] for p in error["details"]["problems"]] == reasons
    assert directory.count(directory.m.Workspace, slug="new") == 0
    assert directory.audit_rows("workspace.create") == []


def test_invalid_slug_or_name_is_exit_1(directory):
    for slug in ("Design", "ab", "de-", "-de", "dé", "x" * 64):
        result = directory.run(*CREATE, "--slug", slug, "--name", "N", "--owner", "ptn-ada")
        assert result.exit_code == 1 and "SW_SLUG_INVALID" in result.stderr, slug
    for name in ("   ", "n" * 201):
        result = directory.run(*CREATE, "--slug", "okay", "--name", name, "--owner", "ptn-ada")
        assert result.exit_code == 1 and "SW_WORKSPACE_NAME_INVALID" in result.stderr
    assert directory.count(directory.m.Workspace, tenant_id="tnt-acme") == 3


@pytest.mark.parametrize(
    "args",
    [
        ("list-workspaces", "--tenant", "nope"),
        ("create-workspace", "--tenant", "nope", "--slug", "new-ws", "--name", "X", "--owner", "p"),
    ],
)
def test_unknown_tenant_is_exit_1(directory, args):
    result = directory.run("admin", *args)
    assert result.exit_code == 1 and "SW_TENANT_NOT_FOUND" in result.stderr


# -- errors, exit 2 -----------------------------------------------------------------------------


def test_usage_errors_are_exit_2(directory):
    for args in (
        ("list-workspaces",),
        ("create-workspace", "--tenant", "acme", "--name", "N", "--owner", "ptn-ada"),
        ("create-workspace", "--tenant", "acme", "--slug", "okay", "--owner", "ptn-ada"),
    ):
        assert directory.run("admin", *args).exit_code == 2, args
    assert directory.count(directory.m.Workspace, tenant_id="tnt-acme") == 3


@pytest.mark.parametrize(
    "args",
    [
        ("list-workspaces", "--tenant", "acme"),
        ("create-workspace", "--tenant", "acme", "--slug", "new-ws", "--name", "X", "--owner", "p"),
    ],
)
def test_unusable_database_is_exit_2(directory, unusable_db_url, args):
    url, code = unusable_db_url()
    result = directory.run("admin", *args, env={"SCAIWAVE_DB_URL": url})
    assert result.exit_code == 2, result.output
    assert code in result.stderr and "pw-" not in result.stderr and "secret-pw" not in result.stderr


def test_token_without_a_scaikey_to_check_it_is_exit_2(directory, admin_token):
    # no ScaiKey configured at all (the fixture's SCAIKEY_JWKS_URL removed)
    env = {"SCAIWAVE_ADMIN_TOKEN": admin_token(role="super_admin"), "SCAIKEY_JWKS_URL": None}
    result = directory.run(
        *CREATE, "--slug", "new-ws", "--name", "X", "--owner", "ptn-ada", env=env
    )
    assert result.exit_code == 2 and "SCAIKEY_BASE_URL" in result.stderr
    assert directory.count(directory.m.Workspace, slug="new-ws") == 0


# -- errors, exit 3: the admin token's scope ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("list-workspaces", "--tenant", "acme"),
        (
            "create-workspace",
            "--tenant",
            "acme",
            "--slug",
            "new-ws",
            "--name",
            "X",
            "--owner",
            "ptn-ada",
        ),
    ],
)
def test_tenant_admin_of_another_tenant_is_exit_3_and_changes_nothing(directory, admin_token, args):
    env = admin_token.env(role="tenant_admin", tenant_id="tnt_globex")
    result = directory.run("admin", *args, env=env)
    assert result.exit_code == 3, result.output
    assert "SW_AUTH_INSUFFICIENT_PERMISSION" in result.stderr and result.stdout == ""
    assert directory.count(directory.m.Workspace, slug="new-ws") == 0
    assert directory.audit_rows("workspace.create") == []


def test_tenant_admin_creates_in_its_tenant_and_is_the_audited_actor(directory, admin_token):
    env = admin_token.env(role="tenant_admin", tenant_id="tnt_acme", sub="usr_it")
    args = (*CREATE, "--slug", "new-ws", "--name", "X", "--owner", "ptn-ada")
    result = directory.run(*args, env=env)
    assert result.exit_code == 0, result.output
    [entry] = directory.audit_rows("workspace.create")
    assert (entry.actor, entry.actor_kind) == ("scaikey:usr_it", "token")
    expired = admin_token.env(role="tenant_admin", tenant_id="tnt_acme", exp=1)
    result = directory.run(*args, env=expired)
    assert result.exit_code == 3 and "SW_AUTH_EXPIRED_TOKEN" in result.stderr
    partner = admin_token.env(role="partner_admin", partner_id="prt_south")
    result = directory.run("admin", "list-workspaces", "--tenant", "acme", env=partner)
    assert result.exit_code == 3
