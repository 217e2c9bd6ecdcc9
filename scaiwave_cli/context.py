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
            resume_collector()  # the imports are done: what exists now lives for the run
        return self._store

    @property
    def actor(self):
        """Who is acting: the admin token's subject, or the local OS user (``access.Actor``)."""
        if self._actor is None:
            if self.settings.admin_token is None:
                # the local operator (as ``tokens.resolve_actor`` decides it): a run without a
                # token does not pay for the token module (JWT, JWKS cache, bounded HTTP)
                from scaiwave_cli.access import local_actor

                self._actor = local_actor()
            else:
                from scaiwave_cli.tokens import resolve_actor

                self._actor = resolve_actor(self.settings)
        return self._actor

    @actor.setter
    def actor(self, actor) -> None:
        """Act as ``actor`` (an ``access.Actor``): a fan-out worker runs a job as the
        coordinator's actor (``api.fanout``), whatever its own token says."""
        self._actor = actor

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


# -- the garbage collector of a short run ------------------------------------------------------
# A database command imports hundreds of modules (SQLAlchemy, the models): objects alive until
# the process ends. The collector's passes over them during start-up and its last pass at exit
# find nothing and cost about 0.12 s of a 0.47 s run (bench/latency.py). ``app.main``
# (the process's entry point, never an in-process test) pauses the collector; opening the store
# (or, for a command that never does, one second of running) resumes it, with everything that
# exists then frozen (``gc.freeze``: never scanned again); ``main`` freezes again before exit.
_collector_paused = False


def pause_collector() -> None:
    """Stop automatic collection until ``resume_collector`` (a timer resumes it after 1 s)."""
    import gc
    import threading

    global _collector_paused
    if not gc.isenabled():
        return
    gc.disable()
    _collector_paused = True
    timer = threading.Timer(1.0, _resume_late)
    timer.daemon = True
    timer.start()


def resume_collector() -> None:
    """Freeze what exists (start-up's objects) and collect automatically again; a no-op unless
    ``pause_collector`` paused it."""
    import gc

    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def _resume_late() -> None:
    # from the timer thread, mid-command: collect again, but freeze nothing a command made
    import gc

    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.enable()


def _env_output():
    import os

    return os.environ.get("SCAIWAVE_OUTPUT")


pass_app = click.make_pass_decorator(AppContext, ensure=True)
