"""`giupho backup FILE` and `giupho restore FILE`: see `server.operations.backup`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from server.commands import with_app
from server.operations import backup


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


COMMANDS = (backup_command, restore_command)
