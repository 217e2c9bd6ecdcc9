"""The ScaiWave schema: SQLAlchemy 2 typed declarative models.

Conventions
-----------
- Primary keys of the product's objects are strings with a type prefix, as ScaiWave writes them
  (``tnt-…``, ``ptn-…``, ``prt-…``, ``ws-…``, ``room-…``, ``evt-…``, ``med-…``); ``new_id`` makes
  time-ordered ones. Bookkeeping tables (audit log, roles, assignments, sync runs) use integers.
- Every tenant-scoped row carries ``tenant_id`` (ScaiWave isolates tenants in the service layer,
  so every query on user data filters on it).
- Times are UTC: ``UTCDateTime`` stores naive UTC and returns aware datetimes on both engines.
- JSON columns are SQLAlchemy ``JSON`` (TEXT on SQLite, LONGTEXT with a JSON_VALID check on
  MariaDB). Event content is limited to 64 KB by the product (``MAX_CONTENT_BYTES``).
- Tables use InnoDB, utf8mb4 and a binary collation on MariaDB, so string comparison is exact on
  both engines (SQLite compares bytes too).

The schema's only writer of DDL is Alembic (``store/migrations``); ``tests/store`` checks the
models and the migrations agree on SQLite and MariaDB.

No ``from __future__ import annotations`` here: with real annotation objects the declarative
build does not evaluate 170 annotation strings (7 ms of every database command). A model may
only name a class defined above it.
"""

import datetime as dt
import os
import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import false
from sqlalchemy.types import DateTime, TypeDecorator

MAX_CONTENT_BYTES = 64 * 1024

PARTICIPANT_KINDS = ("human", "ai", "helper", "sidekick", "federated", "shadow")
WORKSPACE_ROLES = ("owner", "editor", "viewer")
ROOM_TYPES = ("group", "dm", "incognito", "sidekick", "public", "bridge")
ROOM_STATES = ("open", "archived", "closed", "deleting")  # deleting: `room delete` under way
TENANT_STATUSES = ("active", "suspended", "deleting")  # deleting: `admin delete-tenant` under way
LIMIT_NAMES = ("max_participants", "max_rooms", "max_storage_bytes", "monthly_ai_tokens")

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # each 10-bit value as 2 characters
_stamp = (-1, "")  # the last millisecond seen and its 10 characters


def new_id(prefix: str) -> str:
    """``<prefix>-<26 chars>``: a ULID in lowercase Crockford base32 (48-bit milliseconds, then
    80 random bits), so ids sort by creation time. (The 26 characters are 130 bits: 2 zero
    bits and the milliseconds make the first 10, the random bits the other 16; two characters
    per table look-up, the milliseconds' part reused within a millisecond: a sync creates
    100k ids.)"""
    global _stamp
    ms = int(time.time() * 1000)
    stamp = _stamp
    if stamp[0] != ms:
        stamp = _stamp = (ms, "".join([_PAIRS[(ms >> s) & 1023] for s in (40, 30, 20, 10, 0)]))
    r, p = int.from_bytes(os.urandom(10), "big"), _PAIRS
    return (
        f"{prefix}-{stamp[1]}{p[r >> 70]}{p[(r >> 60) & 1023]}{p[(r >> 50) & 1023]}"
        f"{p[(r >> 40) & 1023]}{p[(r >> 30) & 1023]}{p[(r >> 20) & 1023]}{p[(r >> 10) & 1023]}"
        f"{p[r & 1023]}"
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive UTC (microseconds kept on
    MariaDB with DATETIME(6))."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


Id = String(64)
TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, Any: JSON}


def _tenant_fk() -> Mapped[str]:
    return mapped_column(Id, ForeignKey("tenants.id", ondelete="CASCADE"), index=False)


# -- partners and tenants -------------------------------------------------------------------


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scaikey_partner_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Tenant(Base):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'deleting')", name="status"),
        Index(None, "partner_id", "slug"),
        Index(None, "status", "slug"),
        TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scaikey_tenant_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    partner_id: Mapped[str | None] = mapped_column(Id, ForeignKey("partners.id"))
    max_participants: Mapped[int | None] = mapped_column(Integer)
    max_rooms: Mapped[int | None] = mapped_column(Integer)
    max_storage_bytes: Mapped[int | None] = mapped_column(BigInteger)
    monthly_ai_tokens: Mapped[int | None] = mapped_column(BigInteger)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ai_defaults: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]

    # Loaded with the tenant (one JOIN): ``access.Actor`` checks a partner admin's scope on it.
    partner: Mapped[Partner | None] = relationship(lazy="joined")


