"""Entry points -> lazy commands, with a small cache so ``scaiwave --help`` stays fast.

Contract (see entry_points.md):

- ``[project.entry-points."scaiwave.commands"]``: ``name = "module:click_object"``, a top-level
  command or group. ``[project.entry-points."scaiwave.aliases"]``: the same, for convenience
  commands that are the very same Click object as a sub-command (``register`` -> ``sync register``).
- A command's one-line help is the Click object's own short help. It is read once, when the
  command is first loaded, and kept in the cache beside the entry-point table; ``--help`` then
  reads the cache only. The cache lives in ``$SCAIWAVE_HOME/cache`` and is rebuilt when the mtime
  of a ``sys.path`` directory changes (``pip install`` touches site-packages) or when a command's
  module file changes. ``SCAIWAVE_PLUGIN_CACHE=off`` disables it.
- ``SCAIWAVE_LOAD_PLUGINS=name,name`` keeps only those commands (names or distribution names)
  and the aliases of their distributions; empty = the core's own commands only; unset = all.
- A plugin module may declare ``REQUIRES_API = "1.0"``; the core is compatible when its
  ``API_VERSION`` has the same major number and a minor number at least as high.

This module imports only modules that ``import click`` has already loaded, and ``marshal`` (built
in): ``importlib.metadata`` (which pulls in email, zipfile, csv) is imported only on a cache miss,
and the cache is a ``marshal`` file because importing ``json`` costs 1.5-2 ms.
"""

from __future__ import annotations

import marshal
import os
import sys
import time

import click

GROUP = "scaiwave.commands"
ALIAS_GROUP = "scaiwave.aliases"
API_VERSION = "1.3"
CORE_DIST = "scaiwave-cli"
CACHE_FORMAT = 3
LOAD_PLUGINS_VAR = "SCAIWAVE_LOAD_PLUGINS"

# Commands registered in-process (scaiwave_cli.testing); never cached.
_extra: list[dict] = []


def register_extra(name: str, target, *, dist: str = "test-plugin", alias: bool = False) -> None:
    """Add a command without installing a distribution (``target``: "module:attr" or a Command)."""
    _extra.append(
        {
            "name": name,
            "value": target if isinstance(target, str) else None,
            "object": None if isinstance(target, str) else target,
            "dist": dist,
            "version": "0+test",
            "alias": alias,
        }
    )


def clear_extra() -> None:
    _extra.clear()


def compatible(required: str | None, provided: str = API_VERSION) -> bool:
    if not required:
        return True
    try:
        r_major, r_minor = (int(x) for x in str(required).split(".")[:2])
        p_major, p_minor = (int(x) for x in provided.split(".")[:2])
    except ValueError:
        return False
    return r_major == p_major and p_minor >= r_minor


def load_plugins_filter() -> frozenset[str] | None:
    """The names in ``SCAIWAVE_LOAD_PLUGINS`` (None when unset: load everything)."""
    value = os.environ.get(LOAD_PLUGINS_VAR)
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


# -- the cache ---------------------------------------------------------------------------------
def home_dir() -> str:
    return os.environ.get("SCAIWAVE_HOME") or click.get_app_dir("scaiwave")


def _search_path() -> list[str]:
    """``sys.path`` without the working directory (``-m``/``-c`` put it first): its contents and
    mtime say nothing about installed distributions, and it changes from run to run."""
    cwd = os.getcwd()
    return [entry for entry in sys.path if entry not in ("", ".", cwd)]


def _fingerprint(search_path: list[str]) -> list:
    prints = []
    for entry in search_path:
        try:
            prints.append([entry, os.stat(entry).st_mtime_ns])
        except OSError:
            prints.append([entry, None])
    return prints


def _key(text: str) -> int:
    """A 32-bit key naming the cache file: the text as one integer modulo the largest 32-bit
    prime (one C-level operation; zlib or hashlib would cost an import). A collision only makes
    two environments share a file, whose fingerprint check then fails: a rescan, never a wrong
    table."""
    return int.from_bytes(text.encode(), "little") % 4294967291


def _cache_path(search_path: list[str]) -> str:
    # The interpreter's version is part of the key: marshal's format may change between them.
    key = _key("\0".join([sys.executable, sys.version, *search_path]))
    return os.path.join(home_dir(), "cache", f"commands-{key:08x}.marshal")


