"""Property: `role check` reports exactly what the core decides, on SQLite and MariaDB.

The core's ``api.permissions.check`` is proved against a brute-force evaluation over generated
worlds (built-in overrides, custom roles, tenant- and workspace-scoped assignments, memberships,
deactivated participants) in tests/core/test_permissions.py. Here the worlds are built through
the CLI itself (role create, permissions, assign, tenant overrides) and each drawn question is
asked twice: through `scaiwave role check` and through the core; the exit code, `allowed` and the
granting roles of the chain must agree.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaiwave_cli import api

P = api.permissions
PEOPLE = ["prt-alice", "prt-bob", "prt-carol", "prt-dave"]  # dave is deactivated
EMAIL = {p: f"{p[4:]}@acme.test" for p in PEOPLE}
WORKSPACES = {"design": "ws-acme-design", "ops": "ws-acme-ops"}
PERMS = sorted(P.PERMISSIONS)

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("assign"),
            st.sampled_from(PEOPLE[:3]),
            st.sampled_from(["member", "c-tenant", "editor", "viewer", "c-ws"]),
            st.sampled_from([None, "design", "ops"]),
        ),
        st.tuples(
            st.just("override"),
            st.sampled_from(["editor", "viewer", "member"]),
            st.sampled_from(["add", "remove"]),
            st.sampled_from(PERMS),
        ),
        st.tuples(st.just("grant"), st.sampled_from(["c-tenant", "c-ws"]), st.sampled_from(PERMS)),
    ),
    max_size=6,
)
questions = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE), st.sampled_from(PERMS), st.sampled_from([None, "design", "ops"])
    ),
    min_size=1,
    max_size=4,
)


def _apply(world, step) -> None:
    kind, *rest = step
    if kind == "assign":
        person, role, ws = rest
        level_ok = (role in ("editor", "viewer", "c-ws")) == (ws is not None)
        if not level_ok:
            return  # a workspace role needs a workspace, a tenant role must not have one
        args = ["role", "assign", EMAIL[person], role, "--tenant", "acme"]
        args += ["--workspace", ws] if ws else []
    elif kind == "override":
        role, verb, permission = rest
        args = ["role", "permissions", verb, role, permission, "--tenant", "acme", "--yes"]
    else:
        role, permission = rest
        args = ["role", "permissions", "add", role, permission, "--tenant", "acme"]
    result = world.run(*args)
    assert result.exit_code in (0, 1), result.output  # 1: a guard refused, the world is as it was


def _core(world, person, permission, ws):
    with world.store.read_session() as s:
        return P.check(
            s,
            tenant_id="tnt-acme",
            participant_id=person,
            permission=permission,
            workspace_id=WORKSPACES.get(ws),
        )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, asked=questions)
def test_role_check_reports_the_core_decision(world, plan, asked):
    for role, level in (("c-tenant", "tenant"), ("c-ws", "workspace")):
        made = world.run("role", "create", role, "--tenant", "acme", "--level", level)
        assert made.exit_code == 0, made.output
    for step in plan:
        _apply(world, step)
    for person, permission, ws in asked:
        args = ["--output", "json", "role", "check", person, permission, "--tenant", "acme"]
        result = world.run(*args + (["--workspace", ws] if ws else []))
        decision = _core(world, person, permission, ws)
        assert result.exit_code == (0 if decision.allowed else 1), result.output
        record = json.loads(result.stdout)
        assert record["allowed"] == decision.allowed
        granting = {c["role"] for c in record["chain"] if c["grants"]}
        assert granting == {c["role"] for c in decision.chain if c["grants"]}
