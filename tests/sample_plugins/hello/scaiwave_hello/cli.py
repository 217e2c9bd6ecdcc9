"""`scaiwave hello`: a third-party plugin in 30 lines (see entry_points.md)."""

import click

from scaiwave_cli import api

REQUIRES_API = "1.0"


@click.group()
def hello():
    """Say hello (a sample third-party plugin)."""


@hello.command()
@click.option("--name", default="operator", help="Who to greet.")
@api.pass_app
def greet(app, name):
    """Greet someone and show which server this is.

    Example: scaiwave --output json hello greet --name Ada
    """
    if name == "nobody":
        raise api.DomainError("nobody to greet", code="SW_HELLO_NOBODY", hint="pass --name")
    app.out.record({"greeting": f"hello, {name}", "server_name": app.settings.server_name})
