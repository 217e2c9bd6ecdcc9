"""`scaiwave admin delete-tenant`: a suspended tenant and everything of it, after a verified
backup, in bounded batches; resumable (issue 16). Thin: the work is in
``usecases.tenant_deletion`` (imported inside the command)."""

from __future__ import annotations

import click

from scaiwave_cli import api


@click.command("delete-tenant")
@click.argument("tenant_ref", metavar="SLUG")
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Back up first into DIR (made 0700; new, empty, or this command's earlier one): one "
    "verified bundle per room, people.zip, backup.json.",
)
@click.option(
    "--no-backup", is_flag=True, help="Delete without a backup (nothing can be restored)."
)
@click.option("--dry-run", is_flag=True, help="Print the plan and the counts; change nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=5000,
    show_default=True,
    help="Rows deleted per transaction.",
)
@api.yes_option
@api.pass_app
def delete_tenant(app, tenant_ref, backup_dir, no_backup, dry_run, batch_size, yes):
    """Delete a suspended tenant and all its data, after a verified backup (platform admins).

    Example: scaiwave admin delete-tenant initech --backup-dir initech-backup --yes

    One of --backup-dir DIR or --no-backup is required. Only a suspended tenant (`update-tenant
    SLUG --status suspended` first). The plan (rooms, events, media, people, audit rows kept,
    rooms `room export` refuses) is confirmed on a terminal or with --yes. With --backup-dir
    every exportable room is written by `scaiwave room export` and checked by `room verify`
    (the room plugin is needed), then people.zip and backup.json; any failure stops before
    anything is deleted. Then the tenant is marked `deleting` and its rows go table by table in
    batches; its audit rows stay, under the platform; its media files are removed; the tenant
    row goes last. Interrupted, the tenant stays `deleting`: run the same command again.
    """
    if bool(backup_dir) == bool(no_backup):
        raise click.UsageError("give exactly one of --backup-dir DIR or --no-backup")
    from scaiwave_admin.usecases.tenant_deletion import delete_tenant as run

    app.out.record(
        run(
            app,
            tenant_ref=tenant_ref,
            backup_dir=backup_dir,
            dry_run=dry_run,
            yes=yes,
            batch_size=batch_size,
        )
    )


COMMANDS = [delete_tenant]
