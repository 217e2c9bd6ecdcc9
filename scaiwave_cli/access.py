"""Who is acting, and over which tenants.

- No ``SCAIWAVE_ADMIN_TOKEN``: local operator mode. The actor is the OS user
  (``local:<user>``) with platform scope, as on a server shell.
- With a token: a ScaiKey JWT, verified against the issuer's JWKS; its ``role`` claim decides
  the scope (``super_admin``/platform: everything; ``partner_admin``: the tenants of the partner
  whose ScaiKey partner id is its ``partner_id``; ``tenant_admin``: its tenant).

Who resolves it: ``tokens.resolve_actor`` (tokens imports this module, never the reverse).
Commands ask ``app.actor`` (``AppContext.actor``) and call ``actor.require_tenant(tenant)``
before reading or changing a tenant's data; out of scope raises ``PermissionDenied`` (exit 3,
``SW_AUTH_INSUFFICIENT_PERMISSION``).
"""

from __future__ import annotations

import getpass

import attrs

from scaiwave_cli.errors import PermissionDenied

PLATFORM = "platform"
PARTNER = "partner"
TENANT = "tenant"


@attrs.frozen
class Actor:
    """The acting identity. ``name`` goes into audit rows."""

    name: str
    kind: str  # "local" | "token"
    scope: str = PLATFORM  # platform | partner | tenant
    partner_id: str | None = None  # ScaiKey partner id (prt_…) for partner admins
    tenant_id: str | None = None  # ScaiKey tenant id (tnt_…) for tenant admins
    roles: tuple[str, ...] = ()

    @property
    def is_platform(self) -> bool:
        return self.scope == PLATFORM

    def can_see_tenant(self, tenant) -> bool:
        """``tenant``: a store Tenant row (needs ``scaikey_tenant_id`` and ``partner``)."""
        if self.scope == PLATFORM:
            return True
        if self.scope == TENANT:
            return tenant.scaikey_tenant_id == self.tenant_id
        key = partner_key(getattr(tenant, "partner", None))
        return key is not None and key == self.partner_id

    def require_tenant(self, tenant) -> None:
        if not self.can_see_tenant(tenant):
            raise PermissionDenied(
                f"{self.name} ({self.scope} admin) may not act on tenant {tenant.slug!r}",
                hint="use a token whose role covers this tenant",
            )

    def require_platform(self, what: str) -> None:
        if not self.is_platform:
            raise PermissionDenied(
                f"{self.name} ({self.scope} admin) may not {what}: platform admins only",
                hint="use a platform (super_admin) token or run without SCAIWAVE_ADMIN_TOKEN",
            )


def partner_key(partner) -> str | None:
    """The id a ``partner_admin`` token names ``partner`` by: its ScaiKey partner id, only.
    A partner without one is reachable by platform admins alone (never by a token whose
    ``partner_id`` happens to equal its slug)."""
    return getattr(partner, "scaikey_partner_id", None) or None


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return Actor(name=f"local:{user}", kind="local")
