"""Is this stream a terminal? One answer for every command (prompts, progress bars, refusing to
write a binary bundle to a screen). A closed or replaced stream (CliRunner, a pipe) is "not a
terminal", never an error."""

from __future__ import annotations

import sys


def is_terminal(stream) -> bool:
    """True when ``stream`` is an open terminal; False for pipes, files, closed or fake streams."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def stdin_is_terminal() -> bool:
    return is_terminal(sys.stdin)


def stdout_is_terminal() -> bool:
    return is_terminal(sys.stdout)


def stderr_is_terminal() -> bool:
    return is_terminal(sys.stderr)
