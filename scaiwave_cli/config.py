"""Settings: defaults < .env file < process environment < command-line options.

One attrs class (``Settings``), built from the merged values and validated once (``_structure``
converts them as cattrs did: cattrs' import and generated code cost a database command 10 ms).
``load_settings`` also records where each value came from (``Settings.sources``) so that
``show-config`` can say it, and registers every secret with ``errors.register_secret`` so no
printout, error or log line ever shows one.

Imported only when a command needs settings: ``scaiwave --help`` never pays for attrs, cattrs or
python-dotenv.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import attrs

from scaiwave_cli.errors import (
    SW_DB_DRIVER_UNKNOWN,
    SW_DB_URL_INVALID,
    ConfigError,
    register_secret,
)
from scaiwave_cli.plugin_settings import declared

OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")

# field name -> environment variable(s), first match wins (the first is the documented one).
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "db_url": ("SCAIWAVE_DB_URL",),
    "home": ("SCAIWAVE_HOME",),
    "media_dir": ("SCAIWAVE_MEDIA_DIR",),
    "output": ("SCAIWAVE_OUTPUT",),
    "admin_token": ("SCAIWAVE_ADMIN_TOKEN",),
    "server_name": ("SCAIWAVE_SERVER_NAME",),
    "api_url": ("SCAIWAVE_API_URL",),
    "redis_url": ("SCAIWAVE_REDIS_URL",),
    "key_encryption_key": ("SCAIWAVE_KEY_ENCRYPTION_KEY",),
    "scaikey_base_url": ("SCAIKEY_BASE_URL", "SCAIWAVE_SCAIKEY_URL"),
    "scaikey_client_id": ("SCAIKEY_CLIENT_ID",),
    "scaikey_client_secret": ("SCAIKEY_CLIENT_SECRET",),
    "scaikey_app_id": ("SCAIKEY_APP_ID",),
    "scaikey_issuer": ("SCAIKEY_ISSUER",),
    "scaikey_audience": ("SCAIKEY_AUDIENCE",),
    "scaikey_jwks_url": ("SCAIKEY_JWKS_URL",),
}

# Fields whose variable counts as set even when empty (an empty value elsewhere means unset):
# an empty SCAIWAVE_ADMIN_TOKEN is refused (SW_AUTH_EMPTY_TOKEN), never read as "no token".
SET_WHEN_EMPTY = frozenset({"admin_token"})

SECRET_PATTERN = re.compile(r"(SECRET|TOKEN|PASSWORD|KEY_ENCRYPTION_KEY)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for variable or field names that hold secrets (``*_SECRET*``, ``*_TOKEN*``, ...)."""
    return bool(SECRET_PATTERN.search(name))


def mask_url(url: str | None) -> str | None:
    """``mysql+pymysql://user:pw@host/db`` -> ``mysql+pymysql://user:***@host/db``."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def url_password(url: str | None) -> str | None:
    if not url or "@" not in url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def mask_value(name: str, value):
    """The printable form of a setting: secrets as ``***``, URLs without their password."""
    if value is None or value == "":
        return value
    if is_secret_name(name):
        return "***"
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


# Database URL schemes the server accepts -> the sync driver the CLI uses for them.
DB_DRIVERS = {
    "mysql+aiomysql": "mysql+pymysql",
    "mysql+asyncmy": "mysql+pymysql",
    "mariadb+aiomysql": "mysql+pymysql",
    "mariadb+asyncmy": "mysql+pymysql",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}
SUPPORTED_DRIVERS = ("sqlite", "mysql+pymysql")


def normalize_db_url(url: str) -> tuple[str, str | None]:
    """The sync URL for ``url`` and a note when the driver was rewritten. ConfigError (exit 2) for
    a driver the CLI cannot use."""
    match = re.match(r"^([A-Za-z0-9+_.-]+)://", url or "")
    if not match:
        raise ConfigError(
            f"SCAIWAVE_DB_URL is not a database URL: {mask_url(url)!s}",
            code=SW_DB_URL_INVALID,
            hint="expected e.g. mysql+pymysql://user:pass@db-host/scaiwave or sqlite:///path.db",
        )
    scheme = match.group(1).lower()
    target = DB_DRIVERS.get(scheme, scheme)
    if target not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"unsupported database driver {scheme!r} in {mask_url(url)}",
            code=SW_DB_DRIVER_UNKNOWN,
            hint="use mysql+pymysql:// (MariaDB/MySQL) or sqlite:///",
        )
    if target == scheme:
        return url, None
    return target + url[len(scheme) :], f"database driver {scheme} rewritten to {target}"


def embedded_db_url(home) -> str:
    """The embedded store's URL: ``sqlite:///$SCAIWAVE_HOME/scaiwave.db``."""
    return f"sqlite:///{Path(home) / 'scaiwave.db'}"


