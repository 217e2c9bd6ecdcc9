"""A third party's view: the sample plugin, copied out of this repository and installed with pip,
runs its own tests with `scaiwave_cli.testing`'s fixtures (a scoped admin token, rows in a store)
with no setting at all, on SQLite alone: no MariaDB server is started or needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HELLO = Path(__file__).resolve().parents[1] / "sample_plugins" / "hello"


def test_sample_plugin_tests_pass_outside_the_repo_with_the_core_fixtures(tmp_path):
    source = tmp_path / "scaiwave-hello"
    shutil.copytree(HELLO, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(source / "tests")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "3 passed" in out
    assert "[sqlite]" in out and "mariadb" not in out.lower()
