"""docs/commands.md is generated from every installed command's --help; it must be current."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "commands.md"
SCRIPT = REPO / "scripts" / "gen_command_docs.py"


def _generate(tmp_path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env.pop("PYTHONPATH", None)  # the sample plugins are not part of the reference
    env["COLUMNS"] = "57"  # the generator fixes its own width
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_command_reference_is_current(tmp_path):
    generated = _generate(tmp_path)
    committed = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    if generated != committed:
        diff = difflib.unified_diff(
            committed.splitlines(),
            generated.splitlines(),
            "docs/commands.md",
            "generated",
            n=1,
            lineterm="",
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(f"docs/commands.md is stale; run: make docs\n{shown}")


def test_reference_covers_every_command_and_notes_aliases(tmp_path):
    text = _generate(tmp_path)
    for heading in ("## scaiwave\n", "## scaiwave db upgrade\n", "## scaiwave plugins\n"):
        assert heading in text
    assert "Usage: scaiwave db upgrade [OPTIONS]" in text
    if "## scaiwave sync register\n" in text:
        assert "- `scaiwave register`: alias of [scaiwave sync register]" in text
        assert "Also available as `scaiwave register`." in text
        assert "## scaiwave register\n" not in text
    # A fixed width: no help line is wider than 100 columns minus Click's margin.
    blocks = text.split("```text\n")[1:]
    assert blocks and all(
        len(line) <= 98 for block in blocks for line in block.split("```")[0].splitlines()
    )