def default_home() -> Path:
    import click

    return Path(click.get_app_dir("scaiwave"))


def _check_http_url(name):
    def check(instance, attribute, value):
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{name}: expected an http(s):// URL, got {value!r}")

    return check


@attrs.frozen
class Settings:
    """Everything a command may read; ``sources`` maps each field to where its value came from."""

    home: Path = attrs.field(converter=Path)
    db_url: str | None = None
    media_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    output: str = attrs.field(default="table", validator=attrs.validators.in_(OUTPUT_FORMATS))
    admin_token: str | None = attrs.field(default=None, repr=False)
    server_name: str = "localhost"
    api_url: str | None = attrs.field(default=None, validator=_check_http_url("SCAIWAVE_API_URL"))
    redis_url: str | None = None
    key_encryption_key: str | None = attrs.field(default=None, repr=False)
    scaikey_base_url: str | None = attrs.field(
        default=None, validator=_check_http_url("SCAIKEY_BASE_URL")
    )
    scaikey_client_id: str | None = None
    scaikey_client_secret: str | None = attrs.field(default=None, repr=False)
    scaikey_app_id: str | None = None
    scaikey_issuer: str | None = None
    scaikey_audience: str | None = None
    scaikey_jwks_url: str | None = None
    env_file: Path | None = None
    debug: bool = False
    sources: dict = attrs.field(factory=dict, eq=False, repr=False)
    # Every SCAIWAVE_*/SCAIKEY_* variable seen (environment or .env), for plugins' own settings.
    raw: dict = attrs.field(factory=dict, eq=False, repr=False)
    raw_sources: dict = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def media_path(self) -> Path:
        return self.media_dir or (self.home / "media")

    @property
    def embedded(self) -> bool:
        """True when no SCAIWAVE_DB_URL is set: the store is the embedded SQLite file."""
        return not self.db_url

    @property
    def effective_db_url(self) -> str:
        """The URL the store opens: SCAIWAVE_DB_URL with an async driver rewritten to its sync
        one (as the store does; an unusable URL comes back as given), else the embedded default
        ``sqlite:///$SCAIWAVE_HOME/scaiwave.db``. Not masked: print it through ``mask_url``."""
        if self.embedded:
            return embedded_db_url(self.home)
        try:
            return normalize_db_url(self.db_url)[0]
        except ConfigError:
            return self.db_url

    def get(self, name: str, default=None):
        """A plugin's own setting by variable name (e.g. ``SCAIWAVE_SYNC_MAX_DEACTIVATE``).

        A declared setting (``api.declare_setting``) comes back typed, with its declared default
        when unset; an undeclared one as the raw string (or ``default``)."""
        setting = declared().get(name)
        raw = self.raw.get(name)
        if setting is None:
            return default if raw is None else raw
        if raw is None or raw == "":
            return setting.default if default is None else default
        try:
            return setting.convert(raw)
        except ValueError as exc:
            raise ConfigError(
                f"invalid settings: {name}: {exc}",
                hint=f"fix {name} in the environment or .env (see `scaiwave show-config`)",
            ) from None

    def source(self, name: str) -> str:
        """Where the variable ``name`` came from: ``environment``, ``.env`` or ``default``."""
        return self.raw_sources.get(name, "default")

    def declared_settings(self) -> list[dict]:
        """Every declared plugin setting: name, value (masked), source, default, help, owner."""
        rows = []
        for name, setting in sorted(declared().items()):
            raw = self.raw.get(name)
            value = self.get(name) if raw not in (None, "") else setting.default
            if isinstance(value, Path):
                value = str(value)
            secret = setting.secret or is_secret_name(name)
            shown = "***" if secret and value not in (None, "") else mask_value(name, value)
            rows.append(
                {
                    "name": name,
                    "value": shown,
                    "source": self.source(name),
                    "default": "***" if secret and setting.default else setting.default,
                    "help": setting.help,
                    "plugin": setting.owner,
                }
            )
        return rows

    def masked(self) -> dict:
        """Every field with its printable value and its source, secrets masked."""
        out = {}
        for field in attrs.fields(Settings):
            if field.name in ("sources", "raw", "raw_sources"):
                continue
            value = getattr(self, field.name)
            if isinstance(value, Path):
                value = str(value)
            out[field.name] = {
                "value": mask_value(field.name, value),
                "source": self.sources.get(field.name, "default"),
                "env": ENV_NAMES.get(field.name, (None,))[0],
            }
        return out


