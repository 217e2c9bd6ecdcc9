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
        return super().make_context(info_name, args, parent=parent, **extra)

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
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            # BrokenPipeError: the reader went away (`| head`); Click's main exits 1 quietly.
            raise
        except Exception as exc:
            app = ctx.obj
            if isinstance(app, AppContext) and app.debug:
                raise
            from scaiwave_cli.errors import UnexpectedError

            raise UnexpectedError(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="run with --debug for a traceback",
            ) from exc
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


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
    quietly with exit 1, as Click does for a broken pipe, instead of a traceback at exit."""
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
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
