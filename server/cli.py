"""The `giupho` console script: one click group that mounts each package's commands.

Commands are thin: they parse arguments and call library or service functions.
"""

from __future__ import annotations

import click

from forms.cli import form
from server.commands import register


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="giupho")
def main() -> None:
    """giupho: offline-first household data collection for the poverty-reduction programme."""


main.add_command(form)
register(main)
