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
    (database, ScaiKey URL and credentials, ...), the sync's own SCAIWAVE_SYNC_* tuning, and
    every setting the other installed plugins declare (e.g. SCAIWAVE_ROOM_*). What is in use:
    SCAIWAVE_DB_URL is the URL the store opens (unset: the embedded SQLite store),
    "(--env-file)" the .env file read (or "none").

    Example: scaiwave show-config --output json
    """
    from scaiwave_sync.usecases.settings import settings_rows

    api.load_plugin_declarations()  # every installed plugin's declared settings, not only ours
    rows = settings_rows(app.settings, env_file_option=app.env_file is not None)
    app.out.rows(rows, ["setting", "value", "source"])


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
    import json

    from scaiwave_sync.usecases.settings import export_lines, export_values

    # click.echo, not app.out: app.out masks every known secret, and --include-secrets asks
    # for exactly those.
    values, hidden = export_values(app.settings, include_secrets)
    if app.out.format in ("json", "jsonl"):
        click.echo(json.dumps(values, indent=2 if app.out.format == "json" else None))
    else:
        for line in export_lines(values, hidden, shell=shell):
            click.echo(line)
    if not values and not hidden:
        app.out.info("no ScaiKey settings are set (see `scaiwave show-config`)")
