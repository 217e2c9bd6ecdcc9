"""`scaiwave sync show-config` and `scaiwave sync export-env` (aliases `show-config`,
`export-env`): the effective settings, and the ScaiKey ones as .env or shell lines."""

from __future__ import annotations

import click

from scaiwave_cli import api


@click.command("show-config")
@api.pass_app
def show_config(app):
    """Show the effective settings and their sources, secrets masked.

    Sources, lowest to highest: default, .env, environment, option. Lists the core's settings
    (database, ScaiKey URL and credentials, ...) and the sync's own SCAIWAVE_SYNC_* tuning.

    Example: scaiwave show-config --output json
    """
    from scaiwave_sync.settings_view import settings_rows

    app.out.rows(settings_rows(app.settings), ["setting", "value", "source"])


@click.command("export-env")
@click.option("--shell", is_flag=True, help="Print `export NAME='value'` lines (safely quoted).")
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Print the client secret too (otherwise it is left out).",
)
@api.pass_app
def export_env(app, shell, include_secrets):
    """Print the ScaiKey settings as .env lines or shell exports.

    Secrets (SCAIKEY_CLIENT_SECRET) appear only with --include-secrets; otherwise a comment
    says they are set. With --output json: one object of name -> value.

    Example: scaiwave export-env --shell --include-secrets > scaikey.sh
    """
    from scaiwave_sync.settings_view import export_lines

    export_lines(app, shell=shell, include_secrets=include_secrets)
