"""`scaiwave admin` commands: deactivate-participant, reactivate-participant (issue 16; being written)."""

from __future__ import annotations

COMMANDS: list = []
