"""What a command receives: settings, an output writer and a store, each made on first use.

A command takes it with ``@pass_app`` (``scaiwave_cli.api.pass_app``)::

    @click.command()
    @pass_app
    def hello(app):
        app.out.record({"tenant": "acme"})

Nothing here is imported by ``scaiwave --help``'s hot path beyond this module itself.
"""

from __future__ import annotations

import click


class AppContext:
    """Per-invocation state, kept in ``click.Context.obj`` by the root group."""

    def __init__(self, *, options: dict | None = None, env_file=None, debug: bool = False):
        self.options = dict(options or {})
        self.env_file = env_file
        self.debug = debug
        self._settings = None
        self._out = None
        self._store = None
        self._actor = None

    @property
    def settings(self):
        """The merged, validated ``Settings`` (raises ``ConfigError`` -> exit 2)."""
        if self._settings is None:
            from scaiwave_cli.config import load_settings

            opts = dict(self.options, debug=self.debug or None)
            self._settings = load_settings(opts, env_file=self.env_file)
        return self._settings

    def apply_global(self, name: str, value) -> None:
        """A global option given after the command (``output``, ``db_url``, ``env_file``,
        ``debug``): it replaces what the root had; settings made from the old values are
        made again on next use."""
        if name == "debug":
            self.debug = bool(value)
        elif name == "env_file":
            self.env_file = value
        else:
            self.options[name] = value
        if name == "output":
            self._out = None
            from scaiwave_cli.errors import set_json_errors

            set_json_errors(value in ("json", "jsonl"))
        if self._settings is not None:
            self.close()
            self._settings = self._actor = None

    @property
    def output_format(self) -> str:
        return self.options.get("output") or _env_output() or "table"

    @property
    def out(self):
        """The ``Output`` writer for the chosen format (data to stdout, diagnostics to stderr)."""
        if self._out is None:
            from scaiwave_cli.output import Output

            self._out = Output(self.output_format)
        return self._out

    @property
    def store(self):
        """The ScaiWave database (``scaiwave_cli.store.Store``), opened on first use."""
        if self._store is None:
            from scaiwave_cli.store import open_store

            self._store = open_store(self.settings, debug=self.debug, log=self.log)
        return self._store

    @property
    def actor(self):
        """Who is acting: the admin token's subject, or the local OS user (``access.Actor``)."""
        if self._actor is None:
            from scaiwave_cli.tokens import resolve_actor

            self._actor = resolve_actor(self.settings)
        return self._actor

    def log(self, message: str) -> None:
        """A diagnostic on stderr, shown only with ``--debug``; secrets masked."""
        if self.debug:
            from scaiwave_cli.errors import redact

            click.echo(f"debug: {redact(message)}", err=True)

    def warn(self, message: str) -> None:
        from scaiwave_cli.errors import redact

        click.echo(f"warning: {redact(message)}", err=True)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _env_output():
    import os

    return os.environ.get("SCAIWAVE_OUTPUT")


pass_app = click.make_pass_decorator(AppContext, ensure=True)
