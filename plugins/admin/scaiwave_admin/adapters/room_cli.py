"""The room plugin's own commands, run as child processes (`admin delete-tenant`'s backup).

Plugins never import each other (``.importlinter``); the room bundle is the room plugin's
format, so a tenant's rooms are backed up by exactly the commands an operator would run::

    python -m scaiwave_cli --output json room export --tenant T --to FILE -- ROOM
    python -m scaiwave_cli --output json room verify --from FILE

The child gets this process's environment plus the settings this run resolved (database URL,
home, media directory, admin token, ``--env-file``), so it works on the same store whatever
option or file named it. Its JSON summary is read from stdout; a failure is its JSON error on
stderr (``{"error": {"code", "message"}}``), re-raised here as ``SW_TENANT_BACKUP_FAILED``.

``REFUSED_EXPORT`` and ``export_refusal`` repeat the room plugin's rule of which rooms `room
export` refuses (it cannot be imported from here); a test keeps the two equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from scaiwave_admin import errors
from scaiwave_cli import api

# Room kinds that never leave the server: `room export` refuses them (scaiwave_room's rule).
REFUSED_EXPORT = ("sidekick", "bridge", "incognito", "federated")

_INSTALL_HINT = (
    "install the room plugin (pip install scaiwave-room) to back the rooms up, or delete "
    "without a backup: --no-backup (the rooms cannot be restored then)"
)


def export_refusal(room) -> str | None:
    """Why `room export` would refuse ``room`` (its kind, or ``deleting``), None if it would not."""
    if room.state == "deleting":
        return "deleting"
    kind = "federated" if room.federated or room.scope == "federated" else room.type
    return kind if kind in REFUSED_EXPORT else None


def child_env(settings) -> dict:
    """This environment plus what this run resolved from options and files."""
    env = dict(os.environ)
    env["SCAIWAVE_HOME"] = str(settings.home)
    env["SCAIWAVE_MEDIA_DIR"] = str(settings.media_path)
    if settings.db_url:
        env["SCAIWAVE_DB_URL"] = settings.db_url
    if settings.admin_token:
        env["SCAIWAVE_ADMIN_TOKEN"] = settings.admin_token
    env.pop("SCAIWAVE_OUTPUT", None)
    return env


class RoomCli:
    """`scaiwave room export|verify` in a child process, on this run's settings."""

    def __init__(self, settings):
        self.env = child_env(settings)
        self.argv = [sys.executable, "-m", "scaiwave_cli", "--output", "json"]
        if settings.env_file:
            self.argv += ["--env-file", str(settings.env_file)]

    def require(self) -> None:
        """``SW_ROOM_PLUGIN_MISSING`` (exit 2) unless `scaiwave room export` exists here."""
        done = subprocess.run(
            [*self.argv, "room", "export", "--help"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reason = _error_of(done.stderr).get("message") or "`scaiwave room` is not available"
            raise api.ConfigError(
                f"the backup needs the room plugin's `room export`: {reason}",
                code=errors.SW_ROOM_PLUGIN_MISSING,
                hint=_INSTALL_HINT,
            )

    def export(self, room_id: str, tenant_id: str, path) -> dict:
        """`room export` of the room into ``path`` (atomic, 0600); its summary."""
        args = ["room", "export", "--tenant", tenant_id, "--to", os.fspath(path), "--", room_id]
        return self._run(args, f"room export of {room_id}")

    def verify(self, path) -> dict:
        """`room verify` of the bundle at ``path``; its report (``valid``, ``source_room``,
        ``events``, …)."""
        return self._run(["room", "verify", "--from", os.fspath(path)], f"room verify of {path}")

    def _run(self, args: list, what: str) -> dict:
        done = subprocess.run(
            [*self.argv, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            try:
                return json.loads(done.stdout)
            except ValueError:
                pass
        error = _error_of(done.stderr)
        code = error.get("code") or f"exit {done.returncode}"
        message = error.get("message") or (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise api.DomainError(
            f"the backup failed: {what}: {code}: {message}; nothing was deleted",
            code=errors.SW_TENANT_BACKUP_FAILED,
            hint="fix the cause and run the same command again (bundles that verified are "
            "kept), or delete without a backup: --no-backup",
            details={"step": what, "cause": code},
        )


def _error_of(stderr: str) -> dict:
    """The child's JSON error (its last line that is one), or {}."""
    for line in reversed(stderr.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            return parsed["error"]
    return {}
