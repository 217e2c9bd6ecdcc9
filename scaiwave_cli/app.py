"""The root ``scaiwave`` group: global options, lazy command resolution, error handling.

Commands come from entry points (``discovery``); none is imported until it is invoked or its
help is asked for. ``scaiwave --help`` reads the cached table of names and one-line helps only.
"""

from __future__ import annotations

import sys

import click

from scaiwave_cli import __version__
from scaiwave_cli.discovery import Table, broken_command, load

_OUTPUTS = ("table", "json", "jsonl", "csv")


class LazyGroup(click.Group):
    """A Click group whose commands are entry points, loaded on demand."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._table: Table | None = None
        self._loaded: dict[str, click.Command] = {}
        self._timings: dict[str, float] = {}
        self._warned = False

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = Table()
        if not self._warned:
            self._warned = True
            for message in self._table.conflict_warnings():
                click.echo(f"warning: {message}", err=True)
        return self._table

    def reset(self) -> None:
        """Forget the table and loaded commands (tests register plugins in-process)."""
        self._table = None
        self._loaded.clear()
        self._timings.clear()
        self._warned = False

    # -- Click's extension points -------------------------------------------------------------
    def make_context(self, info_name, args, parent=None, **extra):
        # Click measures the terminal with shutil (which imports bz2, lzma, fnmatch): 2 ms of a
        # 60 ms start-up. os.get_terminal_size answers the same question for free.
        extra.setdefault("terminal_width", _terminal_width())
        # Usage errors are JSON when --output json|jsonl is anywhere in argv (or in
        # SCAIWAVE_OUTPUT): decided before parsing, since parsing is what fails.
        json_usage = parent is None and _json_requested(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _usage_error(exc, json_usage) from None
        ctx.meta[_JSON_USAGE] = json_usage
        return ctx

    def list_commands(self, ctx):
        return self.table.names()

    def resolve_command(self, ctx, args):
        """Click's, plus what the lazy table knows: Click suggests close names from
        ``self.commands``, which stays empty here, so the root adds them itself (from the cached
        names: nothing is imported), and says when ``SCAIWAVE_LOAD_PLUGINS`` hid a command."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = click.utils.make_str(args[0])
            if name.startswith("-") or self.get_command(ctx, name) is not None:
                raise
            if name in self.table.disabled:
                exc.message += f" It is installed but not loaded: {self.table.describe_filter()}."
            elif "Did you mean" not in exc.format_message():
                from difflib import get_close_matches

                matches = get_close_matches(name, self.list_commands(ctx))
                if len(matches) == 1:
                    exc.message += f" Did you mean {matches[0]!r}?"
                elif matches:
                    listed = ", ".join(repr(m) for m in sorted(matches))
                    exc.message += f" (Did you mean one of: {listed}?)"
            raise

    def get_command(self, ctx, name):
        if name in self._loaded:
            return self._loaded[name]
        spec = self.table.commands.get(name)
        if spec is None:
            return None
        try:
            command, seconds = load(spec)
        except Exception as exc:  # any import-time failure becomes a broken command
            command, seconds = broken_command(name, spec, exc), 0.0
        else:
            attach_global_options(command)
        self._loaded[name] = command
        self._timings[name] = seconds
        return command

    def status(self, ctx, name) -> tuple[str, str]:
        """(status, reason) of a command after loading it: ok / broken / incompatible / conflict."""
        command = self.get_command(ctx, name)
        status = getattr(command, "status", "ok")
        reason = getattr(command, "reason", "")
        if status == "ok" and name in self.table.conflicts:
            others = ", ".join(s["dist"] for s in self.table.conflicts[name][1:])
            return "conflict", f"also claimed by {others}"
        return status, reason

    def timing(self, name) -> float:
        return self._timings.get(name, 0.0)

    def summary(self, ctx, name) -> dict:
        """{"help": ..., "alias_of": ...} from the cache, loading the command only on a miss."""
        table = self.table
        cached = table.summary(name)
        if cached is not None:
            return cached
        command = self.get_command(ctx, name)
        info = {"help": command.get_short_help_str(limit=70), "alias_of": None}
        spec = table.commands[name]
        ok = getattr(command, "status", "ok") == "ok"
        if spec["alias"] and ok:  # a broken alias is no sub-command: walking would import all
            info["alias_of"] = self._alias_target(ctx, command)
        if ok:
            table.remember(name, info)
        return info

    def _alias_target(self, ctx, command) -> str | None:
        """The path of the sub-command that ``command`` is the same object as."""

        def walk(group, path):
            for sub_name, sub in getattr(group, "commands", {}).items():
                if sub is command:
                    return f"{path} {sub_name}"
                found = walk(sub, f"{path} {sub_name}")
                if found:
                    return found
            return None

        for name, spec in self.table.commands.items():
            if spec["alias"]:
                continue
            found = walk(self.get_command(ctx, name), name)
            if found:
                return found
        return None

    def get_help(self, ctx):
        """Click's help text, kept in the cache beside the summaries: rendering it imports
        textwrap and wraps every line, 3 ms of a 50 ms start-up. It is reused only while the
        width, the language, this module and Click, and every command's cached summary (itself
        checked against its module's mtime) are what they were when it was rendered."""
        key = self._help_key(ctx)
        cached = self.table.data.get("help")
        if key is not None and cached and cached[0] == key:
            return cached[1]
        text = super().get_help(ctx)
        key = self._help_key(ctx)  # rendering may have filled in summaries
        if key is not None:
            self.table.data["help"] = [key, text]
            self.table.save()
        return text

    def _help_key(self, ctx) -> list | None:
        table = self.table
        entries = []
        for name in self.list_commands(ctx):
            info = table.summary(name)
            if info is None:  # not cached (in-process, broken or edited): render it afresh
                return None
            alias = table.commands[name]["alias"]
            entries.append([name, alias, info["help"], info.get("alias_of")])
        import os

        try:
            code = [os.stat(__file__).st_mtime_ns, os.stat(click.core.__file__).st_mtime_ns]
        except OSError:
            return None
        language = [os.environ.get(v) for v in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")]
        width = [ctx.terminal_width, ctx.max_content_width, ctx.info_name]
        return [width, language, code, entries]

    def format_commands(self, ctx, formatter):
        commands, aliases = [], []
        for name in self.list_commands(ctx):
            info = self.summary(ctx, name)
            if info.get("alias_of"):
                aliases.append((name, f"alias of `{info['alias_of']}`: {info['help']}"))
            elif self.table.commands[name]["alias"]:
                aliases.append((name, f"alias: {info['help']}"))
            else:
                commands.append((name, info["help"]))
        if self.table._dirty:
            self.table.save()
        if commands:
            with formatter.section("Commands"):
                formatter.write_dl(commands)
        if aliases:
            with formatter.section("Aliases"):
                formatter.write_dl(aliases)

    def shell_complete(self, ctx, incomplete):
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=self.summary(ctx, name)["help"])
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        if self.table._dirty:
            self.table.save()
        return items + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx):
        from scaiwave_cli.context import AppContext  # not on the --help/--version path

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _usage_error(exc, ctx.meta.get(_JSON_USAGE, False)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            # BrokenPipeError: the reader went away (`| head`); Click's main exits 1 quietly.
            raise
        except Exception as exc:
            app = ctx.obj
            if isinstance(app, AppContext) and app.debug:
                raise
            mapped = _database_error(exc)
            if mapped is not None:
                raise mapped from exc
            from scaiwave_cli.errors import UnexpectedError

            raise UnexpectedError(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="run with --debug for a traceback",
            ) from exc
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


def _database_error(exc: Exception):
    """A database error nobody caught, as its own code: a busy store is ``SW_DB_BUSY`` (exit 2),
    a broken constraint ``SW_DB_CONFLICT`` (exit 1); never the SQL statement. None: not one."""
    import sys

    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is None:  # SQLAlchemy never loaded: not a database error
        return None
    from scaiwave_cli.store import locks

    if isinstance(exc, sqlalchemy_exc.IntegrityError):
        return locks.conflict_error(exc)
    if isinstance(exc, sqlalchemy_exc.DBAPIError) and locks.is_busy(exc):
        return locks.busy_error()
    return None


# -- global options after the command ----------------------------------------------------------
# ``--output/-o``, ``--db-url``, ``--debug`` and ``--env-file`` are the root's options; they are
# also attached, hidden, to every command a plugin provides (each group and each sub-command, when
# the command is loaded: never on the cached ``scaiwave --help`` path), so Click's own parser takes
# them wherever they stand: ``scaiwave admin list-tenants --output json``. A command that defines
# one of these names itself keeps it (only the names it does not define are attached). The value
# goes into the root's ``AppContext`` (``AppContext.apply_global``); the last one given wins.
_GLOBALS = (
    ("output", ("--output", "-o")),
    ("db_url", ("--db-url",)),
    ("debug", ("--debug",)),
    ("env_file", ("--env-file",)),
)
_ATTACHED = "_scaiwave_globals"
_JSON_USAGE = "scaiwave.json_usage"
_shared: dict[str, click.Option] = {}


def _apply_global(ctx, param, value):
    if value is None or value is False or ctx.resilient_parsing:
        return
    from scaiwave_cli.context import AppContext

    app = ctx.find_root().ensure_object(AppContext)
    app.apply_global(param.name.removeprefix("scaiwave_global_"), value)


def _global_option(key: str, names: tuple[str, ...]) -> click.Option:
    kwargs = {
        "output": {"type": click.Choice(_OUTPUTS)},
        "db_url": {},
        "debug": {"is_flag": True, "default": False},
        "env_file": {"type": click.Path(dir_okay=False)},
    }[key]
    return click.Option(
        [*names, f"scaiwave_global_{key}"],
        hidden=True,
        expose_value=False,
        callback=_apply_global,
        help=f"The global {names[0]} (see `scaiwave --help`).",
        **kwargs,
    )


def attach_global_options(command: click.Command) -> None:
    """Give ``command`` and every sub-command the global options they do not define."""
    if getattr(command, _ATTACHED, False):
        return
    setattr(command, _ATTACHED, True)
    taken = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for key, names in _GLOBALS:
        free = tuple(name for name in names if name not in taken)
        if not free:
            continue
        if free == names:  # the usual case: one shared Option object for every command
            option = _shared.get(key) or _shared.setdefault(key, _global_option(key, names))
        else:
            option = _global_option(key, free)
        command.params.append(option)
    for sub in getattr(command, "commands", {}).values():
        attach_global_options(sub)


def _json_requested(args) -> bool:
    """--output json|jsonl (``--output X``, ``--output=X``, ``-o X``, ``-oX``) anywhere in
    ``args``, else ``SCAIWAVE_OUTPUT``: how a usage error is shown (the last one wins)."""
    value = None
    args = list(args or ())
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("--output", "-o"):
            value = args[i + 1] if i + 1 < len(args) else None
        elif arg.startswith("--output="):
            value = arg[len("--output=") :]
        elif arg.startswith("-o") and len(arg) > 2:
            value = arg[2:]
    if value is None:
        import os

        value = os.environ.get("SCAIWAVE_OUTPUT")
    return value in ("json", "jsonl")


def _usage_error(exc: click.UsageError, json_usage: bool) -> click.UsageError:
    """``exc`` itself, or its JSON form (``SW_USAGE``, still exit 2) when JSON was asked for.
    A group called without a command shows its help as before."""
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
    if not json_usage or isinstance(exc, no_args):
        return exc
    from scaiwave_cli.errors import JsonUsageError

    return JsonUsageError(exc)


def _terminal_width() -> int:
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size(1).columns
    except (OSError, ValueError):
        columns = 80
    return max(min(columns, 100) - 2, 50)


def _show_version(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    group = ctx.command
    click.echo(f"scaiwave-cli {__version__}")
    seen = set()
    for name in group.list_commands(ctx):
        spec = group.table.commands[name]
        if spec["dist"] in seen or spec["dist"] == "scaiwave-cli":
            continue
        seen.add(spec["dist"])
        click.echo(f"{spec['dist']} {spec['version']}")
    ctx.exit(0)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "Examples:\n\n"
        "\b\n"
        "  scaiwave admin list-tenants --output json\n"
        "  scaiwave room export room-123 --tenant acme > room.zip\n"
        "  scaiwave plugins --timings\n\n"
        "The global options (--output/-o, --db-url, --debug, --env-file) may also follow the "
        "command, as in the first example; the last one given wins.\n\n"
        "Exit codes: 0 success, 1 domain error, 2 configuration error or unreachable backend, "
        "3 authentication error.\n\n"
        'Shell completion (bash): eval "$(_SCAIWAVE_COMPLETE=bash_source scaiwave)"'
    ),
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(_OUTPUTS),
    default=None,
    help="Output format [default: table; env SCAIWAVE_OUTPUT].",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings from this .env file instead of ./.env.",
)
@click.option("--db-url", default=None, help="Database URL [env SCAIWAVE_DB_URL].")
@click.option("--debug", is_flag=True, help="Show diagnostics and tracebacks on stderr.")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the core's and every plugin's version and exit.",
)
@click.pass_context
def cli(ctx, output, env_file, db_url, debug):
    """scaiwave: operate a ScaiWave server.

    Identity sync with ScaiKey, tenants and partners, roles, federation signing keys, room
    export and import. Commands come from installed plugins; `scaiwave plugins` lists them.
    """
    import os

    from scaiwave_cli.context import AppContext

    options = {"output": output, "db_url": db_url}
    ctx.obj = AppContext(options=options, env_file=env_file, debug=debug)
    json_errors = (output or os.environ.get("SCAIWAVE_OUTPUT")) in ("json", "jsonl")
    if json_errors or "scaiwave_cli.errors" in sys.modules:  # else it is at its default, off
        from scaiwave_cli.errors import set_json_errors

        set_json_errors(json_errors)


def main(argv=None):
    """Console-script entry point. A reader that goes away (``scaiwave … | head``) ends the run
    quietly with exit 1, as Click does for a broken pipe, instead of a traceback at exit.

    The process's entry point: it pauses the garbage collector during start-up and freezes
    every object before the interpreter exits, so exit does not scan them all once more
    (``context.pause_collector``)."""
    import gc

    from scaiwave_cli.context import pause_collector

    pause_collector()
    try:
        cli.main(args=argv, prog_name="scaiwave")
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
