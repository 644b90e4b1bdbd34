"""Operator commands that put forms on the server: `giupho form upload|publish|close|versions`.

Mounted on the pure `giupho form` group (`forms.cli`: check, validate), so an operator checks
a file and then loads it with the same word: `giupho form check f.xlsx`, then `giupho form
upload f.xlsx --publish`. Thin over `server.services.forms.publishing`, the service the API
and the site's form pages call; run as the operator (actor None), Vietnamese by default,
a refused request's message on stderr with exit status 1. An upload that the form's own
problems refuse prints each one with its sheet, row and fix, as `giupho form check` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask

from forms.cli import format_problem
from forms.errors import FormProblem
from server import i18n
from server.access_commands import LANG_OPTION, _lang, _set_lang, say
from server.commands import with_app
from server.db import db
from server.i18n import N_
from server.models import FormState
from server.problems import Problem
from server.services.forms import publishing
from server.services.programme import units as admin_units


def _operator(command: Callable) -> Callable:
    """As `access_commands.operator`, and a refused form lists its problems first."""

    @with_app
    @functools.wraps(command)
    def wrapper(app: Flask, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Problem as problem:
            db.session.rollback()
            for found in (problem.details or {}).get("problems", []):
                click.echo(format_problem(FormProblem(**found)), err=True)
            click.echo(problem.message(_lang()), err=True)
            raise SystemExit(1) from None

    return wrapper


@click.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", default=None, help="Unit path: only that area sees the form.")
@click.option("--publish", "publish_now", is_flag=True, help="Publish it at once.")
@LANG_OPTION
@click.pass_context
@_operator
def upload_command(ctx, file: Path, unit: str | None, publish_now: bool, lang: str) -> None:
    """Upload an XLSForm or XForm as a draft (or published with --publish)."""
    _set_lang(ctx, lang)
    where = admin_units.find(unit.strip("/")) if unit else None
    if unit and where is None:
        raise Problem("404.6", unit=unit)
    result = publishing.upload(file.read_bytes(), file.name, None, where)
    version = result.version
    if publish_now and version.state == FormState.DRAFT:
        publishing.publish(None, version.form.form_id, version.version)
    if result.created:
        said = N_("Form %(form_id)s version %(version)s uploaded; it is %(now)s.")
    else:
        said = N_("Form %(form_id)s version %(version)s was already here; it is %(now)s.")
    say(said, form_id=version.form.form_id, version=version.version, now=_state(version.state))


def _state(state) -> str:
    return i18n.gettext(publishing.STATE_WORDS[state], _lang())


def _transition(name: str, verb: Callable, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("form_id")
    @click.argument("version")
    @LANG_OPTION
    @click.pass_context
    @_operator
    def command(ctx, form_id: str, version: str, lang: str) -> None:
        _set_lang(ctx, lang)
        found = verb(None, form_id, version)
        say(
            N_("Form %(form_id)s version %(version)s is now %(now)s."),
            form_id=form_id,
            version=version,
            now=_state(found.state),
        )

    return command


publish_command = _transition("publish", publishing.publish, "Publish a draft version.")
close_command = _transition("close", publishing.close, "Close a version: no new submissions.")


@click.command("versions")
@click.argument("form_id", required=False)
@LANG_OPTION
@click.pass_context
@_operator
def versions_command(ctx, form_id: str | None, lang: str) -> None:
    """List the forms on the server and their versions (one form with FORM_ID)."""
    _set_lang(ctx, lang)
    for form, versions in publishing.every_form():
        if form_id and form.form_id != form_id:
            continue
        click.echo(f"{form.form_id}  {form.title}")
        for version in versions:
            stamp = version.created_at.strftime("%Y-%m-%d %H:%M")
            click.echo(f"    {version.version:<14} {_state(version.state):<14} {stamp}")


COMMANDS = (upload_command, publish_command, close_command, versions_command)
