"""`scaiwave admin` commands: delete-tenant (issue 16; being written)."""

from __future__ import annotations

COMMANDS: list = []
