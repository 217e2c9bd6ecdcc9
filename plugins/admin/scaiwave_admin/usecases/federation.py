"""Federation: the server's Ed25519 signing keys and its public descriptor (the work behind
`scaiwave admin federation …`).

Keys are made and stored by the core (``api.fedkeys``: cryptography's Ed25519, the seed
Fernet-encrypted when ``SCAIWAVE_KEY_ENCRYPTION_KEY`` is set). Private keys never leave the
database: listings do not even select the column, database errors are re-raised without their
SQL parameters, audit rows carry key ids and public keys.

Concurrency: ``federation_keys.active_slot`` is UNIQUE (1 on the active key, NULL elsewhere).
A rotation reads the active key, then in ONE transaction takes that key out of the slot and
inserts the new key into it; when another rotation committed in between, the insert collides
with the other new key on the constraint, the transaction rolls back and the loser exits 1
with ``SW_FEDERATION_ROTATE_CONFLICT``. Two generates race the same way.

Every change is audited in its transaction. The callers check ``actor.require_platform`` first
(platform admins only, except the well-known descriptor) and the server name
(``api.fedkeys.require_server_name``).

Key safety (issue 13): before a key is made, ``api.fedkeys.require_key_storage`` refuses a
plaintext key unless the operator allowed it, always refuses one next to encrypted keys, and
refuses an encryption key that does not open the stored ones: nothing is written then. Revoke
and prune are planned first (``revoke_plan``, ``prune_plan``): the command shows the plan, asks
(``api.confirm``) or stops at ``--dry-run``, then calls ``revoke`` / ``prune``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scaiwave_admin import errors
from scaiwave_admin.adapters import db
from scaiwave_cli import api

PROTOCOL_VERSIONS = ["v1"]


def _check_storage(session, settings, allow_unencrypted: bool, warn) -> None:
    """Refuse (nothing written) or go on; a plaintext key, allowed, is said loudly."""
    if not api.fedkeys.require_key_storage(session, settings, allow_unencrypted=allow_unencrypted):
        warn(
            "SCAIWAVE_KEY_ENCRYPTION_KEY is not set: the new private key is stored UNENCRYPTED "
            "in the database (--allow-unencrypted; set it to a Fernet key to encrypt keys at "
            "rest)"
        )


def _db_error(exc, what: str):
    """A database failure while writing keys, without the statement's parameters (which would
    contain the private key)."""
    orig = getattr(exc, "orig", None)
    reason = f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__
    return api.BackendUnavailable(
        f"{what} failed in the database ({reason})",
        code=errors.SW_DB_ERROR,
        hint="nothing was changed; check the database and retry",
    )


def generate(
    store, actor, settings, *, allow_unencrypted: bool = False, warn: Callable[[str], None]
) -> dict:
    """The server's first key (refused while an active key exists)."""
    exists = api.DomainError(
        "this server already has an active federation signing key",
        code=errors.SW_FEDERATION_KEY_EXISTS,
        hint="replace it with: scaiwave admin federation key rotate",
    )
    with store.session() as s:
        active = db.active_key_row(s)
        if active is not None:
            exists.details = {"active": active.id}
            raise exists
        _check_storage(s, settings, allow_unencrypted, warn)
    values = api.fedkeys.new_keypair(settings)
    key_id, public, encrypted = values["id"], values["public_key"], values["encrypted"]
    now = api.store.utcnow()
    try:
        with store.transaction() as s:
            active = db.active_key_row(s)
            if active is not None:
                exists.details = {"active": active.id}
                raise exists
            db.insert_key(s, values, now=now)
            api.audit.record(
                s,
                actor,
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
    return {
        "result": "generated",
        "id": key_id,
        "state": "active",
        "created_at": now,
        "encrypted": encrypted,
        "public_key": public,
    }


def rotate(
    store,
    actor,
    settings,
    *,
    overlap: dt.timedelta,
    expected: str | None,
    allow_unencrypted: bool = False,
    warn,
) -> dict:
    """A new active key; the previous one stays published for ``overlap``."""
    with store.session() as s:
        current = db.active_key_row(s)
        if current is not None and not (expected and current.id != expected):
            _check_storage(s, settings, allow_unencrypted, warn)
    if current is None:
        raise api.DomainError(
            "this server has no active federation signing key to rotate",
            code=api.errors.SW_FEDERATION_KEY_MISSING,
            hint="create one with: scaiwave admin federation key generate",
        )
    conflict = api.DomainError(
        f"another rotation replaced {expected or current.id} first; this one changed nothing",
        code=errors.SW_FEDERATION_ROTATE_CONFLICT,
        hint="see the keys with: scaiwave admin federation key list",
    )
    if expected and current.id != expected:
        conflict.details = {"expected": expected, "active": current.id}
        raise conflict
    values = api.fedkeys.new_keypair(settings)
    key_id, public, encrypted = values["id"], values["public_key"], values["encrypted"]
    now = api.store.utcnow()
    expires = now + overlap
    try:
        with store.transaction() as s:
            if db.retire_key(s, current.id, expires_at=expires) != 1:
                raise conflict  # revoked or pruned meanwhile
            db.insert_key(s, values, now=now)  # the unique active_slot decides the race
            api.audit.record(
                s,
                actor,
                "federation.key.rotate",
                f"federation_key:{key_id}",
                details={
                    "before": {"active": current.id},
                    "after": {
                        "active": key_id,
                        "public_key": public,
                        "encrypted": encrypted,
                        "previous": current.id,
                        "previous_expires_at": api.isoformat(expires),
                    },
                },
            )
    except IntegrityError:
        raise conflict from None
    except SQLAlchemyError as exc:
        raise _db_error(exc, "rotating the key") from None
    finally:
        values.clear()
    return {
        "result": "rotated",
        "id": key_id,
        "state": "active",
        "created_at": now,
        "encrypted": encrypted,
        "public_key": public,
        "previous": current.id,
        "previous_expires_at": expires,
    }


def list_keys(store) -> list[dict]:
    now = api.store.utcnow()
    with store.session() as s:
        return [db.key_record(row, now) for row in db.key_rows(s)]


def _key_not_found(session, key_id: str):
    near = db.close_matches(key_id, db.key_ids(session), cutoff=0.8)
    return api.NotFoundError(
        f"federation key {key_id!r} not found" + db.did_you_mean(near),
        code=errors.SW_FEDERATION_KEY_NOT_FOUND,
        hint="list them with: scaiwave admin federation key list",
        details={"did_you_mean": near} if near else None,
    )


def revoke_plan(store, key_id: str) -> tuple[str, dict]:
    """``(state now, key record)``; an unknown id is exit 1 with the closest ids."""
    now = api.store.utcnow()
    with store.session() as s:
        row = db.key_row(s, key_id)
        if row is None:
            raise _key_not_found(s, key_id)
        return db.key_state(row, now), db.key_record(row, now)


def revoke(store, actor, key_id: str, *, reason: str | None) -> tuple[str, dict]:
    """``(state before, key record after)``; revoking a revoked key changes nothing. The
    command has shown the plan and got its confirmation (``revoke_plan``, ``api.confirm``)."""
    now = api.store.utcnow()
    try:
        with store.transaction() as s:
            row = db.key_row(s, key_id)
            if row is None:  # pruned meanwhile
                raise _key_not_found(s, key_id)
            before = db.key_state(row, now)
            if before != "revoked":
                db.revoke_key(s, key_id, now=now)
                api.audit.record(
                    s,
                    actor,
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
    return before, db.key_record(row, now)


def prune_plan(store) -> list[dict]:
    """The keys a prune would delete now: expired (their publication period is over)."""
    now = api.store.utcnow()
    with store.session() as s:
        return [db.key_record(row, now) for row in db.expired_keys(s, now)]


def prune(store, actor, *, planned: list[str]) -> list[dict]:
    """Delete the ``planned`` keys that are still expired (audited); returns them."""
    now = api.store.utcnow()
    try:
        with store.transaction() as s:
            rows = [db.key_record(r, now) for r in db.expired_keys(s, now) if r.id in planned]
            ids = [r["id"] for r in rows]
            if ids:
                db.delete_keys(s, ids)
                api.audit.record(
                    s,
                    actor,
                    "federation.key.prune",
                    "federation_keys",
                    details={"before": {"expired": ids}, "after": {"deleted": ids}},
                )
    except SQLAlchemyError as exc:
        raise _db_error(exc, "pruning keys") from None
    return rows


def well_known(store, server: str) -> dict:
    """The descriptor the server publishes at ``/.well-known/scaiwave/server`` (``server``:
    the name ``api.fedkeys.require_server_name`` gave)."""
    now = api.store.utcnow()
    with store.session() as s:
        rows = db.key_rows(s)
    return descriptor(server, rows, now)


def descriptor(server: str, rows, now) -> dict:
    """``/.well-known/scaiwave/server``: the server name, the current key (``public_key`` as
    ``ed25519:<base64>``, as the server publishes it) and every key a peer may still verify
    with (current and previous, each with its expiry)."""
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
                "expires_at": api.isoformat(row.expires_at),
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
