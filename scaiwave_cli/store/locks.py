"""The store under concurrency: how long a writer waits (``SCAIWAVE_DB_BUSY_TIMEOUT``), the
first-use file lock of the embedded store, and the errors of a busy store (``SW_DB_BUSY``, exit 2)
and of a broken constraint (``SW_DB_CONFLICT``, exit 1, never the SQL). Re-exported by
``scaiwave_cli.store`` (``api.store.is_busy`` …)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from scaiwave_cli.errors import SW_DB_BUSY, SW_DB_CONFLICT, ConfigError, DomainError

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_BUSY_TIMEOUT = 30.0


def busy_timeout_of(settings) -> float:
    """Seconds a writer waits for another one's lock (``SCAIWAVE_DB_BUSY_TIMEOUT``, default 30)."""
    raw = settings.raw.get("SCAIWAVE_DB_BUSY_TIMEOUT") if settings is not None else None
    if raw in (None, ""):
        return DEFAULT_BUSY_TIMEOUT
    try:
        value = float(raw)
        if not 0 <= value <= 86400:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"invalid settings: SCAIWAVE_DB_BUSY_TIMEOUT: {raw!r} is not a number of seconds "
            "(0 to 86400)",
            hint="fix SCAIWAVE_DB_BUSY_TIMEOUT in the environment or .env",
        ) from None
    return value


@contextlib.contextmanager
def first_use_lock(path: Path):
    """An exclusive ``flock`` on ``<path>.lock`` (0600, beside the store) while held."""
    import fcntl

    from scaiwave_cli.files import private_dir

    private_dir(path.parent)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def is_busy(exc: BaseException) -> bool:
    """True when ``exc`` (a SQLAlchemy or driver error) means another writer holds the lock:
    SQLite's "database is locked"/"busy", MariaDB's lock wait timeout (1205) or deadlock (1213)."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in (1205, 1213)
    text = str(orig).lower()
    return (
        "database is locked" in text
        or "database is busy" in text
        or "database table is locked" in text
    )


def busy_error(url: str | None = None) -> ConfigError:
    """``SW_DB_BUSY`` (exit 2): another writer held the lock longer than we waited."""
    from scaiwave_cli.config import mask_url

    where = f" at {mask_url(url)}" if url else ""
    return ConfigError(
        f"the database{where} is busy: another process held its write lock longer than "
        "SCAIWAVE_DB_BUSY_TIMEOUT allows",
        code=SW_DB_BUSY,
        hint="retry when the other command is done, pass --wait where the command has it "
        "(scaiwave sync --wait), or raise SCAIWAVE_DB_BUSY_TIMEOUT",
    )


def conflict_reason(exc: BaseException) -> str:
    """The database's one-line reason for an IntegrityError (``UNIQUE constraint failed:
    tenants.slug``, ``Duplicate entry … for key 'slug'``): the constraint, never the statement
    or its parameters, and never the driver's ``(1062, "…")`` tuple."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if len(args) > 1 and isinstance(args[0], int):
        reason = str(args[1])
    else:
        reason = str(args[0]) if args else type(orig).__name__
    return reason.splitlines()[0][:300] if reason else "a constraint"


def conflict_error(exc: BaseException) -> DomainError:
    """``SW_DB_CONFLICT`` (exit 1) for an IntegrityError: the constraint the database named,
    never the statement or its parameters."""
    reason = conflict_reason(exc)
    return DomainError(
        f"the change conflicts with data already in the database ({reason}); nothing of it "
        "was written",
        code=SW_DB_CONFLICT,
        hint="another command may have written the same row meanwhile: look, then retry",
    )
