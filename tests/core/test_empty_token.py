"""A set-but-empty SCAIWAVE_ADMIN_TOKEN (a script whose token fetch yielded "") is exit 3
``SW_AUTH_EMPTY_TOKEN``: it never runs as the local platform operator. Unset is the local
operator, as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from scaiwave_cli import api, errors

CREATE = ("admin", "create-tenant", "--slug", "acme", "--name", "Acme",
          "--scaikey-tenant-id", "tnt_acme")  # fmt: skip


def tenants(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(api.store.models.Tenant))


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_empty_token_in_the_environment_is_exit_3(cli, store, value):
    result = cli.invoke("--output", "json", *CREATE, env={"SCAIWAVE_ADMIN_TOKEN": value})
    assert result.exit_code == 3, result.output
    body = json.loads(result.stderr)["error"]
    assert body["code"] == errors.SW_AUTH_EMPTY_TOKEN
    assert "SCAIWAVE_ADMIN_TOKEN is set but empty" in body["message"]
    assert "unset SCAIWAVE_ADMIN_TOKEN" in body["hint"]
    assert tenants(store) == 0


def test_empty_token_in_dot_env_is_exit_3(cli, store):
    (cli.home.parent / ".env").write_text("SCAIWAVE_ADMIN_TOKEN=\n")  # the working directory
    result = cli.invoke(*CREATE)
    assert result.exit_code == 3, result.output
    assert f"Error [{errors.SW_AUTH_EMPTY_TOKEN}]" in result.stderr
    assert "(.env)" in result.stderr
    assert tenants(store) == 0


def test_an_empty_environment_value_wins_over_a_dot_env_token(cli, store, admin_token):
    token = admin_token("super_admin")
    (cli.home.parent / ".env").write_text(f"SCAIWAVE_ADMIN_TOKEN={token}\n")
    result = cli.invoke(*CREATE, env={"SCAIWAVE_ADMIN_TOKEN": ""})
    assert result.exit_code == 3, result.output
    assert errors.SW_AUTH_EMPTY_TOKEN in result.stderr
    assert tenants(store) == 0


def test_unset_token_is_the_local_operator(cli, store):
    result = cli.invoke(*CREATE)
    assert result.exit_code == 0, result.output
    assert tenants(store) == 1
