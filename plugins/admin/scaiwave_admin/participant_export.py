"""`scaiwave admin` commands: export-participant, verify-export (issue 16).

Thin: the work is in ``usecases.participant_export`` (the ZIP, its check in
``usecases.export_check``), the SQL in ``adapters/participant_export.py``.
"""

from __future__ import annotations

import sys

import click

from scaiwave_admin import errors, options
from scaiwave_cli import api


@click.command(name="export-participant")
@click.argument("ref", metavar="PARTICIPANT")
@options.tenant_option("Tenant slug (or id) the participant belongs to.")
@click.option(
    "--to",
    "to_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the ZIP to FILE (mode 0600; written whole, verified, then renamed) instead of "
    "stdout.",
)
@api.pass_app
def export_participant(app, ref, tenant_ref, to_file):
    """Export everything of one participant as a verified ZIP (data-subject access).

    PARTICIPANT is an id, an e-mail address (any case) or an FQID. The ZIP holds the
    profile, workspace and room memberships, role assignments, every event the person
    sent (with its room) and the media they uploaded, with an integrity.json (size and
    sha256 of every entry). The same data always gives the same bytes (no export time
    inside; SOURCE_DATE_EPOCH sets the entries' timestamps). Without --to the ZIP goes to
    stdout, which must not be a terminal. An audit row participant.export records the
    counts. Check a file later with `scaiwave admin verify-export FILE`.

    \b
    Example: scaiwave admin export-participant ada@acme.test --tenant acme --to ada.zip
    """
    if to_file is None and api.stdout_is_terminal():
        raise api.ConfigError(
            "refusing to write a binary ZIP to the terminal",
            code=errors.SW_OUTPUT_IS_TERMINAL,
            hint="redirect it (`> export.zip`) or write a file with --to export.zip",
        )
    from scaiwave_admin.usecases import participant_export

    summary = participant_export.export_participant(
        app.store,
        app.actor,
        tenant_ref,
        ref,
        to_file=to_file,
        out=None if to_file is not None else sys.stdout.buffer,
        warn=app.warn,
    )
    if to_file is not None:
        app.out.record(summary)
    else:
        app.out.info(
            f"exported participant {summary['participant_id']}: {summary['events']} events, "
            f"{summary['media']} media, {summary['rooms']} rooms, {summary['bytes']} bytes, "
            f"sha256 {summary['sha256']}"
        )


@click.command(name="verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@api.pass_app
def verify_export(app, file):
    """Check a participant export or a tenant people export.

    The ZIP must hold exactly the entries its integrity.json lists, each with its size
    and sha256 (checked as a stream, within caps against zip bombs: SW_ZIP_INVALID), in
    the order of its format, each JSON entry and each line of a .jsonl entry canonical
    JSON (SW_EXPORT_INVALID). Prints what it holds; exit 0 only when it is valid.

    \b
    Example: scaiwave admin verify-export ada.zip --output json
    """
    from scaiwave_admin.usecases import participant_export

    app.out.record(participant_export.verify_file(file))


COMMANDS = [export_participant, verify_export]
