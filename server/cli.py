"""The `giupho` console script: one click group that mounts each package's commands.

Commands are thin: they parse arguments and call library or service functions.
"""

from __future__ import annotations

import click

from forms.cli import form
from server import (
    access_commands,
    forms_commands,
    jobs_commands,
    monitoring_commands,
    operations_commands,
    programme_commands,
)
from server.commands import register


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="giupho")
def main() -> None:
    """giupho: offline-first household data collection for the poverty-reduction programme."""


main.add_command(form)
for command in forms_commands.COMMANDS:  # upload, publish, close, versions: on the server
    form.add_command(command)
register(main)
for command in access_commands.COMMANDS:  # users and devices (they use `commands.with_app`)
    main.add_command(command)
for command in programme_commands.COMMANDS:  # units, agencies, assignments, pairs
    main.add_command(command)
for command in operations_commands.COMMANDS:  # backup, restore, partitions, storage
    main.add_command(command)
for command in monitoring_commands.COMMANDS:  # monitoring check
    main.add_command(command)
for command in jobs_commands.COMMANDS:  # worker, periodic
    main.add_command(command)
