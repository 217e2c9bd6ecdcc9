"""Who is acting (``access.Actor``) and how a token becomes one (``tokens.resolve_actor``):
local operator mode, and the three admin scopes of a ScaiKey token."""

from __future__ import annotations

import pytest

from scaiwave_cli import access, tokens
from scaiwave_cli.config import load_settings


class _Tenant:
    def __init__(self, slug, scaikey_id, partner=None):
        self.slug, self.scaikey_tenant_id, self.partner = slug, scaikey_id, partner


class _Partner:
    def __init__(self, slug, scaikey_id):
        self.slug, self.scaikey_partner_id = slug, scaikey_id


NORTH = _Partner("north", "ptn_n")
ACME = _Tenant("acme", "tnt_acme", NORTH)
BETA = _Tenant("beta", "tnt_beta", None)


def test_no_token_is_the_local_os_user_with_platform_scope(scaiwave_env):
    actor = tokens.resolve_actor(load_settings())
    assert actor.kind == "local" and actor.name.startswith("local:") and actor.is_platform
    actor.require_tenant(BETA)
    actor.require_platform("create partners")


@pytest.mark.parametrize(
    "claims, sees_acme, sees_beta, platform",
    [
        ({"role": "super_admin"}, True, True, True),
        ({"role": "partner_admin", "partner_id": "ptn_n"}, True, False, False),
        ({"role": "tenant_admin", "tenant_id": "tnt_beta"}, False, True, False),
    ],
)
def test_token_scope_decides_what_the_actor_sees(
    admin_token, monkeypatch, claims, sees_acme, sees_beta, platform
):
    monkeypatch.setenv("SCAIWAVE_ADMIN_TOKEN", admin_token(**claims))
    actor = tokens.resolve_actor(load_settings())
    assert actor.kind == "token" and actor.name == "scaikey:usr_admin"
    assert (actor.can_see_tenant(ACME), actor.can_see_tenant(BETA)) == (sees_acme, sees_beta)
    assert actor.is_platform is platform
    for tenant, sees in ((ACME, sees_acme), (BETA, sees_beta)):
        if not sees:
            with pytest.raises(access.PermissionDenied) as err:
                actor.require_tenant(tenant)
            assert err.value.exit_code == 3 and tenant.slug in str(err.value)
    if not platform:
        with pytest.raises(access.PermissionDenied, match="platform admins only"):
            actor.require_platform("create partners")


def test_a_non_admin_role_is_refused_exit_3(admin_token, monkeypatch):
    monkeypatch.setenv("SCAIWAVE_ADMIN_TOKEN", admin_token("member"))
    with pytest.raises(access.PermissionDenied) as err:
        tokens.resolve_actor(load_settings())
    assert err.value.code == "SW_AUTH_INSUFFICIENT_PERMISSION"


def test_access_does_not_import_tokens():
    """One direction: tokens builds Actors; access knows nothing of tokens (no cycle)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(access))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert "scaiwave_cli.tokens" not in imported