_PATH_FIELDS = frozenset({"home", "media_dir", "env_file"})
_DICT_FIELDS = frozenset({"sources", "raw", "raw_sources"})


def _structure(values: dict) -> Settings:
    """``Settings`` from the merged values: paths as ``Path``, ``debug`` as a bool, the other
    fields as strings (None stays None); keys that are no field are ignored. attrs runs the
    validators; the first failure is raised as it is."""
    kwargs = {}
    for field in attrs.fields(Settings):
        if field.name not in values:
            continue
        value = values[field.name]
        if value is None:
            pass
        elif field.name in _PATH_FIELDS:
            value = Path(value)
        elif field.name in _DICT_FIELDS:
            value = dict(value)
        elif field.name == "debug":
            value = bool(value)
        else:
            value = str(value)
        kwargs[field.name] = value
    return Settings(**kwargs)


def _read_env_file(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read env file {path}: {exc.strerror}",
            hint="pass an existing file with --env-file, or remove the option",
        ) from exc
    return {k: v for k, v in values.items() if v is not None}


def _relevant(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(("SCAIWAVE_", "SCAIKEY_"))}


def load_settings(
    options: dict | None = None,
    *,
    env_file: str | os.PathLike | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge the four layers and validate. Invalid values raise ``ConfigError`` (exit 2)."""
    environ = dict(os.environ if environ is None else environ)
    options = {k: v for k, v in (options or {}).items() if v is not None}

    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise ConfigError(
                f"env file {path} does not exist",
                hint="pass an existing file with --env-file, or remove the option",
            )
    else:
        candidate = (cwd or Path.cwd()) / ".env"
        path = candidate if candidate.is_file() else None

    layers = [
        ("default", {}),
        (".env", _relevant(_read_env_file(path)) if path else {}),
        ("environment", _relevant(environ)),
    ]
    raw: dict[str, str] = {}
    raw_sources: dict[str, str] = {}
    for source, layer in layers:
        raw.update(layer)
        raw_sources.update(dict.fromkeys(layer, source))

    values: dict = {}
    sources: dict[str, str] = {}
    for field, names in ENV_NAMES.items():
        for source, layer in layers:
            for name in names:
                if layer.get(name, "") != "" or (field in SET_WHEN_EMPTY and name in layer):
                    values[field] = layer[name]
                    sources[field] = source
                    break
    for key, value in options.items():
        values[key] = value
        sources[key] = "option"
    values.setdefault("home", str(default_home()))
    values["env_file"] = str(path) if path else None
    values["sources"] = sources
    values["raw"] = raw
    values["raw_sources"] = raw_sources

    for field in ("admin_token", "scaikey_client_secret", "key_encryption_key"):
        register_secret(values.get(field))
    decl = declared()
    for name, value in raw.items():
        if is_secret_name(name) or (name in decl and decl[name].secret):
            register_secret(value)
        register_secret(url_password(value))
    problems = []
    for name, setting in decl.items():
        if raw.get(name, "") != "":
            try:
                setting.convert(raw[name])
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    if problems:
        raise ConfigError(
            "invalid settings: " + "; ".join(problems),
            hint="fix the variable in the environment or .env (see `scaiwave show-config`)",
        )

    try:
        return _structure(values)
    except Exception as exc:  # a validator's error (an ExceptionGroup's leaves are shown too)
        raise _config_error(exc) from None


def _config_error(exc: BaseException) -> ConfigError:
    leaves = []

    def walk(e):
        if isinstance(e, BaseExceptionGroup):
            for sub in e.exceptions:
                walk(sub)
        else:
            leaves.append(e)

    walk(exc)
    messages = []
    for leaf in leaves:
        text = str(leaf)
        for field, names in ENV_NAMES.items():
            if f"'{field}'" in text or text.startswith(f"{field}"):
                text = f"{names[0]}: {text}"
        if "'output' must be in" in text:
            text = f"SCAIWAVE_OUTPUT must be one of {', '.join(OUTPUT_FORMATS)}"
        messages.append(text)
    return ConfigError(
        "invalid settings: " + "; ".join(messages),
        hint="fix the variable in the environment or .env (see `scaiwave show-config`)",
    )
