"""Confirmation before anything irreversible: a plan, then ``--yes``, a prompt, or a refusal.

Every destructive command takes ``@yes_option`` and calls ``confirm(plan, yes=yes)`` after it has
worked out (and, with ``--dry-run``, printed) what it would do::

    @click.command()
    @api.yes_option
    @api.pass_app
    def delete(app, yes):
        plan = "delete role 'importer' in tenant acme (3 assignments)"
        api.confirm(plan, yes=yes)
        ...

- ``--yes``: go on (scripts, CI).
- A terminal on stdin and stderr: the plan, then ``Proceed? [y/N]``; anything but yes ends with
  ``SW_ABORTED`` (exit 1) and nothing changed.
- No terminal and no ``--yes``: ``SW_CONFIRMATION_REQUIRED`` (exit 2), naming ``--yes``: a script
  never hangs on a prompt nobody will answer, and never destroys by default.
"""

from __future__ import annotations

import click

from scaiwave_cli.errors import (
    SW_ABORTED,
    SW_CONFIRMATION_REQUIRED,
    ConfigError,
    DomainError,
    redact,
)
from scaiwave_cli.terminal import stderr_is_terminal, stdin_is_terminal

yes_option = click.option(
    "--yes",
    "-y",
    "yes",
    is_flag=True,
    help="Do it without asking (required when not on a terminal).",
)


def confirm(plan: str, *, yes: bool, prompt: str = "Proceed?") -> None:
    """Show ``plan`` on stderr; return when confirmed, raise when not (nothing done yet)."""
    click.echo(redact(plan), err=True)
    if yes:
        return
    if not (stdin_is_terminal() and stderr_is_terminal()):
        raise ConfigError(
            "this change needs a confirmation and there is no terminal to ask",
            code=SW_CONFIRMATION_REQUIRED,
            hint="check the plan (--dry-run where offered), then re-run with --yes",
        )
    if not click.confirm(prompt, default=False, err=True):
        raise DomainError("aborted: nothing was changed", code=SW_ABORTED)