# -- participants, workspaces, rooms ------------------------------------------------------


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "scaikey_user_id"),
        Index(None, "tenant_id", "kind", "active"),
        Index(None, "tenant_id", "email"),
        CheckConstraint(
            "kind IN ('human', 'ai', 'helper', 'sidekick', 'federated', 'shadow')", name="kind"
        ),
        TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    kind: Mapped[str] = mapped_column(String(16), default="human")
    scaikey_user_id: Mapped[str | None] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    fqid: Mapped[str | None] = mapped_column(String(320))
    avatar_url: Mapped[str | None] = mapped_column(String(1024))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[dt.datetime | None]
    # An operator deactivated this ScaiKey-linked participant (`--force-local`): the sync keeps it
    # inactive until `admin reactivate-participant` clears the hold.
    operator_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    erased_at: Mapped[dt.datetime | None]  # `admin erase-participant` left this tombstone
    last_synced_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Workspace(Base):
    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"), TABLE_ARGS)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkspaceMember(Base):
    __tablename__ = "workspace_members"
    __table_args__ = (
        Index(None, "participant_id", "workspace_id"),
        Index(None, "tenant_id", "workspace_id", "role"),
        CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="role"),
        TABLE_ARGS,
    )

    workspace_id: Mapped[str] = mapped_column(
        Id, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = _tenant_fk()
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        Index(None, "tenant_id", "workspace_id", "state"),
        CheckConstraint(
            "type IN ('group', 'dm', 'incognito', 'sidekick', 'public', 'bridge')", name="type"
        ),
        CheckConstraint("state IN ('open', 'archived', 'closed', 'deleting')", name="state"),
        TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    workspace_id: Mapped[str] = mapped_column(Id, ForeignKey("workspaces.id"))
    type: Mapped[str] = mapped_column(String(16), default="group")
    state: Mapped[str] = mapped_column(String(16), default="open")
    name: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(String(32))
    creator_id: Mapped[str | None] = mapped_column(Id, ForeignKey("participants.id"))
    federated: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_index: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RoomMember(Base):
    __tablename__ = "room_members"
    __table_args__ = (
        Index(None, "participant_id", "room_id"),
        CheckConstraint("power_level BETWEEN 0 AND 100", name="power_level"),
        TABLE_ARGS,
    )

    room_id: Mapped[str] = mapped_column(
        Id, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = _tenant_fk()
    power_level: Mapped[int] = mapped_column(Integer, default=0)
    membership: Mapped[str] = mapped_column(String(16), default="join")
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- events and media -----------------------------------------------------------------------


class Event(Base):
    """A room event. Edits keep ``original_content``; redactions set ``redacted_at``; reactions
    are events of type ``swp.reaction`` with ``relation_type='reaction'`` and ``relates_to_id``
    (as the product models them: an event that points at another)."""

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "room_id", "stream_position"),
        UniqueConstraint("room_id", "event_uuid"),
        Index(None, "relates_to_id"),
        Index(None, "sender_id", "stream_position"),
        TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    room_id: Mapped[str] = mapped_column(Id, ForeignKey("rooms.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(Id, ForeignKey("participants.id"))
    event_type: Mapped[str] = mapped_column(String(128))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    original_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stream_position: Mapped[int] = mapped_column(BigInteger, unique=True)
    origin_ts: Mapped[int] = mapped_column(BigInteger)  # milliseconds since the epoch
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None]
    redacted_at: Mapped[dt.datetime | None]
    event_uuid: Mapped[str | None] = mapped_column(String(64))
    relation_type: Mapped[str | None] = mapped_column(String(32))
    relates_to_id: Mapped[str | None] = mapped_column(Id)
    do_not_index: Mapped[bool] = mapped_column(Boolean, default=False)


class Media(Base):
    """One uploaded file: its bytes live in the media store under (tenant, sha256), stored once
    per tenant however many rows point at them."""

    __tablename__ = "media"
    __table_args__ = (
        Index(None, "tenant_id", "sha256"),
        Index(None, "room_id", "event_id"),
        Index(None, "tenant_id", "uploader_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    storage_key: Mapped[str] = mapped_column(String(512))
    room_id: Mapped[str | None] = mapped_column(Id, ForeignKey("rooms.id", ondelete="SET NULL"))
    event_id: Mapped[str | None] = mapped_column(Id)
    uploader_id: Mapped[str | None] = mapped_column(Id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StreamCounter(Base):
    """One row: the last stream position handed out (``store.next_stream_positions``)."""

    __tablename__ = "stream_counter"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AiTokenUsage(Base):
    __tablename__ = "ai_token_usage"
    __table_args__ = (TABLE_ARGS,)

    tenant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True, default="")
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)


# -- roles and permissions ------------------------------------------------------------------


class Role(Base):
    """Built-in roles have ``tenant_id`` NULL and ``builtin`` true; custom roles belong to one
    tenant. ``level`` says where a role may be assigned: ``tenant`` or ``workspace``."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), Index(None, "name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(Id, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[str] = mapped_column(String(16), default="tenant")
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RolePermission(Base):
    __tablename__ = "role_permissions"
    __table_args__ = (Index(None, "permission"), TABLE_ARGS)

    role_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class RoleOverride(Base):
    """One tenant's override of one permission of a built-in role: ``granted`` true adds it to
    the role in that tenant, false takes it away; no row: the global set (``role_permissions``)
    applies. Written by ``scaiwave role permissions add|remove|reset <built-in> --tenant T``;
    read by ``permissions.check`` through the primary key (tenant, role, permission)."""

    __tablename__ = "role_overrides"
    __table_args__ = (Index(None, "role_id"), TABLE_ARGS)

    tenant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)


class RoleAssignment(Base):
    """A participant holds a role at a scope: the tenant (``workspace_id`` NULL) or one workspace.
    ``scope_key`` is ``workspace_id`` or ``''`` so one unique constraint covers both scopes (SQL
    never treats NULLs as equal)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("participant_id", "role_id", "scope_key"),
        Index(None, "tenant_id", "role_id"),
        Index(None, "workspace_id"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    participant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("participants.id", ondelete="CASCADE")
    )
    role_id: Mapped[int] = mapped_column(Integer, ForeignKey("roles.id", ondelete="CASCADE"))
    workspace_id: Mapped[str | None] = mapped_column(
        Id, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    scope_key: Mapped[str] = mapped_column(Id, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


# -- federation -----------------------------------------------------------------------------


class FederationKey(Base):
    """The server's Ed25519 signing keys. ``active_slot`` is 1 on the active key and NULL on every
    other: a unique constraint, so two concurrent rotations cannot both leave an active key.
    ``private_key`` is the raw 32-byte seed, Fernet-encrypted when ``encrypted`` is true."""

    __tablename__ = "federation_keys"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # ed25519:<short id>
    public_key: Mapped[str] = mapped_column(String(128))  # unpadded base64
    private_key: Mapped[str] = mapped_column(Text)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    active_slot: Mapped[int | None] = mapped_column(Integer, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


# -- ScaiKey registration and sync ------------------------------------------------------------


class ScaikeyGroup(Base):
    __tablename__ = "scaikey_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "scaikey_group_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant_fk()
    scaikey_group_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_synced_at: Mapped[dt.datetime | None]


class ScaikeyGroupMember(Base):
    __tablename__ = "scaikey_group_members"
    __table_args__ = (Index(None, "participant_id"), TABLE_ARGS)

    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("scaikey_groups.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        Id, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = _tenant_fk()


class ScaikeyRegistration(Base):
    """This server's registration with ScaiKey (the status token itself lives in a 0600 file)."""

    __tablename__ = "scaikey_registrations"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(128), unique=True)
    scaikey_url: Mapped[str] = mapped_column(String(1024))
    server_url: Mapped[str] = mapped_column(String(1024))
    contact_email: Mapped[str] = mapped_column(String(320))
    scope: Mapped[str] = mapped_column(String(16))
    scope_ref: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    client_id: Mapped[str | None] = mapped_column(String(256))
    issuer: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index(None, "started_at"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    trigger: Mapped[str] = mapped_column(String(16), default="cli")  # cli | cron
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|failed
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class SyncLock(Base):
    """At most one reconcile at a time across CLI runs and the cron: a row per lock name."""

    __tablename__ = "sync_locks"
    __table_args__ = (TABLE_ARGS,)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


# -- audit ------------------------------------------------------------------------------------


class AuditEntry(Base):
    """Who did what to which object, written in the same transaction as the change
    (``scaiwave_cli.audit.record``)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "tenant_id", "at"),
        Index(None, "action", "at"),
        Index(None, "at"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16), default="local")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[str | None] = mapped_column(Id)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
