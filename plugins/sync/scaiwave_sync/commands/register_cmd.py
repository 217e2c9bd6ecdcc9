"""`scaiwave sync register` (alias `scaiwave register`): file this server's registration with
ScaiKey, interactively or from options."""

from __future__ import annotations

import click

from scaiwave_cli import api

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
@click.option("--tenant", metavar="SLUG", help="ScaiKey tenant slug (scope TENANT).")
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

    Example: scaiwave register --email ops@example.com --scope GLOBAL --name "ScaiWave prod"
    """
    from scaiwave_sync.registration import register_server

    register_server(app, can_prompt=can_prompt(), **options)


def can_prompt() -> bool:
    """True when both stdin and stderr are terminals (prompts read stdin, show on stderr)."""
    import sys

    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