def _cache_enabled() -> bool:
    return os.environ.get("SCAIWAVE_PLUGIN_CACHE", "on").lower() not in ("off", "0", "no")


def _read_cache(search_path: list[str]) -> dict | None:
    if not _cache_enabled():
        return None
    try:
        with open(_cache_path(search_path), "rb") as fh:
            data = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != CACHE_FORMAT
        or data.get("fingerprint") != _fingerprint(search_path)
    ):
        return None
    return data


def _write_cache(data: dict) -> None:
    if not _cache_enabled():
        return
    path = _cache_path(_search_path())
    try:
        from scaiwave_cli.files import atomic_writer, private_dir  # written off the --help path

        private_dir(os.path.dirname(path))  # SCAIWAVE_HOME and its cache: 0700
        with atomic_writer(path, mode=0o600) as fh:  # exclusive temp, never a planted link
            marshal.dump(data, fh)
    except Exception:  # noqa: BLE001 - a read-only home or an odd file only costs speed
        pass


def _scan(search_path: list[str]) -> dict:
    from importlib.metadata import entry_points

    specs = []
    for group, alias in ((GROUP, False), (ALIAS_GROUP, True)):
        for ep in entry_points(group=group):
            dist = getattr(ep, "dist", None)
            specs.append(
                {
                    "name": ep.name,
                    "value": ep.value,
                    "dist": dist.name if dist else "?",
                    "version": dist.version if dist else "?",
                    "alias": alias,
                }
            )
    specs.sort(key=lambda s: (s["name"], s["alias"], s["dist"] != CORE_DIST, s["dist"]))
    return {
        "format": CACHE_FORMAT,
        "fingerprint": _fingerprint(search_path),
        "specs": specs,
        "summaries": {},
    }


class Table:
    """The resolved command table: winners by name, conflicts, cached summaries.

    ``commands`` holds what this run may load; ``disabled`` what ``SCAIWAVE_LOAD_PLUGINS`` left
    out (``scaiwave plugins`` lists those too, never importing them).
    """

    def __init__(self):
        search_path = _search_path()
        data = _read_cache(search_path)
        self._dirty = data is None
        self.data = data or _scan(search_path)
        specs = list(self.data["specs"]) + list(_extra)
        self.commands: dict[str, dict] = {}
        self.conflicts: dict[str, list[dict]] = {}
        for spec in specs:
            name = spec["name"]
            if name in self.commands:
                self.conflicts.setdefault(name, [self.commands[name]]).append(spec)
                continue
            self.commands[name] = spec
        self.wanted = load_plugins_filter()
        self.disabled: dict[str, dict] = {}
        if self.wanted is not None:
            self._apply_filter(self.wanted)
        if self._dirty:
            self.save()

    def _apply_filter(self, wanted: frozenset[str]) -> None:
        """Keep the core's commands, the named ones and the aliases of their distributions."""
        kept_dists = {
            spec["dist"]
            for name, spec in self.commands.items()
            if not spec["alias"] and (name in wanted or spec["dist"] in wanted)
        }
        for name, spec in list(self.commands.items()):
            if (
                spec["dist"] == CORE_DIST
                or name in wanted
                or spec["dist"] in wanted
                or (spec["alias"] and spec["dist"] in kept_dists)
            ):
                continue
            self.disabled[name] = self.commands.pop(name)
            self.conflicts.pop(name, None)

    def describe_filter(self) -> str:
        """``SCAIWAVE_LOAD_PLUGINS=room,sync`` (or ``=""``) as set, for messages."""
        value = os.environ.get(LOAD_PLUGINS_VAR, "").strip()
        return f"{LOAD_PLUGINS_VAR}={value or chr(34) * 2}"

    def unknown_wanted(self) -> list[str]:
        """Names in ``SCAIWAVE_LOAD_PLUGINS`` that match no command and no distribution."""
        if not self.wanted:
            return []
        everything = {**self.commands, **self.disabled}
        known = set(everything) | {spec["dist"] for spec in everything.values()}
        return sorted(self.wanted - known)

    def save(self) -> None:
        _write_cache(self.data)
        self._dirty = False

    def names(self) -> list[str]:
        return sorted(self.commands)

    def conflict_warnings(self) -> list[str]:
        out = []
        for name, specs in sorted(self.conflicts.items()):
            dists = ", ".join(f"{s['dist']} ({s['value']})" for s in specs)
            out.append(
                f"command {name!r} is claimed by {dists}; using {specs[0]['dist']}. "
                f"Uninstall one of them to silence this warning."
            )
        for name in self.unknown_wanted():
            out.append(
                f"{LOAD_PLUGINS_VAR} names {name!r}, which is no installed command or "
                f"distribution; `scaiwave plugins` lists them."
            )
        return out

    # -- summaries ---------------------------------------------------------------------------
    def summary(self, name: str) -> dict | None:
        """The cached one-line help of ``name`` if still valid, else None."""
        spec = self.commands[name]
        if spec.get("object") is not None or spec.get("value") is None:
            return None
        cached = self.data["summaries"].get(name)
        if not cached or cached.get("value") != spec["value"]:
            return None
        try:
            if os.stat(cached["file"]).st_mtime_ns != cached["mtime"]:
                return None
        except (OSError, KeyError, TypeError):
            return None
        return cached

    def remember(self, name: str, info: dict) -> None:
        spec = self.commands[name]
        if spec.get("value") is None:
            return
        module = sys.modules.get(spec["value"].split(":")[0])
        path = getattr(module, "__file__", None)
        if not path:
            return
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return
        self.data["summaries"][name] = dict(info, value=spec["value"], file=path, mtime=mtime)
        self._dirty = True


