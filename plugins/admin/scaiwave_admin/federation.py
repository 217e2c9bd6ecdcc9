"""`scaiwave admin federation`: the server's Ed25519 signing keys and its public descriptor.

- ``federation key generate``: the first key; refused (exit 1) while an active key exists.
- ``federation key rotate [--overlap 30d] [--expect-active KEY_ID]``: a new active key; the
  previous one stays published for verification until it expires.
- ``federation key list`` / ``revoke KEY_ID --yes`` / ``prune [--dry-run]``.
- ``federation well-known``: the JSON the server publishes at ``/.well-known/scaiwave/server``.

Keys are made and stored by the core (``api.fedkeys``: cryptography's Ed25519, the seed
Fernet-encrypted when ``SCAIWAVE_KEY_ENCRYPTION_KEY`` is set; a warning on stderr when it is
not). Private keys never leave the database: listings do not even select the column, database
errors are re-raised without their SQL parameters, audit rows carry key ids and public keys.

Concurrency: ``federation_keys.active_slot`` is UNIQUE (1 on the active key, NULL elsewhere).
A rotation reads the active key, then in ONE transaction takes that key out of the slot and
inserts the new key into it; when another rotation committed in between, the insert collides
with the other new key on the constraint, the transaction rolls back and the loser exits 1
with ``SW_FEDERATION_ROTATE_CONFLICT``. Two generates race the same way.

Every change is audited in its transaction. Platform admins only (exit 3 otherwise), except
``well-known``, which shows what the server publishes to everyone anyway.
"""

from __future__ import annotations

import json

import click

from scaiwave_admin.audit import parse_duration
from scaiwave_cli import api

KEY_COLUMNS = ["id", "state", "created_at", "expires_at", "revoked_at", "encrypted", "public_key"]
PROTOCOL_VERSIONS = ["v1"]


def _now():
    return api.store.utcnow()


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _require_platform(app):
    app.actor.require_platform("manage federation signing keys")


def _warn_unencrypted(app) -> None:
    if not app.settings.key_encryption_key:
        app.warn(
            "SCAIWAVE_KEY_ENCRYPTION_KEY is not set: the new private key is stored UNENCRYPTED "
            "in the database (set it to a Fernet key to encrypt keys at rest)"
        )


def _db_error(exc, what: str):
    """A database failure while writing keys, without the statement's parameters (which would
    contain the private key)."""
    orig = getattr(exc, "orig", None)
    reason = f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__
    return api.BackendUnavailable(
        f"{what} failed in the database ({reason})",
        code="SW_DB_ERROR",
        hint="nothing was changed; check the database and retry",
    )


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
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from scaiwave_admin.adapters import db

    _require_platform(app)
    store = app.store
    exists = api.DomainError(
        "this server already has an active federation signing key",
        code="SW_FEDERATION_KEY_EXISTS",
        hint="replace it with: scaiwave admin federation key rotate",
    )
    with store.session() as s:
        active = db.active_key_row(s)
    if active is not None:
        exists.details = {"active": active.id}
        raise exists
    _warn_unencrypted(app)
    values = api.fedkeys.new_keypair(app.settings)
    key_id, public, encrypted = values["id"], values["public_key"], values["encrypted"]
    now = _now()
    try:
        with store.transaction() as s:
            active = db.active_key_row(s)
            if active is not None:
                exists.details = {"active": active.id}
                raise exists
            db.insert_key(s, values, now=now)
            api.audit.record(
                s,
                app.actor,
                "federation.key.generate",
                f"federation_key:{key_id}",
                details={
                    "before": {"active": None},
                    "after": {"active": key_id, "public_key": public, "encrypted": encrypted},
                },
            )
    except IntegrityError:  # another generate won the active slot meanwhile
        raise exists from None
    except SQLAlchemyError as exc:
        raise _db_error(exc, "generating the key") from None
    finally:
        values.clear()
    app.out.record(
        {
            "result": "generated",
            "id": key_id,
            "state": "active",
            "created_at": now,
            "encrypted": encrypted,
            "public_key": public,
        }
    )


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
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from scaiwave_admin.adapters import db

    overlap_td = parse_duration(overlap, option="--overlap")
    _require_platform(app)
    store = app.store
    with store.session() as s:
        current = db.active_key_row(s)
    if current is None:
        raise api.DomainError(
            "this server has no active federation signing key to rotate",
            code="SW_FEDERATION_KEY_MISSING",
            hint="create one with: scaiwave admin federation key generate",
        )
    conflict = api.DomainError(
        f"another rotation replaced {expected or current.id} first; this one changed nothing",
        code="SW_FEDERATION_ROTATE_CONFLICT",
        hint="see the keys with: scaiwave admin federation key list",
    )
    if expected and current.id != expected:
        conflict.details = {"expected": expected, "active": current.id}
        raise conflict
    _warn_unencrypted(app)
    values = api.fedkeys.new_keypair(app.settings)
    key_id, public, encrypted = values["id"], values["public_key"], values["encrypted"]
    now = _now()
    expires = now + overlap_td
    try:
        with store.transaction() as s:
            if db.retire_key(s, current.id, expires_at=expires) != 1:
                raise conflict  # revoked or pruned meanwhile
            db.insert_key(s, values, now=now)  # the unique active_slot decides the race
            api.audit.record(
                s,
                app.actor,
                "federation.key.rotate",
                f"federation_key:{key_id}",
                details={
                    "before": {"active": current.id},
                    "after": {
                        "active": key_id,
                        "public_key": public,
                        "encrypted": encrypted,
                        "previous": current.id,
                        "previous_expires_at": _iso(expires),
                    },
                },
            )
    except IntegrityError:
        raise conflict from None
    except SQLAlchemyError as exc:
        raise _db_error(exc, "rotating the key") from None
    finally:
        values.clear()
    app.out.record(
        {
            "result": "rotated",
            "id": key_id,
            "state": "active",
            "created_at": now,
            "encrypted": encrypted,
            "public_key": public,
            "previous": current.id,
            "previous_expires_at": expires,
        }
    )


