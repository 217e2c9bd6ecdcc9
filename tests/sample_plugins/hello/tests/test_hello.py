"""The sample plugin's own tests: only `scaiwave_cli.testing` fixtures, no setting, no MariaDB."""

import json


def test_greets_in_json(cli):
    assert cli.json("hello", "greet", "--name", "Ada")["greeting"] == "hello, Ada"


def test_nobody_is_a_domain_error(cli):
    result = cli.invoke("hello", "greet", "--name", "nobody")
    assert result.exit_code == 1 and "SW_HELLO_NOBODY" in result.stderr


def test_a_tenant_admin_greets_for_its_own_tenant_only(cli, factory, admin_token):
    factory.tenant("acme", name="Acme Inc")
    factory.tenant("globex")
    env = admin_token.env("tenant_admin", tenant_id="tnt_acme")  # ScaiKey id of acme

    mine = cli.invoke("--output", "json", "hello", "greet", "--tenant", "acme", env=env)
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.stdout)["tenant"] == "Acme Inc"

    other = cli.invoke("hello", "greet", "--tenant", "globex", env=env)
    assert other.exit_code == 3 and "SW_AUTH_INSUFFICIENT_PERMISSION" in other.stderr
