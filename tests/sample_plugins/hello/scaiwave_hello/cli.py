"""`scaiwave hello`: a third-party plugin in 30 lines (see entry_points.md)."""

import click

from scaiwave_cli import api

REQUIRES_API = "1.1"


@click.group()
def hello():
    """Say hello (a sample third-party plugin)."""


@hello.command()
@click.option("--name", default="operator", help="Who to greet.")
@click.option("--tenant", "tenant_ref", help="Greet on behalf of this tenant (slug or id).")
@api.pass_app
def greet(app, name, tenant_ref):
    """Greet someone and show which server (and tenant) this is.

    Example: scaiwave --output json hello greet --name Ada
    """
    if name == "nobody":
        raise api.DomainError("nobody to greet", code="SW_HELLO_NOBODY", hint="pass --name")
    record = {"greeting": f"hello, {name}", "server_name": app.settings.server_name}
    if tenant_ref:
        with app.store.read_session() as session:
            tenant = api.find_tenant(session, tenant_ref, actor=app.actor)
            record["tenant"] = tenant.name
    app.out.record(record)
