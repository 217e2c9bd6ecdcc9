"""`scaiwave admin erase-participant`: a backup (or not), then one person's data erased in
resumable steps. Thin: the work is in ``usecases.erasure`` (SQL in ``adapters/erasure.py``),
imported inside the command.
"""

from __future__ import annotations

import click

from scaiwave_admin import options
from scaiwave_cli import api


@click.command(name="erase-participant")
@click.argument("ref", metavar="PARTICIPANT")
@options.tenant_option()
@click.option(
    "--backup",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the participant's export (as `export-participant`) to FILE and verify it first.",
)
@click.option(
    "--no-backup", is_flag=True, help="Erase without a backup (the data cannot be restored)."
)
@click.option("--dry-run", is_flag=True, help="Print the counts and the plan; change nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=5000,
    show_default=True,
    help="Events redacted per transaction (rows scrubbed and media rows: at most 1000).",
)
@api.yes_option
@api.pass_app
def erase_participant(app, ref, tenant_ref, backup, no_backup, dry_run, batch_size, yes):
    """Erase a participant's personal data (GDPR); the rooms stay whole.

    Example: scaiwave admin erase-participant bob@acme.test --tenant acme --backup bob.zip --yes

    PARTICIPANT is an id, an e-mail address or an FQID. One of --backup FILE or
    --no-backup is required. The profile becomes a tombstone ("Erased participant": no
    e-mail, FQID, avatar or ScaiKey id); the events they sent are redacted in place (rows
    and relations kept); media they uploaded is deleted (a file once no other row names
    it); memberships, role and group memberships end; rows elsewhere that named them (audit
    log, room names, ...) get their id instead. AI-token usage is kept (it names nobody).
    The last active owner of a shared workspace and the last active tenant_admin are
    refused with the command that hands over. Interrupted, the participant stays marked
    "erasure under way" (inactive, held against the sync): run the same command again to
    finish it. Erased again: exit 0, "already erased".
    """
    if bool(backup) == bool(no_backup):
        raise click.UsageError("give exactly one of --backup FILE or --no-backup")
    from scaiwave_admin.usecases.erasure import erase_participant as run

    app.out.record(
        run(
            app,
            ref=ref,
            tenant_ref=tenant_ref,
            backup=backup,
            dry_run=dry_run,
            yes=yes,
            batch_size=batch_size,
        )
    )


COMMANDS = [erase_participant]