def load(spec: dict):
    """Import the object behind ``spec``. Returns ``(command, seconds)``; raises on failure."""
    if spec.get("object") is not None:
        return spec["object"], 0.0
    import importlib

    start = time.perf_counter()
    module_name, _, attr = spec["value"].partition(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    required = getattr(module, "REQUIRES_API", None)
    if not compatible(required):
        raise IncompatiblePlugin(
            f"{spec['dist']} needs scaiwave API {required}, this core provides {API_VERSION}"
        )
    if not isinstance(obj, click.Command):
        raise TypeError(f"{spec['value']} is a {type(obj).__name__}, not a click.Command")
    return obj, time.perf_counter() - start


class IncompatiblePlugin(Exception):
    """A plugin needs an API version this core does not provide."""


class BrokenCommand(click.Command):
    """A stand-in for a command that failed to load: it explains itself and exits 2.

    It accepts any arguments (``--help`` included) and, when invoked, prints one error line
    naming the distribution, its version and the exception (the traceback with ``--debug``).
    """

    def __init__(self, name: str, spec: dict, exc: BaseException):
        import traceback

        from scaiwave_cli import errors  # only on this path: it imports json

        status = "incompatible" if isinstance(exc, IncompatiblePlugin) else "broken"
        self.code = (
            errors.SW_PLUGIN_INCOMPATIBLE if status == "incompatible" else errors.SW_PLUGIN_BROKEN
        )
        reason = f"{type(exc).__name__}: {exc}" if status == "broken" else str(exc)
        super().__init__(
            name,
            help=(
                f"This command could not be loaded from {spec['dist']} {spec['version']} "
                f"({spec.get('value')}): {reason}"
            ),
            short_help=f"[{status}] could not be loaded; see `scaiwave {name} --help`",
        )
        self.spec = spec
        self.status = status
        self.reason = reason
        self.traceback_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def parse_args(self, ctx, args):
        return args

    def invoke(self, ctx):
        debug = getattr(ctx.find_root().obj, "debug", False)
        if debug:
            click.echo(self.traceback_text, err=True)
        spec = self.spec
        click.echo(
            f"Error [{self.code}]: command {self.name!r} from distribution "
            f"{spec['dist']} {spec['version']} could not be loaded: {self.reason}",
            err=True,
        )
        if not debug:
            click.echo("  hint: run with --debug for a traceback", err=True)
        ctx.exit(2)

    def get_help(self, ctx):
        return self.help


def broken_command(name: str, spec: dict, exc: BaseException) -> BrokenCommand:
    """A stand-in for a command that failed to load (see ``BrokenCommand``)."""
    return BrokenCommand(name, spec, exc)
