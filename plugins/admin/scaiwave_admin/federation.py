"""`scaiwave admin federation`: the server's Ed25519 signing keys and its public descriptor.

- ``federation key generate``: the first key; refused (exit 1) while an active key exists.
- ``federation key rotate [--overlap 30d] [--expect-active KEY_ID]``: a new active key; the
  previous one stays published for verification until it expires.
- ``federation key list`` / ``revoke KEY_ID [--dry-run] [--yes]`` / ``prune [--dry-run] [--yes]``
  (a plan, then ``api.confirm``: a prompt on a terminal, else ``--yes`` or exit 2).
- ``federation well-known``: the JSON the server publishes at ``/.well-known/scaiwave/server``.

generate, rotate and well-known need a server name (``SCAIWAVE_SERVER_NAME``, not ``localhost``,
or ``--server-name``); generate and rotate need ``SCAIWAVE_KEY_ENCRYPTION_KEY`` unless
``--allow-unencrypted`` (never next to encrypted keys): ``api.fedkeys`` decides both.

Platform admins only (exit 3 otherwise), except ``well-known``, which shows what the server
publishes to everyone anyway. Thin: the work (keys, races, audit) is in
``usecases.federation``, imported inside the commands.
"""

from __future__ import annotations

import json

import click

from scaiwave_admin import values
from scaiwave_cli import api

KEY_COLUMNS = ["id", "state", "created_at", "expires_at", "revoked_at", "encrypted", "public_key"]


def _platform_actor(app):
    actor = app.actor
    actor.require_platform("manage federation signing keys")
    return actor


def _loud_warning(message: str) -> None:
    """A warning on stderr, red on a terminal (Click drops the colour elsewhere)."""
    click.echo(click.style(f"warning: {api.redact(message)}", fg="red", bold=True), err=True)


server_name_option = click.option(
    "--server-name",
    metavar="NAME",
    help="This server's federation name, overriding SCAIWAVE_SERVER_NAME (required when that "
    "is unset or localhost).",
)
allow_unencrypted_option = click.option(
    "--allow-unencrypted",
    is_flag=True,
    help="Store the private key in plaintext when SCAIWAVE_KEY_ENCRYPTION_KEY is not set "
    "(refused anyway once stored keys are encrypted).",
)
dry_run_option = click.option("--dry-run", is_flag=True, help="Show the plan, change nothing.")


@click.group("federation")
def federation():
    """Federation: the server's Ed25519 signing keys and its well-known descriptor.

    Example: scaiwave admin federation key list
    """


@federation.group("key")
def key():
    """Generate, rotate, list, revoke and prune the server's federation signing keys.

    Example: scaiwave admin federation key rotate --overlap 30d
    """


