"""`giupho backup FILE` and `giupho restore FILE` (`server.operations.backup`),
`giupho partitions ensure|list` (`server.operations.partitions`) and `giupho storage migrate`
(`server.storage.legacy`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from server.commands import with_app
from server.operations import backup, partitions
from server.storage import legacy


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_app
def backup_command(app: Flask, file: Path) -> None:
    """Copy the database and the stored files (photos, audit logs) into FILE (.tar.gz)."""
    try:
        done = backup.create(file)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up the {done.database} database (schema {done.revision}) and {done.files} "
        f"files to {done.path} ({_size(done.bytes)})."
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_app
def restore_command(app: Flask, file: Path, force: bool) -> None:
    """Put a backup made by `giupho backup` back: the database's content is replaced by the
    backup's, and its files are added to the file store. Stop the server first."""
    try:
        done = backup.restore(file, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the {done.database} database and {done.files} files from {done.path}.")
    if done.upgraded_from:
        click.echo(f"The schema was upgraded from {done.upgraded_from} to the current one.")


@click.group("partitions")
def partitions_group() -> None:
    """PostgreSQL partitions of the tables that grow with every visit (docs/partitioning.md)."""


@partitions_group.command("ensure")
@click.option(
    "--months-ahead",
    default=3,
    show_default=True,
    type=click.IntRange(min=0, max=120),
    help="Create the partitions of this many months (or id spans) ahead.",
)
@with_app
def partitions_ensure(app: Flask, months_ahead: int) -> None:
    """Create the coming months' partitions and move any row the DEFAULT partitions hold
    into its own partition (submissions' rows stay: their new partition starts above them).
    Run it daily (cron); it waits at most 5 s for a lock."""
    if not partitions.enabled():
        click.echo("Nothing to do: only PostgreSQL databases are partitioned.")
        return
    done = partitions.ensure(months_ahead)
    for name in done.created:
        click.echo(f"created {name}")
    click.echo(f"{len(done.created)} partitions created, {done.moved} rows moved out of DEFAULT")
    if done.kept:  # submissions: rows other tables refer to stay where they are
        click.echo(f"{done.kept} rows kept in DEFAULT (not moved: other tables refer to them)")
    if done.skipped:
        raise click.ClickException(
            f"not created, a lock was not had within {partitions.LOCK_TIMEOUT}: "
            + ", ".join(done.skipped)
        )


@partitions_group.command("list")
@with_app
def partitions_list(app: Flask) -> None:
    """Every partition with its bounds, estimated rows and size."""
    if not partitions.enabled():
        click.echo("Nothing is partitioned: only PostgreSQL databases are.")
        return
    for p in partitions.partitions():
        click.echo(f"{p.table}\t{p.name}\t{p.bounds}\t{p.rows}\t{_size(p.bytes)}")


@click.group("storage")
def storage_group() -> None:
    """The file store every machine reaches (GIUPHO_STORAGE)."""


@storage_group.command("migrate")
@click.option("--remove", is_flag=True, help="Delete each file from disk once it is in the store.")
@with_app
def storage_migrate_command(app: Flask, remove: bool) -> None:
    """Move the files of the attachment folder (GIUPHO_ATTACHMENT_DIR: photos, audit logs,
    unfinished uploads) into the file store. Run it once after upgrading, on the machine
    that holds the folder; running it again is harmless."""
    root = Path(app.config["ATTACHMENT_DIR"])
    done = legacy.move_folder(root, remove=remove)
    click.echo(
        f"Moved {done.files} files ({_size(done.bytes)}) from {root} into the "
        f"{app.config['STORAGE'].split('://')[0]} store; {done.skipped} left aside."
    )


COMMANDS = (backup_command, restore_command, partitions_group, storage_group)
