"""`scaiwave admin deactivate-participant` / `reactivate-participant` (issue 16), through the CLI
on SQLite and MariaDB (``store`` follows ``db_url``).

Local participants (AI, helpers, bots: no ``scaikey_user_id``) are deactivated directly; a
ScaiKey-linked one is refused unless ``--force-local``, which sets ``operator_hold`` (the sync
then keeps them deactivated: plugins/sync/tests/test_sync_hold.py). Guards: the last active
tenant_admin and the last active owner of a (non-personal) workspace.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from scaiwave_cli import api
from scaiwave_cli.testing import assert_help_is_light

m = api.store.models
DEACTIVATE = ["admin", "deactivate-participant"]
REACTIVATE = ["admin", "reactivate-participant"]


class People:
    """acme: ada (ScaiKey-linked human, tenant_admin), bot (local AI), helper (local helper, sole
    owner of workspace 'ops'), grace (linked human, the other tenant_admin); globex: gus."""

    def __init__(self, store, factory):
        self.store = store
        acme = factory.tenant("acme")
        globex = factory.tenant("globex")
        self.ada = factory.participant(acme, "ada", display_name="Ada Lovelace").id
        self.grace = factory.participant(acme, "grace").id
        self.bot = factory.participant(acme, "bot", kind="ai", display_name="Summariser").id
        self.helper = factory.participant(acme, "helper", kind="helper").id
        self.gus = factory.participant(globex, "gus", kind="ai").id
        factory.workspace(acme, "ops", owner=_Row(self.helper))
        # a personal workspace owned by the bot alone: never a reason to refuse
        factory.workspace(acme, "bot-home", owner=_Row(self.bot), personal=True)
        with store.transaction() as s:
            api.permissions.ensure_builtin_roles(s)
        self.assign("tenant_admin", self.ada)
        self.assign("tenant_admin", self.grace)

    def assign(self, role_name, participant_id, tenant_id="tnt-acme"):
        with self.store.transaction() as s:
            role = s.scalar(select(m.Role).where(m.Role.name == role_name, m.Role.builtin))
            s.add(
                m.RoleAssignment(
                    tenant_id=tenant_id, participant_id=participant_id, role_id=role.id,
                    workspace_id=None, scope_key="",
                )
            )  # fmt: skip

    def row(self, pid):
        with self.store.session() as s:
            return s.get(m.Participant, pid)

    def audit(self, action=None):
        with self.store.session() as s:
            q = select(m.AuditEntry).order_by(m.AuditEntry.id)
            if action:
                q = q.where(m.AuditEntry.action == action)
            return list(s.scalars(q))


class _Row:
    def __init__(self, id):
        self.id = id


@pytest.fixture
def people(store, factory):
    return People(store, factory)


def _error(result) -> dict:
    return json.loads(result.stderr.splitlines()[-1])["error"]


# -- local participants ------------------------------------------------------------------------


def test_a_local_ai_participant_is_deactivated_and_reactivated_audited(cli, people):
    done = cli.json(*DEACTIVATE, "prt-bot", "--tenant", "acme", "--yes")
    assert done["result"] == "deactivated" and done["id"] == "prt-bot"
    assert done["active"] is False and done["operator_hold"] is False
    assert done["changes"] == {"active": {"before": True, "after": False}}
    row = people.row("prt-bot")
    assert not row.active and row.deactivated_at is not None and not row.operator_hold
    [entry] = people.audit("participant.deactivate")
    assert entry.target == "participant:prt-bot" and entry.tenant_id == "tnt-acme"
    assert entry.details["force_local"] is False and entry.details["hold"] is False

    # again: unchanged, no second audit row, no question asked (no --yes needed)
    again = cli.json(*DEACTIVATE, "prt-bot", "--tenant", "acme")
    assert again["result"] == "unchanged" and len(people.audit("participant.deactivate")) == 1

    back = cli.json(*REACTIVATE, "prt-bot", "--tenant", "acme", "--yes")
    assert back["result"] == "reactivated" and back["active"] is True
    row = people.row("prt-bot")
    assert row.active and row.deactivated_at is None and not row.operator_hold
    [entry] = people.audit("participant.reactivate")
    assert entry.details["force_local"] is False and entry.details["hold"] is False
    assert cli.json(*REACTIVATE, "prt-bot", "--tenant", "acme")["result"] == "unchanged"
    assert len(people.audit()) == 2


def test_the_table_form_says_what_happened(cli, people):
    result = cli.invoke(*DEACTIVATE, "BOT@acme.test", "--tenant", "acme", "--yes")
    assert result.exit_code == 0, result.output
    assert "deactivate participant 'prt-bot'" in result.stderr  # the plan
    assert "deactivated" in result.stdout and "prt-bot" in result.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(cli, people):
    dry = cli.invoke("--output", "json", *DEACTIVATE, "prt-bot", "--tenant", "acme", "--dry-run")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["result"] == "would deactivate"
    assert plan["changes"] == {"active": {"before": True, "after": False}}
    assert "dry run: nothing was changed" in dry.stderr
    assert people.row("prt-bot").active and people.audit() == []

    cli.json(*DEACTIVATE, "prt-bot", "--tenant", "acme", "--yes")
    dry = cli.json(*REACTIVATE, "prt-bot", "--tenant", "acme", "--dry-run")
    assert dry["result"] == "would reactivate" and not people.row("prt-bot").active


def test_confirmation_without_a_terminal_and_without_yes_is_exit_2(cli, people):
    refused = cli.invoke("--output", "json", *DEACTIVATE, "prt-bot", "--tenant", "acme")
    assert refused.exit_code == 2, refused.output
    assert _error(refused)["code"] == "SW_CONFIRMATION_REQUIRED"
    assert "deactivate participant 'prt-bot'" in refused.stderr  # the plan came first
    assert people.row("prt-bot").active and people.audit() == []

    cli.json(*DEACTIVATE, "prt-bot", "--tenant", "acme", "--yes")
    refused = cli.invoke(*REACTIVATE, "prt-bot", "--tenant", "acme")
    assert refused.exit_code == 2 and "SW_CONFIRMATION_REQUIRED" in refused.stderr
    assert not people.row("prt-bot").active


def test_answering_no_on_a_terminal_changes_nothing(cli, people, monkeypatch):
    from scaiwave_cli import confirm

    monkeypatch.setattr(confirm, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(confirm, "stderr_is_terminal", lambda: True)
    result = cli.invoke(*DEACTIVATE, "prt-bot", "--tenant", "acme", input="n\n")
    assert result.exit_code == 1 and "SW_ABORTED" in result.stderr
    assert people.row("prt-bot").active


# -- ScaiKey-linked participants ---------------------------------------------------------------


def test_a_scaikey_linked_human_is_refused_without_force_local(cli, people):
    result = cli.invoke("--output", "json", *DEACTIVATE, "ada@acme.test", "--tenant", "acme",
                        "--yes")  # fmt: skip
    assert result.exit_code == 1, result.output
    error = _error(result)
    assert error["code"] == "SW_PARTICIPANT_SCAIKEY_OWNED"
    assert "usr_ada" in error["message"]
    assert "ScaiKey" in error["hint"] and "next sync" in error["hint"]
    assert "--force-local" in error["hint"]
    assert people.row("prt-ada").active and people.audit() == []


def test_force_local_deactivates_and_holds_then_reactivate_releases(cli, people):
    dry = cli.invoke("--output", "json", *DEACTIVATE, "prt-ada", "--tenant", "acme",
                     "--force-local", "--dry-run")  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "keeps them deactivated until" in dry.stderr  # the plan says what the sync will do
    assert "scaiwave admin reactivate-participant prt-ada --tenant acme" in dry.stderr
    assert people.row("prt-ada").active

    done = cli.json(*DEACTIVATE, "prt-ada", "--tenant", "acme", "--force-local", "--yes")
    assert done["result"] == "deactivated" and done["operator_hold"] is True
    assert done["changes"] == {
        "active": {"before": True, "after": False},
        "operator_hold": {"before": False, "after": True},
    }
    assert "keeps them deactivated" in done["sync"]
    row = people.row("prt-ada")
    assert not row.active and row.operator_hold and row.deactivated_at is not None
    [entry] = people.audit("participant.deactivate")
    assert entry.details["force_local"] is True and entry.details["hold"] is True
    assert entry.details["scaikey_user_id"] == "usr_ada"
    # again: unchanged
    again = cli.json(*DEACTIVATE, "prt-ada", "--tenant", "acme", "--force-local", "--yes")
    assert again["result"] == "unchanged"

    back = cli.json(*REACTIVATE, "prt-ada", "--tenant", "acme", "--yes")
    assert back["result"] == "reactivated" and back["operator_hold"] is False
    assert "mirror" in back["sync"] and "ScaiKey" in back["sync"]
    row = people.row("prt-ada")
    assert row.active and not row.operator_hold and row.deactivated_at is None
    [entry] = people.audit("participant.reactivate")
    assert entry.details["hold"] is False and entry.details["released_hold"] is True


def test_an_already_inactive_linked_participant_can_be_held(cli, people):
    with people.store.transaction() as s:  # ScaiKey disabled her; the sync mirrored it
        s.get(m.Participant, "prt-grace").active = False
    plain = cli.json(*DEACTIVATE, "prt-grace", "--tenant", "acme", "--yes")
    assert plain["result"] == "unchanged" and plain["operator_hold"] is False
    assert "--force-local" in plain["sync"]  # how to keep her deactivated whatever ScaiKey says
    held = cli.json(*DEACTIVATE, "prt-grace", "--tenant", "acme", "--force-local", "--yes")
    assert held["result"] == "deactivated"
    assert held["changes"] == {"operator_hold": {"before": False, "after": True}}
    assert people.row("prt-grace").operator_hold


def test_an_erased_participant_is_not_reactivated(cli, people):
    now = api.store.utcnow()
    with people.store.transaction() as s:
        row = s.get(m.Participant, "prt-grace")
        row.display_name, row.email, row.scaikey_user_id = "Erased participant", None, None
        row.active, row.deactivated_at, row.erased_at = False, now, now
    result = cli.invoke("--output", "json", *REACTIVATE, "prt-grace", "--tenant", "acme", "--yes")
    assert result.exit_code == 1, result.output
    assert _error(result)["code"] == "SW_PARTICIPANT_ERASED"
    assert not people.row("prt-grace").active and people.audit() == []
    # deactivating it changes nothing (it is inactive) and never puts a hold on a tombstone
    same = cli.json(*DEACTIVATE, "prt-grace", "--tenant", "acme", "--force-local", "--yes")
    assert same["result"] == "unchanged" and not people.row("prt-grace").operator_hold


# -- guards ------------------------------------------------------------------------------------


def test_the_last_active_tenant_admin_is_refused_with_the_hand_over_command(cli, people):
    cli.json(*DEACTIVATE, "prt-grace", "--tenant", "acme", "--force-local", "--yes")
    result = cli.invoke("--output", "json", *DEACTIVATE, "prt-ada", "--tenant", "acme",
                        "--force-local", "--yes")  # fmt: skip
    assert result.exit_code == 1, result.output
    error = _error(result)
    assert (
        error["code"] == "SW_TENANT_NEEDS_ADMIN" and "last active tenant_admin" in error["message"]
    )
    assert "scaiwave role assign" in error["hint"] and "tenant_admin --tenant acme" in error["hint"]
    assert people.row("prt-ada").active
    # a dry run says the same (the plan would be refused)
    dry = cli.invoke(*DEACTIVATE, "prt-ada", "--tenant", "acme", "--force-local", "--dry-run")
    assert dry.exit_code == 1 and "SW_TENANT_NEEDS_ADMIN" in dry.stderr
    # hand over first, then it works
    people.assign("tenant_admin", "prt-bot")
    done = cli.json(*DEACTIVATE, "prt-ada", "--tenant", "acme", "--force-local", "--yes")
    assert done["result"] == "deactivated"


def test_the_last_active_owner_of_a_workspace_is_refused(cli, people):
    result = cli.invoke("--output", "json", *DEACTIVATE, "prt-helper", "--tenant", "acme", "--yes")
    assert result.exit_code == 1, result.output
    error = _error(result)
    assert error["code"] == "SW_WORKSPACE_NEEDS_OWNER" and "'ops'" in error["message"]
    assert "scaiwave role assign" in error["hint"]
    assert "owner --tenant acme --workspace ops" in error["hint"]
    assert people.row("prt-helper").active
    # an inactive co-owner does not count
    with people.store.transaction() as s:
        s.add(m.WorkspaceMember(workspace_id="ws-acme-ops", participant_id="prt-bot",
                                tenant_id="tnt-acme", role="owner"))  # fmt: skip
    cli.json(*DEACTIVATE, "prt-bot", "--tenant", "acme", "--yes")  # its personal one is no bar
    again = cli.invoke(*DEACTIVATE, "prt-helper", "--tenant", "acme", "--yes")
    assert again.exit_code == 1 and "SW_WORKSPACE_NEEDS_OWNER" in again.stderr
    cli.json(*REACTIVATE, "prt-bot", "--tenant", "acme", "--yes")
    done = cli.json(*DEACTIVATE, "prt-helper", "--tenant", "acme", "--yes")
    assert done["result"] == "deactivated"


# -- scope and look-ups ------------------------------------------------------------------------


def test_tenant_scope_comes_from_the_admin_token(cli, people, admin_token):
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")
    other = cli.invoke(*DEACTIVATE, "prt-gus", "--tenant", "globex", "--yes", env=env)
    assert other.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in other.stderr
    assert people.row("prt-gus").active
    # another tenant's participant is not found through this tenant
    cross = cli.invoke(*DEACTIVATE, "prt-gus", "--tenant", "acme", "--yes", env=env)
    assert cross.exit_code == 1 and "SW_PARTICIPANT_NOT_FOUND" in cross.stderr
    mine = cli.invoke("--output", "json", *DEACTIVATE, "prt-bot", "--tenant", "acme", "--yes",
                      env=env)  # fmt: skip
    assert mine.exit_code == 0, mine.output
    [entry] = people.audit("participant.deactivate")
    assert entry.actor_kind != "local"


def test_help_is_light_and_has_an_example():
    for command in ("deactivate-participant", "reactivate-participant"):
        assert_help_is_light("admin", command)
