"""`scaiwave sync register` (alias `scaiwave register`): file this server's registration with
ScaiKey, interactively or from options."""

from __future__ import annotations

import click

from scaiwave_cli import api
from scaiwave_sync.options import tenant_option

SCOPES = ("GLOBAL", "PARTNER", "TENANT")


@click.command("register")
@click.option(
    "--scaikey-url", metavar="URL", help="ScaiKey's base URL [default: SCAIKEY_BASE_URL]."
)
@click.option(
    "--url", "server_url", metavar="URL", help="This server's URL [default: SCAIWAVE_API_URL]."
)
@click.option("--email", metavar="ADDRESS", help="Contact e-mail for ScaiKey's admins.")
@click.option(
    "--scope",
    type=click.Choice(SCOPES, case_sensitive=False),
    help="Application scope: GLOBAL (every tenant; needed for the full sync), PARTNER, TENANT.",
)
@click.option("--partner", metavar="ID", help="ScaiKey partner id (scope PARTNER).")
@tenant_option("ScaiKey tenant slug (scope TENANT).")
@click.option("--name", metavar="TEXT", help="Application name [default: ScaiWave <server name>].")
@click.option("--new", is_flag=True, help="File a new request even if one is pending or approved.")
@api.pass_app
def register(app, **options):
    """Register this server with ScaiKey.

    Interactive on a terminal; every prompt is also an option for scripts. Files a
    self-registration request (no credentials needed) and keeps its request id and status
    token in a 0600 file under the app dir. A ScaiKey admin approves it; then
    `scaiwave sync status` collects the credentials into .env. Re-running while a request is
    pending shows that request instead of filing another. Without a terminal, a missing
    option is an error (exit 2) naming it.

    Example: scaiwave register --url https://wave.test --email ops@wave.test --scope GLOBAL
    """
    from scaiwave_sync.usecases.registration import register_server

    ask = prompt if can_prompt() else None
    app.out.record(register_server(app, ask=ask, **options))


def prompt(text: str, *, default=None, choices=None) -> str:
    """One answer on the terminal (the prompt on stderr)."""
    kind = click.Choice(choices, case_sensitive=False) if choices else str
    return click.prompt(text, default=default, type=kind, err=True)


def can_prompt() -> bool:
    """True when both stdin and stderr are terminals (prompts read stdin, show on stderr)."""
    return api.stdin_is_terminal() and api.stderr_is_terminal()
