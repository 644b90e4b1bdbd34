"""Operator commands: thin wrappers over services, mounted by `server.cli` under `giupho`.

Each command gets its app from Flask's CLI context when there is one (`flask
--app server ...`, `app.test_cli_runner()`), and builds it with `create_app()`
otherwise (the `giupho` console script).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask.cli import ScriptInfo
from werkzeug.routing import BuildError

from server import create_app, jobs, settings
from server.db import db, upgrade_database
from server.models import Role
from server.runtime import tune_gc
from server.services import transactional
from server.services.demo import seed
from server.services.duplicates import detection as dedup
from server.services.forms import publishing as forms
from server.services.households import periodic as household_periodic
from server.services.households import rebuild as household_rebuild
from server.services.programme import ledger


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


def _echo_review_site(app: Flask, base_url: str) -> None:
    """Where the review site is, and which demo login decides there (a commune official)."""
    try:
        with app.test_request_context(base_url=base_url):
            address = url_for("web.dashboard", _external=True)
    except BuildError:  # the review site is not part of this app
        return
    click.echo(f"Review site (duplicates, conflicts, double entries): {address}")
    officials = [
        login
        for login in seed.demo_logins()
        if login.role == Role.COMMUNE_OFFICIAL and login.password is not None
    ]
    if officials:
        login = officials[0]
        click.echo(
            f"  sign in as {login.username} / {login.password} "
            f"(commune official / cán bộ xã: {login.full_name})"
        )


def prepare() -> None:
    """Create or upgrade the database, seed the demo if it is empty, load the shipped forms,
    then the periodic household work (what the worker or cron runs on a server). Only
    `giupho run` (one laptop) does this at start; gunicorn workers never do."""
    upgrade_database()
    if seed.seed_demo():
        click.echo("Seeded demo data (empty database).")
    forms.load_library()
    ledger.load_catalogue()
    if ledger.needs_backfill() and (written := ledger.backfill_form_entries()):
        click.echo(f"Support entries written from visits received before the ledger: {written}.")
    done = household_periodic.run_all()
    if done.released or done.opened:
        click.echo(
            f"Held updates applied: {done.released}; possible duplicates opened: {done.opened}."
        )


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
    _echo_review_site(app, base_url)
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo(f"Database: {url.render_as_string(hide_password=True)}")
    tune_gc()
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


@click.group("households")
def households_group() -> None:
    """Household records: rebuild from submissions (H8), release held updates (H5)."""


@households_group.command("rebuild")
@click.option("--fix", is_flag=True, help="Write the rebuilt state where it differs.")
@click.option("--restart", is_flag=True, help="Start again from nothing, not from checkpoints.")
@click.option("--here", is_flag=True, help="Rebuild in this process instead of the job workers.")
@click.option(
    "--batch",
    "batch_size",
    default=household_rebuild.BATCH,
    show_default=True,
    type=click.IntRange(min=1),
    help="Households per transaction (and checkpoint).",
)
@with_app
def households_rebuild(app: Flask, fix: bool, restart: bool, here: bool, batch_size: int) -> None:
    """Rebuild every household from the stored submissions and decisions and report every
    difference from the live state (0 differences is the normal result; exit 1 otherwise).

    One job per commune for the `giupho worker` processes (this command waits and shows
    the progress), --batch households per transaction; a stopped rebuild continues from each
    commune's checkpoint when run again (--restart starts from nothing)."""
    todo = household_rebuild.begin(fix=fix, restart=restart)
    if here or jobs.runner().kind == "inprocess":
        for commune_key in todo:
            household_rebuild.rebuild_commune(commune_key, batch_size)
    else:
        for commune_key in todo:
            jobs.defer("households.rebuild_commune", commune_key=commune_key, batch_size=batch_size)
        click.echo(f"{len(todo)} communes queued for `giupho worker`.", err=True)
        _wait_for_rebuild()
    found = 0
    for d in household_rebuild.differences():
        click.echo(f"{d.household_id}\t{d.field}\tlive={d.live!r}\trebuilt={d.rebuilt!r}")
        found += 1
    click.echo(f"{found} differences" + (" (fixed)" if fix and found else ""))
    if found and not fix:
        raise SystemExit(1)


def _wait_for_rebuild(every_s: float = 2.0) -> None:
    """Print the rebuild's progress until every commune is done."""
    shown = None
    while True:
        done = household_rebuild.progress()
        db.session.rollback()  # no transaction stays open while the workers write
        line = (f"communes {done.finished}/{done.communes}, households {done.households:,}, "
                f"differences {done.differences}")  # fmt: skip
        if line != shown:
            click.echo(line, err=True)
            shown = line
        if done.finished >= done.communes:
            return
        time.sleep(every_s)


@households_group.command("release")
@with_app
def households_release(app: Flask) -> None:
    """Apply the held household updates whose wait is over (GIUPHO_HOLD_TIMEOUT_HOURS)."""
    applied = household_periodic.release_in_batches()
    click.echo(f"{applied} held updates applied")


@click.group("duplicates")
def duplicates_group() -> None:
    """Duplicate households (D1-D4): look again for candidates, index old databases."""


@duplicates_group.command("recheck")
@click.option(
    "--since",
    "hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Recheck the households registered in the last HOURS.",
    metavar="HOURS",
)
@with_app
def duplicates_recheck(app: Flask, hours: float) -> None:
    """Look again for possible duplicates of recently registered households: two
    registrations committed at the same moment by two workers cannot see each other.
    A `giupho worker` runs it hourly; without one, run it (or `giupho periodic`) from cron
    with a window longer than the period. 200 households per transaction."""
    opened = household_periodic.recheck(hours)
    click.echo(f"{opened} possible duplicates opened")


@duplicates_group.command("index-missing")
@with_app
def duplicates_index_missing(app: Flask) -> None:
    """Index for duplicate detection every household that has no profile yet (a database
    from before duplicate detection). Idempotent: run it once after upgrading."""
    indexed = transactional(dedup.index_missing)()
    click.echo(f"{indexed} households indexed")


@duplicates_group.command("reindex")
@with_app
def duplicates_reindex(app: Flask) -> None:
    """Index every active household again, one transaction per 500: run it once after an
    upgrade that changed the blocking keys (issue 17 added every member's keys), so that
    households registered before are found as well as new ones. Cases stay as they are."""
    total, after = 0, ""
    while after is not None:
        done, after = transactional(dedup.reindex_batch)(after)
        total += done
    click.echo(f"{total} households indexed again")


COMMANDS = (run, db_group, seed_command, households_group, duplicates_group)


def register(group: click.Group) -> None:
    """Add the server commands to `group` (the `giupho` console script's top-level group)."""
    for command in COMMANDS:
        group.add_command(command)
