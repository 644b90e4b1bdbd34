"""Operator commands for users and devices: `giupho users ...` and `giupho devices ...`.

Thin over `server.services.access.users` and `devices`. They run as the operator (the
system: actor None, allowed everything) and speak the operator's language (`--lang`,
Vietnamese by default): a refused or wrong request prints the problem's message on stderr
and exits with status 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app

from server import i18n
from server.commands import with_app
from server.db import db
from server.i18n import N_
from server.models import Device, Role, User
from server.models.programme import Agency
from server.problems import Problem
from server.services.access import devices, users

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(i18n.LANGUAGES),
    default="vi",
    show_default=True,
    help="Language of messages (vi: Vietnamese, en: English).",
)


def _lang() -> str:
    return click.get_current_context().meta.get("giupho.lang", "vi")


def say(msgid: str, **params) -> None:
    """Print `msgid` in the operator's language, formatted with `params`."""
    click.echo(i18n.gettext(msgid, _lang()) % params)


def operator(command: Callable) -> Callable:
    """Run `command` in the app as the operator; a Problem becomes a message and exit 1."""

    @with_app
    @functools.wraps(command)
    def wrapper(app: Flask, *args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Problem as problem:
            db.session.rollback()
            click.echo(problem.message(_lang()), err=True)
            raise SystemExit(1) from None

    return wrapper


def _set_lang(ctx: click.Context, lang: str) -> None:
    ctx.meta["giupho.lang"] = lang


def _role_label(role: Role) -> str:
    return i18n.gettext(users.ROLE_LABELS[role], _lang())


def _agency_code(user: User) -> str:
    agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
    return agency.code if agency is not None else ""


def _describe(user: User) -> str:
    units = ", ".join(u.path for u in user.units) or "-"
    state = "" if user.active else " " + i18n.gettext(N_("(deactivated)"), _lang())
    agency = _agency_code(user)
    agency = f" [{agency}]" if agency else ""
    return (
        f"{user.id:>5}  {user.username:<20} {_role_label(user.role):<16} "
        f"{user.full_name} ({units}){agency}{state}"
    )


# -- users -----------------------------------------------------------------------------------


@click.group("users")
@LANG_OPTION
@click.pass_context
def users_group(ctx: click.Context, lang: str) -> None:
    """Users: create, list, edit, deactivate and activate, reset passwords, import a sheet."""
    _set_lang(ctx, lang)


@users_group.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as people write it.")
@click.option("--role", required=True, help="cadre, commune_official, coordinator, "
              "agency_lead, admin (or 'cán bộ', 'cán bộ xã', 'điều phối', ...).")  # fmt: skip
@click.option("--unit", "units", multiple=True, help="Unit path or commune code (repeatable).")
@click.option("--agency", default=None, help="The code of the user's agency.")
@click.option("--password", default=None, help="Password; without it one is made and shown.")
@click.option("--no-password", is_flag=True, help="No password: the user signs in by device.")
@operator
def users_create(username, full_name, role, units, agency, password, no_password) -> None:
    """Create a user working in the given units."""
    if password is None and not no_password:
        password = users.temporary_password()
        shown = password
    else:
        shown = None
    user = users.create_user(username, full_name, role, password, units, agency, actor=None)
    say(N_("Created user %(username)s (%(role)s)."), username=user.username,
        role=_role_label(user.role))  # fmt: skip
    if shown:
        say(N_("Temporary password (shown only now): %(password)s"), password=shown)


@users_group.command("list")
@click.option("--q", default=None, help="Part of the user name or full name.")
@click.option("--role", default=None, help="Only this role.")
@click.option("--unit", default=None, help="Only users working at or below this unit.")
@operator
def users_list(q, role, unit) -> None:
    """List users (id, user name, role, full name, units, agency)."""
    place = None
    if unit:
        place = users.find_unit(unit)
        if place is None:
            raise Problem("400.21", unit=unit)
    stmt = users.listed(None, q=q, role=users.parse_role(role) if role else None,
                        unit=place).order_by(User.id)  # fmt: skip
    for user in db.session.scalars(stmt):
        click.echo(_describe(user))


@users_group.command("edit")
@click.argument("username")
@click.option("--name", "full_name", default=None, help="New full name.")
@click.option("--role", default=None, help="New role.")
@click.option("--unit", "units", multiple=True, help="New units (replace the old; repeatable).")
@click.option("--agency", default=None, help="New agency code ('' for none).")
@operator
def users_edit(username, full_name, role, units, agency) -> None:
    """Change a user's full name, role, units or agency (only what is given)."""
    changes = {}
    if full_name is not None:
        changes["full_name"] = full_name
    if role is not None:
        changes["role"] = role
    if units:
        changes["units"] = list(units)
    if agency is not None:
        changes["agency"] = agency or None
    user = users.update_user(users.by_username(username), actor=None, **changes)
    click.echo(_describe(user))


@users_group.command("deactivate")
@click.argument("username")
@operator
def users_deactivate(username) -> None:
    """Deactivate a user: sessions end, passwords and devices stop working."""
    user = users.set_active(users.by_username(username), False, None)
    say(N_("User %(username)s is deactivated."), username=user.username)


@users_group.command("activate")
@click.argument("username")
@operator
def users_activate(username) -> None:
    """Activate a deactivated user again."""
    user = users.set_active(users.by_username(username), True, None)
    say(N_("User %(username)s is active."), username=user.username)


@users_group.command("reset-password")
@click.argument("username")
@operator
def users_reset_password(username) -> None:
    """Give a user a new random password and print it (once)."""
    user = users.by_username(username)
    password = users.reset_password(user, None)
    say(N_("New password of %(username)s (shown only now): %(password)s"),
        username=user.username, password=password)  # fmt: skip


@users_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@operator
def users_import(file: Path) -> None:
    """Create the users of an XLSX or CSV file (columns username, full_name, role, units
    separated by ';', agency, password). Nothing is created unless every row is good."""
    report = users.import_users(file.read_bytes(), file.name, None)
    if not report.ok:
        for error in report.errors:
            say(N_("Row %(row)s, column '%(column)s': %(message)s"), row=error.row,
                column=error.column, message=error.text(_lang()))  # fmt: skip
        say(N_("%(count)s error(s): nothing was imported."), count=len(report.errors))
        raise SystemExit(1)
    for user in report.created:
        click.echo(_describe(user))
    say(N_("%(count)s user(s) created."), count=len(report.created))


# -- devices ---------------------------------------------------------------------------------


@click.group("devices")
@LANG_OPTION
@click.pass_context
def devices_group(ctx: click.Context, lang: str) -> None:
    """Devices: enrol ODK Collect by QR code, list, revoke."""
    _set_lang(ctx, lang)


@devices_group.command("enrol")
@click.argument("username")
@click.option("--name", default="ODK Collect", show_default=True, help="The device's name.")
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the QR code to this PNG file.")  # fmt: skip
@click.option("--url", "base_url", default=None,
              help="The server address tablets reach (default: GIUPHO_PUBLIC_URL).")  # fmt: skip
@operator
def devices_enrol(username, name, png, base_url) -> None:
    """Enrol a device for USERNAME: print its ODK Collect URL and QR code (shown only now)."""
    base = base_url or current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    enrolment = devices.enrol(users.by_username(username), name, None, base)
    say(N_("Device %(id)s of %(username)s. Scan this QR code in ODK Collect, or enter the "
           "server URL (shown only now):"), id=enrolment.device.id,
        username=username)  # fmt: skip
    click.echo(enrolment.url)
    click.echo(devices.qr_terminal(enrolment.qr_payload))
    say(N_("The QR code's text (Collect's settings, for a QR generator):"))
    click.echo(enrolment.qr_payload)
    if png is not None:
        png.write_bytes(devices.qr_png(enrolment.qr_payload))
        say(N_("QR code written to %(file)s."), file=str(png))


@devices_group.command("list")
@click.argument("username", required=False)
@operator
def devices_list(username) -> None:
    """List devices (of USERNAME when given): id, user, name, created, last seen, revoked."""
    user = users.by_username(username) if username else None
    stmt = devices.listed(None, user).order_by(Device.id)
    for device in db.session.scalars(stmt):
        seen = device.last_seen_at.strftime("%Y-%m-%d %H:%M") if device.last_seen_at else "-"
        revoked = i18n.gettext(N_("revoked"), _lang()) if device.revoked_at else ""
        click.echo(f"{device.id:>5}  {device.user.username:<20} {device.name:<24} "
                   f"{device.created_at:%Y-%m-%d}  {seen}  {revoked}")  # fmt: skip


@devices_group.command("revoke")
@click.argument("device_id", type=int)
@operator
def devices_revoke(device_id: int) -> None:
    """Revoke device ID: its token stops working at once."""
    device = devices.visible_device(None, device_id)
    devices.revoke(device, None)
    say(N_("Device %(id)s of %(username)s is revoked."), id=device.id,
        username=device.user.username)  # fmt: skip


COMMANDS = (users_group, devices_group)
