"""Property: `role check` agrees with a brute-force evaluation over generated roles, permission
sets, assignments and memberships, on SQLite and MariaDB.

Each example rewrites acme's roles and assignments (built-in permission sets possibly changed,
two custom roles, tenant- and workspace-scoped assignments, owner/editor/viewer memberships,
participants switched on and off), then asks one drawn question through the CLI. The core's
``api.permissions.check`` behind it is checked on every participant x permission x scope of such
worlds in tests/core/test_permissions.py.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from scaiwave_cli import api

P = api.permissions
PEOPLE = ["prt-alice", "prt-bob", "prt-carol", "prt-dave"]
OUTSIDER = "prt-erin"  # beta's participant: denied in acme whatever it holds in beta
WORKSPACES = ["ws-acme-design", "ws-acme-ops"]
SLUG = {"ws-acme-design": "design", "ws-acme-ops": "ops"}
TENANT_ROLES = ["platform_admin", "partner_admin", "tenant_admin", "member", "c-tenant"]
PERMS = list(P.PERMISSIONS)

perm_sets = st.sets(st.sampled_from(PERMS), max_size=8)
world_st = st.fixed_dictionaries(
    {
        "active": st.fixed_dictionaries({p: st.booleans() for p in PEOPLE}),
        "overrides": st.dictionaries(
            st.sampled_from(sorted(P.BUILTIN_ROLES)), perm_sets, max_size=3
        ),
        "custom": st.fixed_dictionaries({"c-tenant": perm_sets, "c-ws": perm_sets}),
        "tenant": st.sets(
            st.tuples(st.sampled_from(PEOPLE + [OUTSIDER]), st.sampled_from(TENANT_ROLES)),
            max_size=6,
        ),
        "scoped": st.sets(
            st.tuples(st.sampled_from(PEOPLE), st.sampled_from(WORKSPACES)), max_size=4
        ),
        "members": st.dictionaries(
            st.tuples(st.sampled_from(WORKSPACES), st.sampled_from(PEOPLE)),
            st.sampled_from(["owner", "editor", "viewer"]),
            max_size=6,
        ),
        "question": st.tuples(
            st.sampled_from(PEOPLE), st.sampled_from(PERMS), st.sampled_from([None] + WORKSPACES)
        ),
    }
)


def _write(world, w) -> dict:
    """Replace acme's role data with ``w``; returns {role name: permissions}."""
    m = world.m
    with world.store.transaction() as s:
        P.ensure_builtin_roles(s)
        s.execute(delete(m.RoleAssignment))
        s.execute(delete(m.WorkspaceMember).where(m.WorkspaceMember.tenant_id == "tnt-acme"))
        customs = select(m.Role.id).where(m.Role.tenant_id.is_not(None))
        s.execute(delete(m.RolePermission).where(m.RolePermission.role_id.in_(customs)))
        s.execute(delete(m.Role).where(m.Role.tenant_id.is_not(None)))
        for pid, active in w["active"].items():
            s.execute(update(m.Participant).where(m.Participant.id == pid).values(active=active))
        ids = dict(s.execute(select(m.Role.name, m.Role.id).where(m.Role.builtin.is_(True))).all())
        perms = {}
        for name in P.BUILTIN_ROLES:
            perms[name] = set(w["overrides"].get(name, P.SHIPPED_PERMISSIONS[name]))
            s.execute(delete(m.RolePermission).where(m.RolePermission.role_id == ids[name]))
            s.add_all(m.RolePermission(role_id=ids[name], permission=p) for p in perms[name])
        for name, level in (("c-tenant", "tenant"), ("c-ws", "workspace")):
            role = m.Role(tenant_id="tnt-acme", name=name, builtin=False, level=level)
            s.add(role)
            s.flush()
            ids[name] = role.id
            perms[name] = set(w["custom"][name])
            s.add_all(m.RolePermission(role_id=role.id, permission=p) for p in perms[name])
        for pid, name in w["tenant"]:
            tenant = "tnt-beta" if pid == OUTSIDER else "tnt-acme"
            s.add(
                m.RoleAssignment(
                    tenant_id=tenant,
                    participant_id=pid,
                    role_id=ids[name],
                    workspace_id=None,
                    scope_key="",
                )
            )
        for pid, ws in w["scoped"]:
            s.add(
                m.RoleAssignment(
                    tenant_id="tnt-acme",
                    participant_id=pid,
                    role_id=ids["c-ws"],
                    workspace_id=ws,
                    scope_key=ws,
                )
            )
        for (ws, pid), role in w["members"].items():
            s.add(
                m.WorkspaceMember(
                    workspace_id=ws, participant_id=pid, tenant_id="tnt-acme", role=role
                )
            )
    return perms


def _brute(w, perms, pid, permission, ws) -> set[str]:
    """The roles that grant ``permission`` to ``pid`` in acme (at ``ws``), by enumeration."""
    if pid not in PEOPLE or not w["active"][pid]:
        return set()
    held = {name for p, name in w["tenant"] if p == pid}
    if ws is not None:
        held |= {"c-ws" for p, where in w["scoped"] if p == pid and where == ws}
        if (ws, pid) in w["members"]:
            held.add(w["members"][(ws, pid)])
    return {name for name in held if permission in perms[name]}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(w=world_st)
def test_check_agrees_with_brute_force(world, w):
    perms = _write(world, w)
    pid, permission, ws = w["question"]
    args = ["--output", "json", "role", "check", pid, permission, "--tenant", "acme"]
    if ws is not None:
        args += ["--workspace", SLUG[ws]]
    result = world.run(*args)
    expected = _brute(w, perms, pid, permission, ws)
    assert result.exit_code == (0 if expected else 1), result.output
    record = json.loads(result.stdout)
    assert record["allowed"] == bool(expected)
    assert {c["role"] for c in record["chain"] if c["grants"]} == expected