@key.command("generate")
@server_name_option
@allow_unencrypted_option
@api.pass_app
def generate(app, server_name, allow_unencrypted):
    """Create the server's first signing key (refused while an active key exists).

    Encrypted at rest with SCAIWAVE_KEY_ENCRYPTION_KEY; without it exit 2 unless
    --allow-unencrypted. Needs a server name (SCAIWAVE_SERVER_NAME or --server-name).

    Example: scaiwave admin federation key generate --server-name wave.test --allow-unencrypted
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    api.fedkeys.require_server_name(app.settings, server_name)
    record = usecase.generate(
        app.store, actor, app.settings, allow_unencrypted=allow_unencrypted, warn=_loud_warning
    )
    app.out.record(record)


@key.command("rotate")
@click.option(
    "--overlap",
    default="30d",
    show_default=True,
    metavar="DURATION",
    help="How long the previous key stays published for verification (30d, 12h, …).",
)
@click.option(
    "--expect-active",
    "expected",
    metavar="KEY_ID",
    help="Rotate only if KEY_ID is still the active key (exit 1 otherwise).",
)
@server_name_option
@allow_unencrypted_option
@api.pass_app
def rotate(app, overlap, expected, server_name, allow_unencrypted):
    """Replace the active signing key; the previous one stays published until it expires.

    Two concurrent rotations: exactly one wins, the other exits 1
    (SW_FEDERATION_ROTATE_CONFLICT) and changes nothing. The encryption key must open the
    stored keys (exit 2 otherwise); the server name rule is generate's. No active key: exit 1.

    Example: scaiwave admin federation key rotate --server-name wave.test --allow-unencrypted
    """
    from scaiwave_admin.usecases import federation as usecase

    overlap_td = values.parse_duration(overlap, option="--overlap")
    actor = _platform_actor(app)
    api.fedkeys.require_server_name(app.settings, server_name)
    record = usecase.rotate(
        app.store,
        actor,
        app.settings,
        overlap=overlap_td,
        expected=expected,
        allow_unencrypted=allow_unencrypted,
        warn=_loud_warning,
    )
    app.out.record(record)


@key.command("list")
@api.pass_app
def list_keys(app):
    """List the signing keys: id, state (active/previous/expired/revoked), dates, public key.

    Example: scaiwave --output json admin federation key list
    """
    from scaiwave_admin.usecases import federation as usecase

    _platform_actor(app)
    app.out.rows(usecase.list_keys(app.store), KEY_COLUMNS)


@key.command("revoke")
@click.argument("key_id")
@click.option("--reason", help="Why (kept in the audit log).")
@dry_run_option
@api.yes_option
@api.pass_app
def revoke(app, key_id, reason, dry_run, yes):
    """Revoke a compromised key: removed from publication at once (confirmed; audited).

    Shows the plan; asks on a terminal, else needs --yes (exit 2 without it). An unknown
    KEY_ID: exit 1 (SW_FEDERATION_KEY_NOT_FOUND, with the closest ids).

    Example: scaiwave admin federation key revoke ed25519:abcd1234 --yes --reason "leaked"
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    state, record = usecase.revoke_plan(app.store, key_id)
    if state == "revoked":
        app.out.info(f"{key_id} was already revoked: unchanged")
        app.out.record({"result": "unchanged", **record})
        return
    plan = (
        f"plan: revoke federation key {key_id} ({state}): it stops being published at once "
        "and peers reject everything it signed"
        + ("; this server has no active signing key afterwards" if state == "active" else "")
    )
    if dry_run:
        app.out.info(f"{plan}\ndry run: nothing was changed")
        app.out.record({"result": "would revoke", **record})
        return
    api.confirm(plan, yes=yes)
    before, record = usecase.revoke(app.store, actor, key_id, reason=reason)
    if before == "active":
        app.warn(
            "the active key is revoked: this server has no signing key now; create one with "
            "`scaiwave admin federation key generate`"
        )
    app.out.record({"result": "unchanged" if before == "revoked" else "revoked", **record})


@key.command("prune")
@dry_run_option
@api.yes_option
@api.pass_app
def prune(app, dry_run, yes):
    """Delete keys whose publication period is over (expired previous keys; confirmed; audited).

    Example: scaiwave admin federation key prune --dry-run
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    columns = ["result", *KEY_COLUMNS]
    planned = usecase.prune_plan(app.store)
    if not planned:
        app.out.info("nothing to prune")
        app.out.rows([], columns)
        return
    ids = [r["id"] for r in planned]
    if dry_run:
        app.out.info(f"would delete {len(ids)} expired key(s): {', '.join(ids)}")
        app.out.rows([{"result": "would prune", **r} for r in planned], columns)
        return
    api.confirm(f"plan: delete {len(ids)} expired federation key(s): {', '.join(ids)}", yes=yes)
    rows = usecase.prune(app.store, actor, planned=ids)
    app.out.info(f"deleted {len(rows)} expired key(s)")
    app.out.rows([{"result": "pruned", **r} for r in rows], columns)


@federation.command("well-known")
@server_name_option
@api.pass_app
def well_known(app, server_name):
    """Print the JSON the server publishes at /.well-known/scaiwave/server.

    Server name from SCAIWAVE_SERVER_NAME or --server-name (exit 2 while neither names one:
    unset or localhost); the current key and the previous ones still published, with their
    expiry. A table/json output is the document itself; csv lists keys.

    Example: scaiwave admin federation well-known --server-name wave.example.com > server.json
    """
    from scaiwave_admin.usecases import federation as usecase

    _ = app.actor  # any admin may read it, but a bad or expired token still fails (exit 3)
    server = api.fedkeys.require_server_name(app.settings, server_name)
    doc = usecase.well_known(app.store, server)
    if not doc["public_key"]:
        app.warn(
            "no active federation signing key: the descriptor publishes none; create one with "
            "`scaiwave admin federation key generate`"
        )
    fmt = app.out.format
    if fmt == "csv":
        app.out.rows(
            [{"key_id": k, **v} for k, v in doc["verify_keys"].items()],
            ["key_id", "status", "expires_at", "key"],
        )
    elif fmt == "table":
        app.out.text(json.dumps(doc, indent=2))
    else:
        app.out.record(doc)


COMMANDS = [federation]
