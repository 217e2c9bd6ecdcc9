"""The core's ``scaiwave_cli.permissions`` (reached as ``api.permissions``), tested on its own: the
answer to "may participant X do permission Y here?" and its deciding chain, on SQLite and MariaDB.

- a hypothesis property: ``check`` agrees with a brute-force evaluation over generated roles,
  permission sets, tenant- and workspace-scoped assignments, owner/editor/viewer memberships and
  participants switched on and off (every participant x permission x scope of each example);
- before the built-in roles are seeded, ``check`` reads memberships with the shipped sets (what
  the room plugin's import gate relies on on a fresh database).

The `role check` command over it is tested in the role plugin (plugins/role/tests).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from scaiwave_cli import api

P = api.permissions
PEOPLE = ["prt-alice", "prt-bob", "prt-carol", "prt-dave"]
OUTSIDER = "prt-erin"  # beta's participant: denied in acme whatever it holds in beta
WORKSPACES = ["ws-acme-design", "ws-acme-ops"]
TENANT_ROLES = ["platform_admin", "partner_admin", "tenant_admin", "member", "c-tenant"]
PERMS = list(P.PERMISSIONS)


@pytest.fixture
def tenants(factory):
    """acme (workspaces design, ops; alice, bob, carol, dave) and beta (workspace general; erin,
    who owns it). No role rows: nothing is seeded."""
    acme, beta = factory.tenant("acme"), factory.tenant("beta")
    people = {name: factory.participant(acme, name) for name in ("alice", "bob", "carol", "dave")}
    erin = factory.participant(beta, "erin")
    factory.workspace(acme, "design", owner=people["alice"])
    factory.workspace(acme, "ops")
    factory.workspace(beta, "general", owner=erin)
    return acme, beta


# -- the property -------------------------------------------------------------------------------

perm_sets = st.sets(st.sampled_from(PERMS), max_size=8)
world_st = st.fixed_dictionaries(
    {
        "active": st.fixed_dictionaries({p: st.booleans() for p in PEOPLE}),
        "overrides": st.dictionaries(
            st.sampled_from(sorted(P.BUILTIN_ROLES)), perm_sets, max_size=3
        ),
        "custom": st.fixed_dictionaries({"c-tenant": perm_sets, "c-ws": perm_sets}),
        # tenant overrides of built-ins: acme's decide in acme, beta's must never count there
        "tenant_overrides": st.fixed_dictionaries(
            {
                t: st.dictionaries(
                    st.tuples(st.sampled_from(sorted(P.BUILTIN_ROLES)), st.sampled_from(PERMS)),
                    st.booleans(),
                    max_size=6,
                )
                for t in ("tnt-acme", "tnt-beta")
            }
        ),
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
    }
)


def _write(store, w) -> dict:
    """Replace acme's role data with ``w``; returns {role name: permissions in acme}."""
    m = api.store.models
    with store.transaction() as s:
        P.ensure_builtin_roles(s)
        s.execute(delete(m.RoleOverride))
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
        for tenant_id, overrides in w["tenant_overrides"].items():
            s.add_all(
                m.RoleOverride(tenant_id=tenant_id, role_id=ids[name], permission=p, granted=g)
                for (name, p), g in overrides.items()
            )
        for (name, p), granted in w["tenant_overrides"]["tnt-acme"].items():
            (perms[name].add if granted else perms[name].discard)(p)
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
def test_check_agrees_with_brute_force(store, tenants, w):
    perms = _write(store, w)
    with store.session() as s:
        for pid in PEOPLE + [OUTSIDER]:
            for ws in [None] + WORKSPACES:
                for permission in PERMS:
                    decision = P.check(
                        s,
                        tenant_id="tnt-acme",
                        participant_id=pid,
                        permission=permission,
                        workspace_id=ws,
                    )
                    expected = _brute(w, perms, pid, permission, ws)
                    granting = {c["role"] for c in decision.chain if c["grants"]}
                    assert decision.allowed == bool(expected), (pid, permission, ws)
                    assert granting == expected, (pid, permission, ws, decision.chain)
                    for link in decision.chain:
                        key = (link["role"], permission)
                        assert link["tenant_override"] == (
                            key in w["tenant_overrides"]["tnt-acme"]
                        ), (pid, permission, ws, decision.chain)


# -- before seeding -----------------------------------------------------------------------------


def test_check_before_seeding_uses_the_shipped_sets(store, tenants):
    # nothing seeded yet: the room plugin's gate still sees editors and owners
    with store.session() as s:
        assert s.scalar(select(api.store.models.Role.id).limit(1)) is None
        decision = P.check(
            s,
            tenant_id="tnt-acme",
            participant_id="prt-alice",
            permission="create_note",
            workspace_id="ws-acme-design",
        )
        assert decision.allowed and decision.permission == "create_note"
        other = P.check(
            s,
            tenant_id="tnt-beta",
            participant_id="prt-alice",
            permission="create_note",
            workspace_id="ws-beta-general",
        )
        assert not other.allowed and "not in this tenant" in other.reason
        with pytest.raises(P.UnknownPermission):
            P.check(s, tenant_id="tnt-acme", participant_id="prt-alice", permission="nope")


# -- tenant overrides of built-in roles --------------------------------------------------------


def test_a_tenant_override_decides_in_its_tenant_only_in_two_statements(store, tenants):
    from sqlalchemy import event

    m = api.store.models
    with store.transaction() as s:
        P.ensure_builtin_roles(s)
        editor = s.scalar(select(m.Role.id).where(m.Role.name == "editor", m.Role.builtin))
        viewer = s.scalar(select(m.Role.id).where(m.Role.name == "viewer", m.Role.builtin))
        s.add(m.WorkspaceMember(workspace_id="ws-acme-design", participant_id="prt-bob",
                                tenant_id="tnt-acme", role="editor"))  # fmt: skip
        s.add(m.WorkspaceMember(workspace_id="ws-acme-design", participant_id="prt-carol",
                                tenant_id="tnt-acme", role="viewer"))  # fmt: skip
        s.add(m.RoleOverride(tenant_id="tnt-acme", role_id=editor, permission="create_note",
                             granted=False))  # fmt: skip
        s.add(m.RoleOverride(tenant_id="tnt-beta", role_id=viewer, permission="create_note",
                             granted=True))  # fmt: skip
    statements = []
    with store.session() as s:
        s.connection()  # the session's connection (and its BEGIN) before counting
        event.listen(s.get_bind(), "before_cursor_execute", lambda *a, **k: statements.append(1))

        def ask(pid, tenant="tnt-acme", ws="ws-acme-design"):
            return P.check(s, tenant_id=tenant, participant_id=pid, permission="create_note",
                           workspace_id=ws)  # fmt: skip

        bob = ask("prt-bob")
        assert not bob.allowed and bob.chain[0]["tenant_override"] is True
        assert "overridden in this tenant" in bob.reason
        carol = ask("prt-carol")  # beta's override of viewer does not count in acme
        assert not carol.allowed and carol.chain[0]["tenant_override"] is False
        erin = ask("prt-erin", "tnt-beta", "ws-beta-general")  # beta's owner: no override
        assert erin.allowed and erin.chain[0]["tenant_override"] is False
        assert ask("prt-alice").allowed  # owner: not overridden
        assert len(statements) == 8  # two per check, overrides or not
