"""`scaiwave admin federation`: the server's Ed25519 signing keys and its public descriptor.

- ``federation key generate``: the first key; refused (exit 1) while an active key exists.
- ``federation key rotate [--overlap 30d] [--expect-active KEY_ID]``: a new active key; the
  previous one stays published for verification until it expires.
- ``federation key list`` / ``revoke KEY_ID --yes`` / ``prune [--dry-run]``.
- ``federation well-known``: the JSON the server publishes at ``/.well-known/scaiwave/server``.

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
@api.pass_app
def generate(app):
    """Create the server's first signing key (refused while an active key exists).

    Example: SCAIWAVE_KEY_ENCRYPTION_KEY=… scaiwave admin federation key generate
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    app.out.record(usecase.generate(app.store, actor, app.settings, warn=app.warn))


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
@api.pass_app
def rotate(app, overlap, expected):
    """Replace the active signing key; the previous one stays published until it expires.

    Two concurrent rotations: exactly one wins, the other exits 1
    (SW_FEDERATION_ROTATE_CONFLICT) and changes nothing.

    Example: scaiwave admin federation key rotate --overlap 30d
    """
    from scaiwave_admin.usecases import federation as usecase

    overlap_td = values.parse_duration(overlap, option="--overlap")
    actor = _platform_actor(app)
    record = usecase.rotate(
        app.store, actor, app.settings, overlap=overlap_td, expected=expected, warn=app.warn
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
@click.option("--yes", is_flag=True, help="Confirm: the key stops being published at once.")
@click.option("--reason", help="Why (kept in the audit log).")
@api.pass_app
def revoke(app, key_id, yes, reason):
    """Revoke a compromised key: removed from publication at once (needs --yes; audited).

    Example: scaiwave admin federation key revoke ed25519:abcd1234 --yes --reason "leaked"
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    before, record = usecase.revoke(app.store, actor, key_id, yes=yes, reason=reason)
    if before == "revoked":
        app.out.info(f"{key_id} was already revoked: unchanged")
    elif before == "active":
        app.warn(
            "the active key is revoked: this server has no signing key now; create one with "
            "`scaiwave admin federation key generate`"
        )
    app.out.record({"result": "unchanged" if before == "revoked" else "revoked", **record})


@key.command("prune")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted, delete nothing.")
@api.pass_app
def prune(app, dry_run):
    """Delete keys whose publication period is over (expired previous keys; audited).

    Example: scaiwave admin federation key prune --dry-run
    """
    from scaiwave_admin.usecases import federation as usecase

    actor = _platform_actor(app)
    rows = usecase.prune(app.store, actor, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    app.out.info(f"{verb} {len(rows)} expired key(s)" if rows else "nothing to prune")
    app.out.rows(
        [{"result": "would prune" if dry_run else "pruned", **r} for r in rows],
        ["result", *KEY_COLUMNS],
    )


@federation.command("well-known")
@api.pass_app
def well_known(app):
    """Print the JSON the server publishes at /.well-known/scaiwave/server.

    Server name from SCAIWAVE_SERVER_NAME; the current key and the previous ones still
    published, with their expiry. A table/json output is the document itself; csv lists keys.

    Example: scaiwave admin federation well-known > server.json
    """
    from scaiwave_admin.usecases import federation as usecase

    _ = app.actor  # any admin may read it, but a bad or expired token still fails (exit 3)
    doc = usecase.well_known(app.store, app.settings)
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
