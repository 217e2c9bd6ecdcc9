"""Private files the sync writes: the pending registration (0600, under the app dir) and the
``.env`` that receives ScaiKey credentials on approval.

Both are written atomically with the core's ``api.atomic_write``: a temporary file in the same
directory (created 0600), flushed and fsynced, then renamed over the target, so a crash leaves
the old file or the new one, never half of either. ``update_env`` keeps every other line and
comment of the ``.env`` as it was and keeps a backup of the previous file (``.env.bak``, 0600).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from scaiwave_cli import api
from scaiwave_sync import errors

REGISTRATION_FILE = "scaikey-registration.json"
_BARE = re.compile(r"[A-Za-z0-9_./:@+,=-]*")


def write_private(path: Path, data: str) -> None:
    """Replace ``path`` with ``data`` atomically (the core's ``atomic_write``); mode 0600."""
    path = Path(path)
    api.private_dir(path.parent)  # SCAIWAVE_HOME made 0700 when this is its first file
    api.atomic_write(path, data, mode=0o600)


def env_value(value: str) -> str:
    """``value`` as python-dotenv reads it back unchanged: bare, 'single' or "escaped"."""
    if _BARE.fullmatch(value) and value:
        return value
    if not any(c in value for c in "'\\\n\r"):
        return f"'{value}'"
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def update_env(path: Path, updates: dict[str, str], *, comment: str) -> Path | None:
    """Set ``updates`` in the ``.env`` at ``path`` (created if missing): existing assignments of
    those names are replaced in place (a repeated one keeps only its first line), new names are
    appended under ``comment``. Returns the backup's path (None when there was no file)."""
    from dotenv.parser import parse_stream

    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    out: list[str] = []
    done: set[str] = set()
    for binding in parse_stream(io.StringIO(old or "")):
        original = binding.original.string
        if binding.key not in updates:
            out.append(original)
            continue
        if binding.key in done:
            # a repeated assignment: drop it (the first line now carries the value), keeping
            # its leading blank lines and comments
            lead = original[: len(original) - len(original.lstrip())]
            out.append(lead)
            continue
        lead = original[: len(original) - len(original.lstrip())]
        end = "\n" if original.endswith("\n") else ""
        out.append(f"{lead}{binding.key}={env_value(updates[binding.key])}{end}")
        done.add(binding.key)
    text = "".join(out)
    missing = [k for k in updates if k not in done]
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text += f"# {comment}\n"
        text += "".join(f"{k}={env_value(updates[k])}\n" for k in missing)
    backup = None
    if old is not None:
        backup = path.with_name(path.name + ".bak")
        write_private(backup, old)
    write_private(path, text)
    return backup


# -- the pending registration ----------------------------------------------------------------


def registration_path(home: Path) -> Path:
    return Path(home) / REGISTRATION_FILE


def read_registration(home: Path) -> dict | None:
    path = registration_path(home)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise api.ConfigError(
            f"cannot read the registration state {path}: {exc}",
            code=errors.SW_SYNC_STATE_UNREADABLE,
            hint="remove the file and register again with `scaiwave sync register --new`",
        ) from None


def write_registration(home: Path, state: dict) -> Path:
    path = registration_path(home)
    write_private(path, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return path