@key.command("list")
@api.pass_app
def list_keys(app):
    """List the signing keys: id, state (active/previous/expired/revoked), dates, public key.

    Example: scaiwave --output json admin federation key list
    """
    from scaiwave_admin.adapters import db

    _require_platform(app)
    now = _now()
    with app.store.session() as s:
        rows = [db.key_record(row, now) for row in db.key_rows(s)]
    app.out.rows(rows, KEY_COLUMNS)


@key.command("revoke")
@click.argument("key_id")
@click.option("--yes", is_flag=True, help="Confirm: the key stops being published at once.")
@click.option("--reason", help="Why (kept in the audit log).")
@api.pass_app
def revoke(app, key_id, yes, reason):
    """Revoke a compromised key: removed from publication at once (needs --yes; audited).

    Example: scaiwave admin federation key revoke ed25519:abcd1234 --yes --reason "leaked"
    """
    from sqlalchemy.exc import SQLAlchemyError

    from scaiwave_admin.adapters import db

    _require_platform(app)
    now = _now()
    try:
        with app.store.transaction() as s:
            row = db.key_row(s, key_id)
            if row is None:
                raise api.NotFoundError(
                    f"federation key {key_id!r} not found",
                    code="SW_FEDERATION_KEY_NOT_FOUND",
                    hint="list them with: scaiwave admin federation key list",
                )
            before = db.key_state(row, now)
            if before != "revoked":
                if not yes:
                    raise api.DomainError(
                        f"revoking {key_id} ({before}) removes it from publication at once: "
                        "peers reject everything it signed",
                        code="SW_CONFIRMATION_REQUIRED",
                        hint=f"re-run with --yes: scaiwave admin federation key revoke {key_id} "
                        "--yes",
                    )
                db.revoke_key(s, key_id, now=now)
                api.audit.record(
                    s,
                    app.actor,
                    "federation.key.revoke",
                    f"federation_key:{key_id}",
                    details={
                        "before": {"state": before},
                        "after": {"state": "revoked"},
                        "reason": reason,
                    },
                )
            row = db.key_row(s, key_id)
    except SQLAlchemyError as exc:
        raise _db_error(exc, "revoking the key") from None
    record = db.key_record(row, now)
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
    from sqlalchemy.exc import SQLAlchemyError

    from scaiwave_admin.adapters import db

    _require_platform(app)
    now = _now()
    try:
        with app.store.transaction() as s:
            rows = [db.key_record(row, now) for row in db.expired_keys(s, now)]
            ids = [r["id"] for r in rows]
            if ids and not dry_run:
                db.delete_keys(s, ids)
                api.audit.record(
                    s,
                    app.actor,
                    "federation.key.prune",
                    "federation_keys",
                    details={"before": {"expired": ids}, "after": {"deleted": ids}},
                )
    except SQLAlchemyError as exc:
        raise _db_error(exc, "pruning keys") from None
    verb = "would delete" if dry_run else "deleted"
    app.out.info(f"{verb} {len(rows)} expired key(s)" if rows else "nothing to prune")
    app.out.rows(
        [{"result": "would prune" if dry_run else "pruned", **r} for r in rows],
        ["result", *KEY_COLUMNS],
    )


def descriptor(settings, rows, now) -> dict:
    """``/.well-known/scaiwave/server``: the server name, the current key (``public_key`` as
    ``ed25519:<base64>``, as the server publishes it) and every key a peer may still verify
    with (current and previous, each with its expiry)."""
    from scaiwave_admin.adapters import db

    server = settings.server_name
    base = f"https://{server}/_scaiwave/federation/v1"
    current = None
    verify_keys = {}
    for row in sorted(rows, key=lambda r: db.key_state(r, now) != "active"):
        state = db.key_state(row, now)
        if state == "active":
            current = row
            verify_keys[row.id] = {"key": row.public_key, "status": "current", "expires_at": None}
        elif state == "previous":
            verify_keys[row.id] = {
                "key": row.public_key,
                "status": "previous",
                "expires_at": _iso(row.expires_at),
            }
    return {
        "server_name": server,
        "public_key": f"ed25519:{current.public_key}" if current is not None else "",
        "key_id": current.id if current is not None else None,
        "verify_keys": verify_keys,
        "protocol_versions": PROTOCOL_VERSIONS,
        "endpoints": {
            "send": f"{base}/send",
            "profile": f"{base}/profile/{{local_id}}",
            "members": f"{base}/rooms/{{room_id}}/members",
            "backfill": f"{base}/rooms/{{room_id}}/backfill",
        },
    }


@federation.command("well-known")
@api.pass_app
def well_known(app):
    """Print the JSON the server publishes at /.well-known/scaiwave/server.

    Server name from SCAIWAVE_SERVER_NAME; the current key and the previous ones still
    published, with their expiry. A table/json output is the document itself; csv lists keys.

    Example: scaiwave admin federation well-known > server.json
    """
    from scaiwave_admin.adapters import db

    _ = app.actor  # any admin may read it, but a bad or expired token still fails (exit 3)
    now = _now()
    with app.store.session() as s:
        rows = db.key_rows(s)
    doc = descriptor(app.settings, rows, now)
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
