"""`scaiwave admin` commands: export-participant, verify-export (issue 16; being written)."""

from __future__ import annotations

COMMANDS: list = []
