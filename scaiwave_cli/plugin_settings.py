"""Settings that plugins declare: one line each, validated once, shown by ``show-config``.

A plugin declares its own variables at module level of its ``cli.py`` (this module is light: it
imports nothing)::

    api.declare_setting("SCAIWAVE_ROOM_SPOOL_MAX", type=int, default=2_000_000_000,
                        help="largest bundle accepted on stdin, bytes")

and reads the typed value with ``app.settings.get("SCAIWAVE_ROOM_SPOOL_MAX")``. Values come from
the same layers as the core's settings (defaults < .env < environment); ``load_settings`` checks
every declared variable that is set and turns a bad one into ``SW_CONFIG_INVALID`` (exit 2)
naming the variable. Secrets (``secret=True``, or a name with SECRET/TOKEN/PASSWORD in it) are
masked in every printout.

Types: ``str``, ``int``, ``float``, ``bool`` (1/0, true/false, yes/no, on/off), ``pathlib.Path``,
or any callable taking the string and returning the value (raising ``ValueError`` when it is bad).
``choices=(...)`` limits a string to a set.
"""

from __future__ import annotations

from typing import Any

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class DeclaredSetting:
    """One declared variable (plain class: this module must stay cheap to import)."""

    __slots__ = ("name", "type", "default", "help", "secret", "choices", "owner")

    def __init__(self, name, type, default, help, secret, choices, owner):  # noqa: A002
        self.name = name
        self.type = type
        self.default = default
        self.help = help
        self.secret = secret
        self.choices = choices
        self.owner = owner

    def convert(self, raw: str):
        """The typed value of ``raw``; ``ValueError`` with a readable reason when it is bad."""
        text = raw.strip()
        if self.type is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"expected one of {', '.join(_TRUE + _FALSE)}, got {text!r}")
        if self.choices is not None and text not in self.choices:
            raise ValueError(f"expected one of {', '.join(map(str, self.choices))}, got {text!r}")
        if self.type in (int, float):
            try:
                return self.type(text)
            except ValueError:
                kind = "an integer" if self.type is int else "a number"
                raise ValueError(f"expected {kind}, got {text!r}") from None
        return (self.type or str)(text)


_declared: dict[str, DeclaredSetting] = {}


def declare_setting(
    name: str,
    *,
    type: Any = str,  # noqa: A002 - the natural word for a setting's type
    default: Any = None,
    help: str = "",  # noqa: A002
    secret: bool = False,
    choices: tuple | None = None,
    owner: str | None = None,
) -> DeclaredSetting:
    """Declare the variable ``name`` (``SCAIWAVE_<PLUGIN>_…``); idempotent for an identical
    re-declaration (a module imported twice)."""
    if not name.isupper() or not name.startswith(("SCAIWAVE_", "SCAIKEY_")):
        raise ValueError(f"setting names are SCAIWAVE_* or SCAIKEY_* in capitals, not {name!r}")
    setting = DeclaredSetting(
        name, type, default, help, secret, tuple(choices) if choices else None, owner
    )
    _declared[name] = setting
    return setting


def declared() -> dict[str, DeclaredSetting]:
    """Every setting declared so far, by name."""
    return dict(_declared)


def load_plugin_declarations() -> dict[str, DeclaredSetting]:
    """Import every loadable command's module (light ``cli.py`` files: the same table as
    ``--help``, so ``SCAIWAVE_LOAD_PLUGINS`` applies) so that all declared settings are known,
    then return them. For ``show-config``; a plugin that fails to import is skipped here
    (``scaiwave plugins`` reports it)."""
    import importlib

    from scaiwave_cli import discovery

    for spec in discovery.Table().commands.values():
        if spec.get("value"):
            try:
                importlib.import_module(spec["value"].split(":", 1)[0])
            except Exception:  # noqa: BLE001 - a broken plugin must not break show-config
                continue
    return declared()
