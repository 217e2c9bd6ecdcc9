"""Helpers for the core's tests: run ``scaiwave`` as a real process with chosen plugins visible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / ".venv" / "samples"


def sample_path(*names: str) -> str:
    """PYTHONPATH entries making the pip-installed sample plugins ``names`` visible."""
    paths = []
    for name in names:
        path = SAMPLES / name
        if not path.is_dir():
            pytest.fail(f"sample plugin {name!r} is not installed: run `make samples`")
        paths.append(str(path))
    return os.pathsep.join(paths)


class Proc:
    def __init__(self, home: Path):
        self.home = home

    def env(self, samples=(), extra=None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAIWAVE_", "SCAIKEY_"))}
        env.pop("PYTHONPATH", None)
        env["SCAIWAVE_HOME"] = str(self.home)
        if samples:
            env["PYTHONPATH"] = sample_path(*samples)
        env.update(extra or {})
        return env

    def run(self, *args, samples=(), env=None, cwd=None, input=None):
        return subprocess.run(
            [sys.executable, "-m", "scaiwave_cli", *args],
            env=self.env(samples, env),
            cwd=cwd or self.home,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def modules_after(self, *args, samples=(), env=None) -> set[str]:
        """The modules imported by running ``scaiwave ARGS`` in a fresh interpreter."""
        out = self.home / "modules.json"
        code = (
            "import json, sys\n"
            "from scaiwave_cli.app import main\n"
            "try:\n"
            f"    main({list(args)!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            f"open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env(samples, env),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.exists(), result.stderr
        return set(json.loads(out.read_text()))


@pytest.fixture
def proc(tmp_path) -> Proc:
    home = tmp_path / "home"
    home.mkdir()
    return Proc(home)
