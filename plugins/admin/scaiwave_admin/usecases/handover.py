"""The hand-over guard of `deactivate-participant` and `erase-participant`: the tenant's last
active ``tenant_admin`` and a shared workspace's last active owner are refused (nothing
changed), with the `scaiwave role assign` that hands over first. The holders are read by
``adapters.participant_status`` (``lock``: their rows locked, so that two concurrent runs queue
instead of both passing the guard)."""

from __future__ import annotations

from scaiwave_admin import errors
from scaiwave_admin.adapters import participant_status as holders
from scaiwave_cli import api


def require_handover(session, tenant, p, *, lock: bool, doing: str, outcome: str = "") -> None:
    """Raise unless ``p`` may stop holding its roles; ``doing`` ("deactivating", "erasing")
    and ``outcome`` ("; nothing was erased") complete the message."""
    if holders.tenant_admins(session, tenant.id, lock=lock) == {p.id}:
        raise api.DomainError(
            f"participant {p.id!r} is the last active tenant_admin of tenant {tenant.slug!r}: "
            f"{doing} them would leave the tenant without one{outcome}",
            code=errors.SW_TENANT_NEEDS_ADMIN,
            hint=f"hand over first: scaiwave role assign OTHER tenant_admin --tenant "
            f"{tenant.slug}, then run this again",
        )
    sole = holders.sole_owned_workspaces(session, tenant.id, p.id, lock=lock)
    if sole:
        names = ", ".join(repr(s) for s in sole)
        raise api.DomainError(
            f"participant {p.id!r} is the last active owner of workspace {names} in tenant "
            f"{tenant.slug!r}: {doing} them would leave it without one{outcome}",
            code=errors.SW_WORKSPACE_NEEDS_OWNER,
            hint="hand over first: "
            + "; ".join(
                f"scaiwave role assign OTHER owner --tenant {tenant.slug} --workspace {s}"
                for s in sole
            )
            + ", then run this again",
            details={"workspaces": sole},
        )
