"""The architecture as tests: import-linter's contracts (`.importlinter`: plugins independent,
plugins use `scaiwave_cli.api` only, layers inside each plugin, the core one-way) and the size
rule (no module over 500 lines but the schema and generated migrations)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 500
EXEMPT = {"scaiwave_cli/store/models.py"}


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [exe, "--config", str(REPO / ".importlinter")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_over_500_lines():
    roots = [REPO / "scaiwave_cli", *(REPO / "plugins").glob("*/scaiwave_*")]
    big = []
    for root in roots:
        for path in root.rglob("*.py"):
            rel = path.relative_to(REPO).as_posix()
            if "migrations/versions" in rel or rel in EXEMPT:
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                big.append(f"{rel}: {lines}")
    assert not big, "split along the module's own sections:\n" + "\n".join(big)
