"""Typed errors and their exit codes: the one place that decides how a failure looks.

Every error a command raises on purpose is a ``ScaiwaveError``. Each class knows its stable
``SW_*`` code and its exit code; a message says what went wrong and, where there is one, what
to do (``hint``)::

    ScaiwaveError                     exit 1  SW_ERROR
    ├── DomainError                   exit 1  SW_DOMAIN_ERROR      unknown tenant, bad slug, bundle
    │   └── NotFoundError             exit 1  SW_NOT_FOUND         (code set per resource)
    ├── ConfigError                   exit 2  SW_CONFIG_INVALID    missing/invalid setting
    │   └── BackendUnavailable        exit 2  SW_BACKEND_UNREACHABLE database or HTTP service down
    └── AuthError                     exit 3  SW_AUTH_INVALID_TOKEN
        └── PermissionDenied          exit 3  SW_AUTH_INSUFFICIENT_PERMISSION

They subclass ``click.ClickException`` so Click's own ``main`` turns them into an exit code;
``show`` prints the text form, or ``{"error": {"code": ..., "message": ...}}`` on stderr when the
output format is json/jsonl (the same shape as the ScaiWave API). Secrets are masked on the way out.

Click's usage errors keep Click's exit 2 and Click's text; under ``--output json|jsonl`` (anywhere
in argv, or ``SCAIWAVE_OUTPUT``) the root shows them as ``JsonUsageError`` (``SW_USAGE``).
"""

from __future__ import annotations

import sys

import click

EXIT_OK = 0
EXIT_DOMAIN = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3

# -- the core's codes: each declared once (plugins declare theirs in their own errors.py) ------
# Listed, with exit codes and meanings, in README.md ("Error codes of the core").
SW_ERROR = "SW_ERROR"  # base class default
SW_DOMAIN_ERROR = "SW_DOMAIN_ERROR"  # DomainError default
SW_NOT_FOUND = "SW_NOT_FOUND"  # NotFoundError default
SW_INTERNAL = "SW_INTERNAL"  # an exception nobody planned for (a bug: --debug shows it)
SW_CONFIG_INVALID = "SW_CONFIG_INVALID"  # a setting is missing or invalid
SW_BACKEND_UNREACHABLE = "SW_BACKEND_UNREACHABLE"  # database or HTTP service unreachable
SW_JWKS_INVALID_RESPONSE = "SW_JWKS_INVALID_RESPONSE"  # the key set URL answered no key set
SW_AUTH_INVALID_TOKEN = "SW_AUTH_INVALID_TOKEN"  # malformed, badly signed, wrong iss/aud
SW_AUTH_EXPIRED_TOKEN = "SW_AUTH_EXPIRED_TOKEN"  # admin token expired
SW_AUTH_INSUFFICIENT_PERMISSION = "SW_AUTH_INSUFFICIENT_PERMISSION"  # out of the actor's scope
SW_PLUGIN_BROKEN = "SW_PLUGIN_BROKEN"  # a plugin failed to import
SW_PLUGIN_INCOMPATIBLE = "SW_PLUGIN_INCOMPATIBLE"  # a plugin needs another API version
SW_TENANT_NOT_FOUND = "SW_TENANT_NOT_FOUND"  # no tenant with that slug or id
SW_PARTICIPANT_NOT_FOUND = "SW_PARTICIPANT_NOT_FOUND"  # no such participant in the tenant
SW_PARTICIPANT_AMBIGUOUS = "SW_PARTICIPANT_AMBIGUOUS"  # an e-mail shared by several participants
SW_WORKSPACE_NOT_FOUND = "SW_WORKSPACE_NOT_FOUND"  # no such workspace in the tenant
SW_PERMISSION_UNKNOWN = "SW_PERMISSION_UNKNOWN"  # a permission name not in the catalog
SW_SLUG_INVALID = "SW_SLUG_INVALID"  # a slug breaks the slug rules
SW_CONFIRMATION_REQUIRED = "SW_CONFIRMATION_REQUIRED"  # destructive, no terminal, no --yes
SW_ABORTED = "SW_ABORTED"  # the operator answered no at the prompt
SW_DB_URL_INVALID = "SW_DB_URL_INVALID"  # SCAIWAVE_DB_URL cannot be parsed
SW_DB_DRIVER_UNKNOWN = "SW_DB_DRIVER_UNKNOWN"  # no driver for the URL's scheme
SW_DB_UNREACHABLE = "SW_DB_UNREACHABLE"  # the database server cannot be reached
SW_DB_AUTH_FAILED = "SW_DB_AUTH_FAILED"  # the database refused the credentials
SW_DB_NOT_FOUND = "SW_DB_NOT_FOUND"  # the database named in the URL does not exist
SW_DB_SCHEMA_BEHIND = "SW_DB_SCHEMA_BEHIND"  # a server database needs `scaiwave db upgrade`
SW_DB_SCHEMA_AHEAD = "SW_DB_SCHEMA_AHEAD"  # the database is newer than this CLI
SW_DB_SCHEMA_DRIFT = "SW_DB_SCHEMA_DRIFT"  # tables differ from the models (`db check`)
SW_MEDIA_INVALID = "SW_MEDIA_INVALID"  # a media reference is not a sha256
SW_MEDIA_MISSING = "SW_MEDIA_MISSING"  # a referenced media file is not in the store
SW_MEDIA_CORRUPT = "SW_MEDIA_CORRUPT"  # a media file does not match its sha256
SW_FEDERATION_KEY_MISSING = "SW_FEDERATION_KEY_MISSING"  # no active federation key
SW_KEY_ENCRYPTION_KEY_MISSING = "SW_KEY_ENCRYPTION_KEY_MISSING"  # encrypted keys, no key to open
SW_KEY_ENCRYPTION_KEY_WRONG = "SW_KEY_ENCRYPTION_KEY_WRONG"  # the key does not open them
SW_USAGE = "SW_USAGE"  # a usage error (unknown option, missing argument, bad choice), JSON form
SW_AUTH_EMPTY_TOKEN = "SW_AUTH_EMPTY_TOKEN"  # SCAIWAVE_ADMIN_TOKEN set but empty
SW_KEY_ENCRYPTION_KEY_REQUIRED = "SW_KEY_ENCRYPTION_KEY_REQUIRED"  # new key, no key, no opt-in
SW_SERVER_NAME_UNSET = "SW_SERVER_NAME_UNSET"  # SCAIWAVE_SERVER_NAME unset or localhost
SW_SERVER_NAME_INVALID = "SW_SERVER_NAME_INVALID"  # not a host name (with an optional :port)
SW_DB_BUSY = "SW_DB_BUSY"  # another writer holds the database lock: retry, or --wait
SW_DB_CONFLICT = "SW_DB_CONFLICT"  # a write broke a unique/foreign-key constraint
SW_FILE_UNSAFE_SYMLINK = "SW_FILE_UNSAFE_SYMLINK"  # the target is another user's symlink
SW_ZIP_INVALID = "SW_ZIP_INVALID"  # a ZIP fails verification (api.zipbundle.verify_integrity)
SW_QUEUE_UNREACHABLE = "SW_QUEUE_UNREACHABLE"  # Redis (the job queue) cannot be reached
SW_QUEUE_URL_INVALID = "SW_QUEUE_URL_INVALID"  # the Redis URL cannot be parsed
SW_JOB_FAILED = "SW_JOB_FAILED"  # a fanned-out job raised an unexpected exception
SW_WORKER_LOST = "SW_WORKER_LOST"  # the worker running a job died max_tries times
SW_JOB_UNKNOWN = "SW_JOB_UNKNOWN"  # no `scaiwave.jobs` entry point of that name on the worker


