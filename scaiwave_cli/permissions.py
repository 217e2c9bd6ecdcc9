"""May participant X do permission Y here? The permission catalog, the built-in roles, and the
check that room import, ``admin show-participant`` and ``scaiwave role check`` all use.

Exposed to plugins as ``scaiwave_cli.api.permissions``::

    decision = api.permissions.check(
        session, tenant_id=t.id, participant_id=p.id, permission="create_note",
        workspace_id=ws.id,
    )
    if not decision.allowed:
        raise api.PermissionDenied(decision.reason, code=errors.SW_MY_PLUGIN_FORBIDDEN)
    decision.chain  # [{"role": "editor", "scope": "workspace", "grants": True, …}, …]

The model
---------
- A permission is a stable string from ``CATALOG`` (dotted, or ``create_note`` as the product
  names it). Unknown strings raise ``UnknownPermission`` (exit 1) with close matches.
- A role is a named set of permissions. Built-in roles (``BUILTIN_ROLES``) are global rows
  (``tenant_id`` NULL, ``builtin`` true), shipped with ``SHIPPED_PERMISSIONS``; custom roles
  belong to one tenant. A role's ``level`` says where it may be assigned: ``tenant`` (at tenant
  scope only) or ``workspace`` (in one workspace only). Built-in owner / editor / viewer are the
  workspace level built-ins; the others are tenant level.
- The migration does not seed the built-in rows: ``ensure_builtin_roles`` creates the missing
  ones, idempotently, inside the caller's transaction (``scaiwave role …`` calls it first thing).
  Until then ``check`` evaluates ``workspace_members`` rows with the shipped sets.
- A built-in role's permissions can be overridden per tenant: a ``role_overrides`` row
  (tenant, role, permission, granted) adds (granted true) or takes away (false) one permission
  of that built-in in that tenant only; without a row the global set applies. ``check`` honours
  it and marks the link it decided (``tenant_override`` true in the chain).
- A participant holds a role at a scope:
  * tenant scope: a ``role_assignments`` row with no workspace. It applies to the tenant itself
    and to every workspace of the tenant;
  * workspace scope: a ``role_assignments`` row naming a workspace, or a ``workspace_members``
    row (owner / editor / viewer: the rows the room plugin reads). It applies to that workspace.
- ``check`` allows when at least one role held at an applicable scope grants the permission.
  A deactivated participant, or one outside the tenant, is denied whatever it holds.

Cost
----
``check`` runs exactly two SQL statements (the participant, then every role the participant
holds at the applicable scopes with a flag saying whether it grants the permission, and the
tenant's override of that flag), whatever
the number of participants, roles or assignments; both read only the participant's own rows
through unique indexes (``_statements`` says how the plan is kept that way on SQLite too).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from scaiwave_cli.errors import SW_PERMISSION_UNKNOWN, DomainError

# -- the catalog -----------------------------------------------------------------------------

CATALOG: dict[str, str] = {
    # content of a workspace
    "workspace.read": "see a workspace, its rooms and notes",
    "create_note": "create a room or a note in a workspace (also needed to import a room bundle)",
    "room.invite": "invite participants into a room of the workspace",
    # room moderation (the product's power levels: kick/ban >= 50, close >= 100)
    "room.kick": "remove a member from a room (power level >= 50)",
    "room.ban": "ban a participant from a room (power level >= 50)",
    "room.redact_any": "redact other members' events (power level >= 50)",
    "room.close": "close a room for good (creator or power level 100)",
    "room.archive": "archive or restore a room",
    "room.move": "move a room to another workspace",
    "room.federate": "federate a room with a peer server",
    # workspace administration
    "workspace.create": "create a shared workspace in the tenant",
    "workspace.update": "rename a workspace or change its description",
    "workspace.manage_members": "add, remove and change the role of workspace members",
    "workspace.delete": "delete (archive) a workspace",
    # tenant administration
    "tenant.manage": "change the tenant's settings, limits and features",
    "tenant.manage_roles": "create, change and assign roles in the tenant",
    "tenant.manage_participants": "add, deactivate and edit participants of the tenant",
    "tenant.view_audit": "read the tenant's audit log",
    "tenant.ai_config": "change the tenant's AI models and defaults",
    "tenant.federation": "change the tenant's federation policy and peers",
    # partner and platform administration
    "partner.manage_tenants": "create and manage the tenants of a partner",
    "platform.manage": "manage partners, federation signing keys and the whole server",
}

PERMISSIONS: tuple[str, ...] = tuple(CATALOG)

# -- built-in roles --------------------------------------------------------------------------

TENANT_LEVEL = "tenant"  # assigned at tenant scope: applies to the tenant and every workspace
WORKSPACE_LEVEL = "workspace"  # assigned in one workspace (owner / editor / viewer, or custom)
LEVELS = (TENANT_LEVEL, WORKSPACE_LEVEL)

_ROOM_MODERATION = (
    "room.invite",
    "room.kick",
    "room.ban",
    "room.redact_any",
    "room.close",
    "room.archive",
    "room.move",
    "room.federate",
)
_WORKSPACE_ADMIN = (
    "workspace.read",
    "workspace.create",
    "workspace.update",
    "workspace.manage_members",
    "workspace.delete",
)
_TENANT_ADMIN = (
    "tenant.manage",
    "tenant.manage_roles",
    "tenant.manage_participants",
    "tenant.view_audit",
    "tenant.ai_config",
    "tenant.federation",
)

SHIPPED_PERMISSIONS: dict[str, frozenset[str]] = {
    "platform_admin": frozenset(PERMISSIONS),
    "partner_admin": frozenset(
        _TENANT_ADMIN + _WORKSPACE_ADMIN + _ROOM_MODERATION + ("partner.manage_tenants",)
    ),
    "tenant_admin": frozenset(_TENANT_ADMIN + _WORKSPACE_ADMIN + _ROOM_MODERATION),
    "member": frozenset({"workspace.create"}),
    "owner": frozenset(
        ("workspace.read", "create_note", "workspace.update", "workspace.manage_members")
        + ("workspace.delete",)
        + _ROOM_MODERATION
    ),
    "editor": frozenset({"workspace.read", "create_note", "room.invite"}),
    "viewer": frozenset({"workspace.read"}),
}

BUILTIN_ROLES: dict[str, dict] = {
    "platform_admin": {"level": TENANT_LEVEL, "description": "every permission"},
    "partner_admin": {"level": TENANT_LEVEL, "description": "administers a partner's tenants"},
    "tenant_admin": {"level": TENANT_LEVEL, "description": "administers one tenant"},
    "member": {"level": TENANT_LEVEL, "description": "an ordinary participant of the tenant"},
    "owner": {"level": WORKSPACE_LEVEL, "description": "workspace owner"},
    "editor": {"level": WORKSPACE_LEVEL, "description": "workspace editor: may create rooms"},
    "viewer": {"level": WORKSPACE_LEVEL, "description": "workspace viewer: read only"},
}

WORKSPACE_MEMBER_ROLES = ("owner", "editor", "viewer")


def is_builtin(name: str) -> bool:
    return name in BUILTIN_ROLES


def role_level(name: str) -> str | None:
    """Where the built-in role ``name`` may be assigned (``tenant`` or ``workspace``); None for
    a name that is not a built-in (a custom role's level is its row's ``level``)."""
    spec = BUILTIN_ROLES.get(name)
    return spec["level"] if spec else None


# -- errors ----------------------------------------------------------------------------------


class UnknownPermission(DomainError):
    """A permission string that is not in the catalog (exit 1, close matches in the hint)."""

    code = SW_PERMISSION_UNKNOWN

    def __init__(self, names):
        names = [names] if isinstance(names, str) else list(names)
        matches = {n: close_matches(n) for n in names}
        parts = []
        for name, near in matches.items():
            parts.append(f"{name!r}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
        super().__init__(
            "unknown permission " + "; ".join(parts),
            code=self.code,
            hint="`scaiwave role catalog` lists every permission",
            details={"unknown": names, "close_matches": matches},
        )


def close_matches(name: str, n: int = 3) -> list[str]:
    return difflib.get_close_matches(name, PERMISSIONS, n=n, cutoff=0.5)


def validate(permissions) -> list[str]:
    """The permissions in catalog order, deduplicated; ``UnknownPermission`` for any other."""
    given = [permissions] if isinstance(permissions, str) else list(permissions)
    unknown = [p for p in given if p not in CATALOG]
    if unknown:
        raise UnknownPermission(unknown)
    wanted = set(given)
    return [p for p in PERMISSIONS if p in wanted]


# -- the decision ----------------------------------------------------------------------------


@dataclass
class Decision:
    """``allowed``; ``chain``: every role the participant holds at an applicable scope, each with
    ``grants`` (does it carry the permission) and ``tenant_override`` (the tenant's override of a
    built-in decided ``grants``); ``reason``: one human sentence."""

    allowed: bool
    permission: str
    chain: list[dict] = field(default_factory=list)
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "permission": self.permission,
            "reason": self.reason,
            "chain": self.chain,
        }


def decide(permission: str, held: list[dict], *, workspace_id=None, blocked: str | None = None):
    """The pure part of ``check``: ``held`` rows (role, scope, workspace_id, grants, source …)
    already restricted to applicable scopes. Granting rows come first in the chain."""
    held = sorted(held, key=_chain_order)
    granting = [h for h in held if h["grants"]]
    where = "the tenant" if workspace_id is None else f"workspace {workspace_id}"
    if blocked:
        return Decision(False, permission, held, blocked)
    if granting:
        first = granting[0]
        at = "tenant scope" if first["scope"] == "tenant" else f"workspace {first['workspace_id']}"
        reason = f"granted by role {first['role']!r} held at {at}"
        if first.get("tenant_override"):
            reason += " (overridden in this tenant)"
        return Decision(True, permission, held, reason)
    if held:
        names = ", ".join(sorted({h["role"] for h in held}))
        reason = f"none of the roles held in {where} ({names}) grants {permission!r}"
        overridden = sorted({h["role"] for h in held if h.get("tenant_override")})
        if overridden:
            reason += f" ({', '.join(overridden)} overridden in this tenant)"
    else:
        reason = f"the participant holds no role in {where}"
    return Decision(False, permission, held, reason)


def _chain_order(h: dict):
    return (not h["grants"], h["scope"] != "tenant", h["role"], str(h.get("workspace_id") or ""))


# -- the check -------------------------------------------------------------------------------


def check(session, *, tenant_id, participant_id, permission, workspace_id=None) -> Decision:
    """May ``participant_id`` do ``permission`` in the tenant (or in ``workspace_id`` of it)?

    Ids are the store's primary keys. Two SQL statements, whatever the data size.
    """
    if permission not in CATALOG:
        raise UnknownPermission(permission)
    participant = (
        session.connection()
        .execute(_statements()["participant"], {"participant_id": participant_id})
        .first()
    )
    blocked = None
    if participant is None or participant.tenant_id != tenant_id:
        blocked = f"participant {participant_id} is not in this tenant"
    elif not participant.active:
        blocked = f"participant {participant_id} is deactivated"
    held = (
        [] if blocked else held_roles(session, tenant_id, participant_id, permission, workspace_id)
    )
    return decide(permission, held, workspace_id=workspace_id, blocked=blocked)


def held_roles(session, tenant_id, participant_id, permission, workspace_id=None) -> list[dict]:
    """Every role ``participant_id`` holds at a scope that applies to (tenant, workspace), with
    ``grants`` telling whether it carries ``permission`` in this tenant (the tenant's override
    first, else the role's set). One statement (see ``_statements``)."""
    params = {"participant_id": participant_id, "permission": permission, "tenant_id": tenant_id}
    if workspace_id is None:
        stmt = _statements()["held_in_tenant"]
    else:
        stmt = _statements()["held_in_workspace"]
        params["workspace_id"] = workspace_id
    held = []
    for row in session.connection().execute(stmt, params):
        if row.tenant_id != tenant_id:
            continue  # a row of another tenant (inconsistent data) never counts
        overridden = row.override is not None
        if overridden:
            grants = bool(row.override)  # the tenant's override of a built-in wins
        elif row.source == "workspace_member" and row.role_id is None:
            # built-in role rows not seeded yet: fall back to the shipped set
            grants = permission in SHIPPED_PERMISSIONS.get(row.role, frozenset())
        else:
            grants = bool(row.granted)
        held.append(
            {
                "role": row.role,
                "scope": "tenant" if row.workspace_id is None else "workspace",
                "workspace_id": row.workspace_id,
                "source": row.source,
                "builtin": bool(row.builtin),
                "grants": grants,
                "tenant_override": overridden,
            }
        )
    return held


_STATEMENTS: dict = {}


def _statements() -> dict:
    """The check's statements, built once with bind parameters (building SQLAlchemy expressions
    costs more than running them on SQLite).

    ``held_*`` is one UNION ALL: the participant's ``role_assignments`` at tenant scope (and in
    the workspace), then its ``workspace_members`` row there, each with its role and whether the
    role carries ``:permission``. Plan: ``role_assignments`` is read through its unique
    ``(participant_id, role_id, scope_key)`` index only (the participant's few rows, whatever
    the tenant's size: ``tenant_id`` is compared in Python, not in SQL, so no planner prefers
    the ``(tenant_id, role_id)`` index and walks the whole tenant), ``workspace_members`` by its
    primary key, and both are the left side of LEFT JOINs, which SQLite never reorders. The
    tenant's override (``role_overrides``) is one more LEFT JOIN, on its whole primary key
    (``:tenant_id``, the role, ``:permission``): at most one row per role held.
    """
    if _STATEMENTS:
        return _STATEMENTS
    from sqlalchemy import and_, bindparam, case, literal, select, union_all

    from scaiwave_cli.store import models as m

    ra, r, rp, wm, p = m.RoleAssignment, m.Role, m.RolePermission, m.WorkspaceMember, m.Participant
    ro = m.RoleOverride
    participant_id, permission = bindparam("participant_id"), bindparam("permission")
    tenant_id = bindparam("tenant_id")

    def override_of(role_id):
        return and_(ro.tenant_id == tenant_id, ro.role_id == role_id, ro.permission == permission)

    def from_assignments(scopes):
        return (
            select(
                literal("role_assignment").label("source"),
                ra.tenant_id.label("tenant_id"),
                r.name.label("role"),
                r.id.label("role_id"),
                r.builtin.label("builtin"),
                ra.workspace_id.label("workspace_id"),
                case((rp.role_id.is_not(None), 1), else_=0).label("granted"),
                ro.granted.label("override"),
            )
            .select_from(ra)
            .outerjoin(r, r.id == ra.role_id)
            .outerjoin(rp, and_(rp.role_id == ra.role_id, rp.permission == permission))
            .outerjoin(ro, override_of(ra.role_id))
            .where(ra.participant_id == participant_id, ra.scope_key.in_(scopes))
        )

    from_members = (
        select(
            literal("workspace_member").label("source"),
            wm.tenant_id.label("tenant_id"),
            wm.role.label("role"),
            r.id.label("role_id"),
            literal(True).label("builtin"),
            wm.workspace_id.label("workspace_id"),
            case((rp.role_id.is_not(None), 1), else_=0).label("granted"),
            ro.granted.label("override"),
        )
        .select_from(wm)
        .outerjoin(r, and_(r.tenant_id.is_(None), r.name == wm.role, r.builtin.is_(True)))
        .outerjoin(rp, and_(rp.role_id == r.id, rp.permission == permission))
        .outerjoin(ro, override_of(r.id))
        .where(wm.workspace_id == bindparam("workspace_id"), wm.participant_id == participant_id)
    )
    _STATEMENTS.update(
        participant=select(p.id, p.tenant_id, p.active).where(p.id == participant_id),
        held_in_tenant=from_assignments([""]),
        held_in_workspace=union_all(
            from_assignments([literal(""), bindparam("workspace_id")]), from_members
        ),
    )
    return _STATEMENTS


# -- built-in rows ---------------------------------------------------------------------------


def missing_builtin_roles(session) -> set[str]:
    """Names of the built-in roles that have no row yet (one SELECT)."""
    from sqlalchemy import select

    from scaiwave_cli.store import models as m

    stmt = select(m.Role.name).where(m.Role.tenant_id.is_(None), m.Role.builtin.is_(True))
    return set(BUILTIN_ROLES) - set(session.scalars(stmt))


def ensure_builtin_roles(session) -> int:
    """Create the built-in roles (and their shipped permissions) that are missing. Idempotent;
    never touches an existing built-in's permissions (``reset`` in ``scaiwave role`` does).
    Returns the number of roles created. Runs in the caller's transaction.

    Once seeded this is one SELECT. Two first uses at the same time cannot both insert: on
    MariaDB the slow path first locks the ``alembic_version`` row (``SELECT … FOR UPDATE``), then
    re-reads the built-ins with a locking read (which sees rows committed meanwhile); SQLite
    write transactions start with ``BEGIN IMMEDIATE`` and are serialized anyway.
    """
    from sqlalchemy import select, text

    from scaiwave_cli.store import models as m

    missing = missing_builtin_roles(session)
    if not missing:
        return 0
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT version_num FROM alembic_version FOR UPDATE"))
        builtins = select(m.Role.name).where(m.Role.tenant_id.is_(None), m.Role.builtin.is_(True))
        missing = set(BUILTIN_ROLES) - set(session.scalars(builtins.with_for_update()))
    created = 0
    for name, spec in BUILTIN_ROLES.items():
        if name not in missing:
            continue
        role = m.Role(
            name=name,
            tenant_id=None,
            builtin=True,
            level=spec["level"],
            description=spec["description"],
        )
        session.add(role)
        session.flush()
        session.add_all(
            m.RolePermission(role_id=role.id, permission=perm)
            for perm in sorted(SHIPPED_PERMISSIONS[name])
        )
        created += 1
    if created:
        session.flush()
    return created
