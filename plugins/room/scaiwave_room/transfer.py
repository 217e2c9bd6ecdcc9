"""`room export`, `room import`, `room verify`: bundles in and out.

Light on purpose (click and ``scaiwave_cli.api`` only): the work lives in ``exporter``,
``importer``, ``reader`` and ``manifest``, imported when a command runs.
"""

from __future__ import annotations

import os
import sys
import time

import click

from scaiwave_cli import api

VIA = click.Choice(["db", "api"])


def _stdout_isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _stderr_isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _stdin_isatty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``events 12,000  bytes 3.1 MiB`` on stderr, redrawn at most 4 times a second, TTY only."""

    def __init__(self, label: str, enabled: bool | None = None):
        self.label = label
        self.enabled = _stderr_isatty() if enabled is None else enabled
        self._last = 0.0
        self.events = 0
        self.bytes = 0

    def __call__(self, *, events: int | None = None, bytes: int | None = None) -> None:
        if events is not None:
            self.events = events
        if bytes is not None:
            self.bytes = bytes
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.25:
            return
        self._last = now
        self._draw()

    def _draw(self):
        text = f"\r{self.label}: events {self.events:,}  bytes {api.human_bytes(self.bytes)}"
        click.echo(text, err=True, nl=False)

    def done(self) -> None:
        if self.enabled:
            self._draw()
            click.echo("", err=True)


def _terminal_refusal(option: str) -> api.ConfigError:
    return api.ConfigError(
        "refusing to write a binary ZIP bundle to the terminal",
        code="SW_OUTPUT_IS_TERMINAL",
        hint=f"redirect it (`> room.zip`) or write a file with {option} room.zip",
    )


@click.command(name="export")
@click.argument("room_id")
@click.option("--tenant", "tenant", required=True, help="Tenant slug that owns the room.")
@click.option(
    "--to",
    "to_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the bundle to FILE instead of stdout (written whole, then renamed).",
)
@click.option("--sign", is_flag=True, help="Sign integrity.json with the server's federation key.")
@click.option("--via", type=VIA, default="db", show_default=True, help="Database or HTTP API.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Events read per database round trip.",
)
@api.pass_app
def export_cmd(app, room_id, tenant, to_file, sign, via, batch_size):
    """Export a room as a ZIP bundle to stdout or --to FILE.

    Example: scaiwave room export room-01H… --tenant acme > room.zip

    The bytes are deterministic: the same room exports to the same bundle
    (set SOURCE_DATE_EPOCH to fix the export's own timestamp). Sidekick, bridge,
    incognito and federated rooms are refused (SW_ROOM_EXPORT_REFUSED).
    """
    if to_file is None and _stdout_isatty():
        raise _terminal_refusal("--to")
    progress = Progress("export")
    target = _Target(to_file)
    try:
        out = target.open()
        if via == "api":
            from scaiwave_room.adapters.http import RoomApi

            with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
                size = client.export(
                    room_id, tenant, out, sign=sign, progress=lambda n: progress(bytes=n)
                )
            summary = {"room_id": room_id, "tenant": tenant, "bytes": size, "via": "api"}
        else:
            from scaiwave_room.exporter import export_room

            summary = export_room(
                app,
                room_id=room_id,
                tenant_slug=tenant,
                out=out,
                sign=sign,
                batch_size=batch_size,
                progress=progress,
            )
        target.commit()
    except BaseException:
        target.abort()
        raise
    progress.done()
    if to_file is not None:
        summary["file"] = to_file
        app.out.record(summary)
    else:
        app.out.info(
            f"exported room {summary['room_id']}: {summary.get('events', '?')} events, "
            f"{summary.get('media', '?')} media, {summary['bytes']} bytes"
        )


class _Target:
    """stdout (binary) or a file written as FILE.partial-<pid> then renamed."""

    def __init__(self, path):
        self.path = path
        self.tmp = None
        self.fh = None

    def open(self):
        if self.path is None:
            self.fh = sys.stdout.buffer
            return self.fh
        directory = os.path.dirname(os.path.abspath(self.path))
        self.tmp = os.path.join(directory, f".{os.path.basename(self.path)}.partial-{os.getpid()}")
        self.fh = open(self.tmp, "wb")  # noqa: SIM115 (closed in commit/abort)
        return self.fh

    def commit(self):
        if self.tmp is None:
            self.fh.flush()
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.path)
        self.tmp = None

    def abort(self):
        if self.tmp is not None:
            try:
                self.fh.close()
            finally:
                try:
                    os.unlink(self.tmp)
                except FileNotFoundError:
                    pass
            self.tmp = None


def _bundle_source(app, from_file):
    """(path, cleanup) of the bundle to read: the file given, or stdin spooled to a temp file."""
    from scaiwave_room.reader import Limits, spool

    limits = Limits.from_settings(app.settings)
    if from_file and from_file != "-":
        return from_file, (lambda: None)
    if _stdin_isatty():
        raise api.ConfigError(
            "no bundle: stdin is a terminal",
            code="SW_BUNDLE_MISSING",
            hint="pipe one in (`< room.zip`) or pass --from room.zip",
        )
    path = spool(sys.stdin.buffer, limit=limits.max_bundle_bytes)
    return path, (lambda: os.path.exists(path) and os.unlink(path))


@click.command(name="import")
@click.argument("workspace")
@click.option("--tenant", "tenant", required=True, help="Tenant slug to import into.")
@click.option(
    "--as",
    "as_participant",
    required=True,
    help="Participant id who becomes the room's creator (needs create_note in the workspace).",
)
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, exists=True, allow_dash=True),
    help="Read the bundle from FILE (default: stdin).",
)
@click.option("--dry-run", is_flag=True, help="Validate fully and report; write nothing.")
@click.option("--via", type=VIA, default="db", show_default=True, help="Database or HTTP API.")
@api.pass_app
def import_cmd(app, workspace, tenant, as_participant, from_file, dry_run, via):
    """Import a bundle as a new room, all or nothing.

    Example: scaiwave room import general --tenant acme --as prt-42 < room.zip

    WORKSPACE is the target workspace's slug or id. The ZIP is checked completely
    (structure, caps, hashes) first, then the manifest is validated and written in one
    transaction; any problem exits 1 and leaves no rows and no media files behind.
    """
    path, cleanup = _bundle_source(app, from_file)
    try:
        if via == "api":
            from scaiwave_room.adapters.http import RoomApi

            with RoomApi(app.settings.api_url, app.settings.admin_token) as client:
                result = client.import_bundle(
                    path,
                    workspace=workspace,
                    tenant=tenant,
                    as_participant=as_participant,
                    dry_run=dry_run,
                )
        else:
            from scaiwave_room.importer import import_bundle

            result = import_bundle(
                app,
                path=path,
                workspace=workspace,
                tenant_slug=tenant,
                as_participant=as_participant,
                dry_run=dry_run,
                progress=Progress("import"),
            )
    finally:
        cleanup()
    app.out.record(result)


@click.command(name="verify")
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, exists=True, allow_dash=True),
    help="Read the bundle from FILE (default: stdin).",
)
@click.option(
    "--public-key",
    help="Ed25519 public key (base64, hex, PEM, or a file holding one) the bundle must be "
    "signed with.",
)
@api.pass_app
def verify_cmd(app, from_file, public_key):
    """Check a bundle: structure, hashes, manifest, signature.

    Example: scaiwave room verify --public-key "$(cat server.pub)" < room.zip

    Exit 0 when the bundle is sound, 1 with what is wrong otherwise. Needs no database.
    """
    from scaiwave_room.manifest import validate
    from scaiwave_room.reader import Limits, open_bundle, parse_public_key

    key = None
    if public_key:
        text = public_key
        if os.path.isfile(public_key):
            with open(public_key, "rb") as fh:
                text = fh.read()
        key = parse_public_key(text)
    limits = Limits.from_settings(app.settings)
    path, cleanup = _bundle_source(app, from_file)
    try:
        with open_bundle(path, limits, public_key=key) as opened:
            report = validate(opened, limits)
            record = {"valid": True, "entries": opened.entry_count}
            record.update(report.as_dict())
            if opened.signature is not None:
                record["key_id"] = opened.signature.get("key_id")
                record["public_key"] = opened.signature.get("public_key")
    finally:
        cleanup()
    app.out.record(record)