# Set by the root group once the output format is known; read by ``show``.
_error_format = {"json": False}
# Values that must never be printed (filled by config when settings are loaded).
_secrets: set[str] = set()


def set_json_errors(enabled: bool) -> None:
    _error_format["json"] = enabled


def register_secret(value: str | None) -> None:
    """Remember a secret value so that no error or log line ever shows it."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret value in ``text`` with ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class ScaiwaveError(click.ClickException):
    """Base of every deliberate error. ``code`` is stable; ``message`` is for people."""

    code = SW_ERROR
    exit_code = EXIT_DOMAIN

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        details: dict | None = None,
    ):
        super().__init__(message)
        if code:
            self.code = code
        self.hint = hint
        self.details = details

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": redact(self.format_message())}
        if self.hint:
            body["hint"] = redact(self.hint)
        if self.details:
            import json

            body["details"] = json.loads(redact(json.dumps(self.details, default=str)))
        return {"error": body}

    def show(self, file=None) -> None:
        file = file or sys.stderr
        if _error_format["json"]:
            import json

            click.echo(json.dumps(self.as_dict()), file=file)
            return
        text = f"Error [{self.code}]: {redact(self.format_message())}"
        if self.hint:
            text += f"\n  hint: {redact(self.hint)}"
        click.echo(text, file=file)


class DomainError(ScaiwaveError):
    """The request makes no sense for the data: unknown tenant, bad slug, invalid bundle."""

    code = SW_DOMAIN_ERROR
    exit_code = EXIT_DOMAIN


class NotFoundError(DomainError):
    """A named thing does not exist (or is not visible to the actor: the same answer)."""

    code = SW_NOT_FOUND


class ConfigError(ScaiwaveError):
    """A setting is missing or invalid; the message names the variable and the fix."""

    code = SW_CONFIG_INVALID
    exit_code = EXIT_CONFIG


class BackendUnavailable(ConfigError):
    """The database or an HTTP service cannot be reached (or refuses our credentials)."""

    code = SW_BACKEND_UNREACHABLE


class AuthError(ScaiwaveError):
    """The actor could not be authenticated: bad, expired or unverifiable token."""

    code = SW_AUTH_INVALID_TOKEN
    exit_code = EXIT_AUTH


class PermissionDenied(AuthError):
    """The actor is known but may not do this here."""

    code = SW_AUTH_INSUFFICIENT_PERMISSION


class JsonUsageError(click.UsageError):
    """A Click usage error in the JSON form (``--output json|jsonl``): ``{"error": {"code":
    "SW_USAGE", "message": ..., "hint": ...}}`` on stderr, still exit 2 (made by the root)."""

    code = SW_USAGE

    def __init__(self, exc: click.UsageError):
        super().__init__(exc.message, ctx=exc.ctx)
        self.exit_code = exc.exit_code
        self.original = exc

    def as_dict(self) -> dict:
        path = self.ctx.command_path if self.ctx is not None else "scaiwave"
        body = {
            "code": self.code,
            "message": redact(self.original.format_message()),
            "hint": f"see `{path} --help` for the usage",
        }
        return {"error": body}

    def show(self, file=None) -> None:
        import json

        click.echo(json.dumps(self.as_dict()), file=file or sys.stderr)


class UnexpectedError(ScaiwaveError):
    """Wraps an exception nobody planned for: one line, and the way to the traceback."""

    code = SW_INTERNAL
    exit_code = EXIT_DOMAIN
