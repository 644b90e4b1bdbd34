"""Operator commands: thin wrappers over services, mounted by `server.cli` under `giupho`.

Each command gets its app from Flask's CLI context when there is one (`flask
--app server ...`, `app.test_cli_runner()`), and builds it with `create_app()`
otherwise (the `giupho` console script).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import ScriptInfo

from server import create_app, settings
from server.db import upgrade_database
from server.services import forms, seed


def with_app(command: Callable) -> Callable:
    """Run `command` inside an application context, passing the app as first argument."""

    @click.pass_context
    @functools.wraps(command)
    def wrapper(ctx: click.Context, *args, **kwargs):
        info = ctx.find_object(ScriptInfo)
        app = info.load_app() if info is not None else create_app()
        with app.app_context():
            return command(app, *args, **kwargs)

    return wrapper


def _echo_logins(base_url: str) -> None:
    logins = seed.demo_logins()
    if not logins:
        return
    click.echo("Demo logins (username / password):")
    for login in logins:
        password = login.password or "(changed)"
        click.echo(
            f"  {login.username:<16} {password:<14} {login.role.value:<17} {login.full_name}"
        )
    click.echo("ODK Collect server URLs (one per cadre device):")
    for login in logins:
        if login.token:
            click.echo(f"  {login.username:<16} {base_url}/key/{login.token}")


def prepare() -> None:
    """Create or upgrade the database, seed the demo if it is empty, load the shipped forms."""
    upgrade_database()
    if seed.seed_demo():
        click.echo("Seeded demo data (empty database).")
    forms.load_library()


@click.command("run", epilog=settings.help_text())
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Flask's server is for one laptop: keep 127.0.0.1.",
)
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--debug/--no-debug", default=False, help="Flask debugger and reloader.")
@with_app
def run(app: Flask, host: str, port: int, debug: bool) -> None:
    """Prepare the database and serve giupho with Flask's server (laptop / demo use)."""
    prepare()
    base_url = (app.config["PUBLIC_URL"] or f"http://{host}:{port}").rstrip("/")
    _echo_logins(base_url)
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo(f"Database: {url.render_as_string(hide_password=True)}")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@with_app
def db_upgrade(app: Flask) -> None:
    """Apply every pending migration."""
    upgrade_database()
    click.echo("Database is up to date.")


@click.command("seed")
@with_app
def seed_command(app: Flask) -> None:
    """Create the demo data if the database is empty (never touches a database in use)."""
    upgrade_database()
    if seed.seed_demo():
        click.echo("Seeded demo data.")
    else:
        click.echo("Database is not empty: nothing seeded.")
    base_url = (current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000").rstrip("/")
    _echo_logins(base_url)


COMMANDS = (run, db_group, seed_command)


def register(group: click.Group) -> None:
    """Add the server commands to `group` (the `giupho` console script's top-level group)."""
    for command in COMMANDS:
        group.add_command(command)
