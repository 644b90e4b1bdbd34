"""Operator commands for the programme's structure: `giupho units ...`, `giupho agencies ...`,
`giupho assignments ...`, `giupho pairs ...` and the support ledger, `giupho support ...`.

Thin over `server.services.programme` (units, agencies, pairs). Like the users and devices
commands (`server.access_commands`) they run as the operator (actor None, allowed
everything), speak Vietnamese by default (`--lang en`), and print a refused or wrong
request's message on stderr with exit status 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa

from server import i18n
from server.access_commands import LANG_OPTION, _lang, _set_lang, operator, say
from server.db import db
from server.i18n import N_
from server.models import AdminUnit, Household, SupportEntry, User
from server.models.programme import (
    Agency,
    AgencyAssignment,
    AgencyKind,
    AgencyLevel,
    Pair,
    UnitCategory,
)
from server.models.support import SupportCategory, SupportSource
from server.problems import Problem
from server.services.access import users
from server.services.programme import agencies, ledger, pairs
from server.services.programme import units as admin_units
from server.services.sheets import ImportReport

KINDS = click.Choice([k.value for k in AgencyKind])
LEVELS = click.Choice([v.value for v in AgencyLevel])
CATEGORIES = click.Choice([c.value for c in UnitCategory])
DATE = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _unit(path: str):
    """The unit at `path` (or the commune with that code); Problem 404.6 otherwise."""
    found = admin_units.find(path.strip().strip("/"))
    if found is None and "/" not in path:
        communes = admin_units.find_commune_by_code(path.strip())
        found = communes[0] if len(communes) == 1 else None
    if found is None:
        raise Problem("404.6", unit=path)
    return found


def _user(username: str | None) -> User | None:
    if not username:
        return None
    found = users.find(username.strip().lower())
    if found is None:
        raise Problem("404.24", helper=username)
    return found


def _report(report: ImportReport, done: str) -> None:
    """Every row error and exit 1, or the counts."""
    if not report.ok:
        for error in report.errors:
            say(
                N_("Row %(row)s, column '%(column)s': %(message)s"),
                row=error.row,
                column=error.column,
                message=error.text(_lang()),
            )
        say(N_("%(count)s error(s): nothing was imported."), count=len(report.errors))
        raise SystemExit(1)
    say(done, created=len(report.created), updated=len(report.updated))


# -- units ---------------------------------------------------------------------------------------


@click.group("units")
@LANG_OPTION
@click.pass_context
def units_group(ctx: click.Context, lang: str) -> None:
    """Administrative units: import a province from the national list, villages from a sheet."""
    _set_lang(ctx, lang)


@units_group.command("import")
@click.argument("province")
@click.option("--commune", "communes", multiple=True, help="Only this commune code (repeatable).")
@click.option(
    "--districts",
    is_flag=True,
    help="The pre-2025 list: province, district, commune (legacy codes).",
)
@operator
def units_import(province: str, communes: tuple[str, ...], districts: bool) -> None:
    """Import PROVINCE (its code, e.g. 11) and its communes from vietnamadminunits."""
    result = admin_units.import_province(province, list(communes) or None, districts, actor=None)
    say(
        N_(
            "%(province)s: %(districts)s district(s), %(communes)s commune(s), %(created)s new "
            "unit(s)."
        ),
        province=result.province.name,
        districts=len(result.districts),
        communes=len(result.communes),
        created=result.created,
    )


@units_group.command("villages")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@operator
def units_villages(file: Path) -> None:
    """Villages from an XLSX or CSV file (columns commune, code, name, kind); nothing is
    created unless every row is good; a village already there is renamed."""
    report = admin_units.import_villages(file.read_bytes(), file.name, actor=None)
    for village in report.created + report.updated:
        click.echo(f"{village.path:<20} {village.kind or '':<6} {village.name}")
    _report(report, N_("%(created)s village(s) created, %(updated)s renamed."))


@units_group.command("list")
@click.argument("path", required=False)
@operator
def units_list(path: str | None) -> None:
    """List units (below PATH when given): path, level, name."""
    stmt = sa.select(AdminUnit).order_by(AdminUnit.path)
    if path:
        unit = _unit(path)
        stmt = stmt.where(sa.or_(AdminUnit.id == unit.id, AdminUnit.path.like(f"{unit.path}/%")))
    for unit in db.session.scalars(stmt):
        click.echo(f"{unit.path:<20} {unit.level.value:<9} {unit.name}")


# -- agencies ------------------------------------------------------------------------------------


def _describe_agency(agency) -> str:
    shown = agencies.described(agency)
    state = "" if agency.active else " " + i18n.gettext(N_("(inactive)"), _lang())
    extra = ", ".join(
        f"{key}={shown[key]}" for key in ("parent", "home_unit", "lead") if shown[key]
    )
    return (
        f"{agency.id:>5}  {agency.code:<16} {shown['kind']:<13} {shown['level']:<9} "
        f"{agency.name}{f' ({extra})' if extra else ''}{state}"
    )


@click.group("agencies")
@LANG_OPTION
@click.pass_context
def agencies_group(ctx: click.Context, lang: str) -> None:
    """Agencies, teams and mass organisations: create, list, edit."""
    _set_lang(ctx, lang)


@agencies_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The agency's name.")
@click.option("--kind", type=KINDS, default="agency", show_default=True)
@click.option("--level", type=LEVELS, default="province", show_default=True)
@click.option("--parent", default=None, help="The parent agency's code.")
@click.option("--home-unit", default=None, help="Its province or district (unit path).")
@click.option("--lead", default=None, help="The lead's user name.")
@operator
def agencies_create(code, name, kind, level, parent, home_unit, lead) -> None:
    """Create agency CODE (a team or organisation with --kind)."""
    agency = agencies.create_agency(
        code,
        name,
        kind,
        level,
        parent=agencies.get(parent) if parent else None,
        home_unit=_unit(home_unit) if home_unit else None,
        lead=_user(lead),
        actor=None,
    )
    click.echo(_describe_agency(agency))


@agencies_group.command("list")
@operator
def agencies_list() -> None:
    """List agencies: id, code, kind, level, name (parent, home unit, lead)."""
    for agency in db.session.scalars(sa.select(Agency).order_by(Agency.code)):
        click.echo(_describe_agency(agency))


@agencies_group.command("edit")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--kind", type=KINDS, default=None)
@click.option("--level", type=LEVELS, default=None)
@click.option("--parent", default=None, help="The parent's code ('' for none).")
@click.option("--home-unit", default=None, help="Unit path ('' for none).")
@click.option("--lead", default=None, help="The lead's user name ('' for none).")
@click.option("--active/--inactive", default=None)
@operator
def agencies_edit(code, name, kind, level, parent, home_unit, lead, active) -> None:
    """Change agency CODE (only what is given; audited before and after)."""
    changes: dict = {}
    for key, value in (("name", name), ("kind", kind), ("level", level), ("active", active)):
        if value is not None:
            changes[key] = value
    if parent is not None:
        changes["parent"] = agencies.get(parent) if parent else None
    if home_unit is not None:
        changes["home_unit"] = _unit(home_unit) if home_unit else None
    if lead is not None:
        changes["lead"] = _user(lead)
    agency = agencies.update_agency(agencies.get(code), actor=None, **changes)
    click.echo(_describe_agency(agency))


# -- assignments ---------------------------------------------------------------------------------


def _describe_assignment(assignment: AgencyAssignment) -> str:
    period = assignment.phase or agencies.period_text(assignment.starts_on, assignment.ends_on)
    if assignment.phase and assignment.ends_on is not None:
        period += f" ({assignment.starts_on} – {assignment.ends_on})"
    category = UnitCategory(assignment.category).value
    return (
        f"{assignment.id:>5}  {assignment.agency.code:<16} {assignment.unit.path:<16} "
        f"{category:<18} {period}  {assignment.unit.name}"
    )


@click.group("assignments")
@LANG_OPTION
@click.pass_context
def assignments_group(ctx: click.Context, lang: str) -> None:
    """Which agency helps which commune or village: add, end, list."""
    _set_lang(ctx, lang)


@assignments_group.command("add")
@click.argument("agency")
@click.argument("unit")
@click.option("--category", type=CATEGORIES, default="poor", show_default=True)
@click.option("--phase", default=None, help="A phase such as 2021-2025.")
@click.option("--from", "starts_on", type=DATE, default=None, help="First day (YYYY-MM-DD).")
@click.option(
    "--until", "ends_on", type=DATE, default=None, help="First day it no longer runs (YYYY-MM-DD)."
)
@click.option("--note", default=None)
@operator
def assignments_add(agency, unit, category, phase, starts_on, ends_on, note) -> None:
    """Assign AGENCY (its code) to help UNIT (a commune or village path)."""
    made = agencies.assign(
        agencies.get(agency),
        _unit(unit),
        category,
        phase=phase,
        starts_on=_date(starts_on),
        ends_on=_date(ends_on),
        note=note,
        actor=None,
    )
    click.echo(_describe_assignment(made))


@assignments_group.command("end")
@click.argument("assignment_id", type=int)
@click.option("--on", type=DATE, default=None, help="First day it no longer runs (today).")
@operator
def assignments_end(assignment_id: int, on) -> None:
    """End assignment ASSIGNMENT_ID (the row stays as history)."""
    found = db.session.get(AgencyAssignment, assignment_id)
    if found is None:
        raise Problem("404.21", assignment=assignment_id)
    click.echo(_describe_assignment(agencies.end_assignment(found, _date(on), actor=None)))


@assignments_group.command("list")
@click.option("--agency", default=None, help="Only this agency (code).")
@click.option("--unit", default=None, help="Only this unit and below (path).")
@click.option("--current", is_flag=True, help="Only those running today.")
@operator
def assignments_list(agency, unit, current) -> None:
    """List assignments, newest first."""
    stmt = agencies.assignments(
        None,
        agency=agencies.get(agency) if agency else None,
        unit=_unit(unit) if unit else None,
        current=current,
    )
    for assignment in db.session.scalars(stmt):
        click.echo(_describe_assignment(assignment))


# -- pairs ---------------------------------------------------------------------------------------


def _describe_pair(pair: Pair) -> str:
    helper = pairs.helper_of(pair)
    household = db.session.get(Household, pair.household_id)
    name = helper.username if isinstance(helper, User) else helper.code
    until = f" – {pair.ends_on}" if pair.ends_on else ""
    priority = f"#{pair.priority}" if pair.priority else ""
    return (
        f"{pair.id:>5}  {pair.household_id}  {name:<16} {priority:<4} {pair.starts_on}{until}  "
        f"{pairs.household_name(household)}"
    )


@click.group("pairs")
@LANG_OPTION
@click.pass_context
def pairs_group(ctx: click.Context, lang: str) -> None:
    """Who helps which household: add, end, reassign, import, list."""
    _set_lang(ctx, lang)


@pairs_group.command("add")
@click.argument("household")
@click.argument("helper")
@click.option("--priority", type=int, default=None, help="Rank among the helper's households.")
@click.option(
    "--note", "capacity_note", default=None, help="The household's capacity to escape poverty."
)
@click.option("--from", "starts_on", type=DATE, default=None, help="First day (today).")
@operator
def pairs_add(household, helper, priority, capacity_note, starts_on) -> None:
    """Pair HOUSEHOLD (id or household code) with HELPER (user name or team code)."""
    made = pairs.pair(
        pairs.find_household(None, household),
        pairs.find_helper(helper),
        priority=priority,
        capacity_note=capacity_note,
        starts_on=_date(starts_on),
        actor=None,
    )
    click.echo(_describe_pair(made))


def _pair(pair_id: int) -> Pair:
    found = db.session.get(Pair, pair_id)
    if found is None:
        raise Problem("404.22", pair=pair_id)
    return found


@pairs_group.command("end")
@click.argument("pair_id", type=int)
@click.option("--on", type=DATE, default=None, help="First day it no longer runs (today).")
@click.option("--reason", default=None)
@operator
def pairs_end(pair_id: int, on, reason) -> None:
    """End pair PAIR_ID (the row stays as history)."""
    click.echo(_describe_pair(pairs.end_pair(_pair(pair_id), _date(on), reason, actor=None)))


@pairs_group.command("reassign")
@click.argument("pair_id", type=int)
@click.argument("helper")
@click.option("--reason", default=None)
@operator
def pairs_reassign(pair_id: int, helper: str, reason) -> None:
    """Give pair PAIR_ID's household to HELPER from today; the old pair ends today."""
    new = pairs.reassign(_pair(pair_id), pairs.find_helper(helper), actor=None, reason=reason)
    click.echo(_describe_pair(new))


@pairs_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@operator
def pairs_import(file: Path) -> None:
    """Pairs from an XLSX or CSV file (columns household, helper, priority, capacity_note,
    starts_on); nothing is created unless every row is good."""
    report = pairs.import_pairs(file.read_bytes(), file.name, actor=None)
    for made in report.created:
        click.echo(_describe_pair(made))
    _report(report, N_("%(created)s pair(s) created."))


@pairs_group.command("list")
@click.option("--household", default=None, help="Only this household (id or code).")
@click.option("--helper", default=None, help="Only this helper (user name or team code).")
@click.option("--all", "everything", is_flag=True, help="Ended pairs too.")
@operator
def pairs_list(household, helper, everything) -> None:
    """List pairs, newest first (only those running today unless --all)."""
    stmt = pairs.listed(
        None,
        household=pairs.find_household(None, household) if household else None,
        helper=pairs.find_helper(helper) if helper else None,
        current=not everything,
    )
    for found in db.session.scalars(stmt):
        click.echo(_describe_pair(found))


# -- support ---------------------------------------------------------------------------------------

SOURCES = click.Choice([s.value for s in SupportSource])


def _describe_entry(entry: SupportEntry) -> str:
    place = entry.household_id or (_unit_path(entry.village_id or entry.commune_id))
    quantity = f"{entry.quantity:g} {entry.unit}" if entry.quantity is not None else ""
    value = f"{entry.value_vnd:,} đ".replace(",", ".") if entry.value_vnd is not None else ""
    voided = " (voided)" if entry.voided_at else ""
    return (
        f"{entry.id:>6}  {entry.given_on}  {entry.kind.code:<16} {quantity:<14} {value:>16}  "
        f"{SupportSource(entry.source_type).value:<16} {place}{voided}"
    )


def _unit_path(unit_id: int | None) -> str:
    unit = db.session.get(AdminUnit, unit_id) if unit_id else None
    return unit.path if unit is not None else ""


@click.group("support")
@LANG_OPTION
@click.pass_context
def support_group(ctx: click.Context, lang: str) -> None:
    """The support ledger: kinds, record, list, import."""
    _set_lang(ctx, lang)


@support_group.command("kinds")
@click.option("--add", "code", default=None, help="Add a kind with this code.")
@click.option("--category", type=click.Choice([c.value for c in SupportCategory]), default=None)
@click.option("--unit", default=None, help="Its unit (vnd, kg, set, head...).")
@click.option("--name-vi", default=None)
@click.option("--name-en", default=None)
@click.option("--group", default=None, help="Its group in reports.")
@click.option("--pupils", is_flag=True, help="Its entries count pupils.")
@click.option("--deactivate", default=None, help="No longer offer this kind (its code).")
@operator
def support_kinds(code, category, unit, name_vi, name_en, group, pupils, deactivate) -> None:
    """List the catalogue; or add a kind (--add CODE --category --unit --name-vi), or
    deactivate one (--deactivate CODE)."""
    if code:
        for option, value in (("category", category), ("unit", unit), ("name-vi", name_vi)):
            if not value:
                raise Problem("400.2", field=option)
        ledger.add_kind(code, category, unit, name_vi, name_en or "", group, pupils, actor=None)
    if deactivate:
        ledger.deactivate_kind(ledger.get_kind(deactivate), actor=None)
    for kind in ledger.kinds():
        active = "" if kind.active else " (inactive)"
        click.echo(
            f"{kind.code:<18} {SupportCategory(kind.category).value:<12} {kind.unit:<8} "
            f"{kind.name_vi} / {kind.name_en}{active}"
        )


@support_group.command("record")
@click.argument("kind")
@click.argument("recipient")
@click.option("--quantity", type=float, default=None)
@click.option("--value", "value_vnd", type=int, default=None, help="Value in VND.")
@click.option("--on", "given_on", type=DATE, default=None, help="Date given (today).")
@click.option("--source", type=SOURCES, default=None)
@click.option("--agency", default=None, help="The giving agency's code.")
@click.option("--giver", default=None, help="The giver's name.")
@click.option("--pupils", type=int, default=None)
@click.option("--description", default=None)
@operator
def support_record(kind, recipient, quantity, value_vnd, given_on, source, agency, giver,
                   pupils, description) -> None:  # fmt: skip
    """Record support of KIND (a catalogue code) to RECIPIENT: a household (id or household
    code), or a commune or village (unit path, or a commune code)."""
    households = pairs.find_households(None, recipient)
    if len(households) == 1:
        to = ledger.recipient(household=households[0])
    else:
        to = ledger.recipient(unit=_unit(recipient))
    made = ledger.record(
        None,
        ledger.get_kind(kind),
        to,
        quantity=quantity,
        value_vnd=value_vnd,
        given_on=_date(given_on),
        source_type=source,
        source_agency=agencies.get(agency) if agency else None,
        source_name=giver,
        pupils=pupils,
        description=description,
    )
    click.echo(_describe_entry(made))


@support_group.command("list")
@click.option("--unit", default=None, help="Only this commune or village (path or code).")
@click.option("--kind", default=None, help="Only this kind (code).")
@click.option("--source", type=SOURCES, default=None)
@click.option("--from", "date_from", type=DATE, default=None)
@click.option("--until", "date_to", type=DATE, default=None, help="Last day (inclusive).")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@operator
def support_list(unit, kind, source, date_from, date_to, limit) -> None:
    """List entries that count, newest first."""
    filters = ledger.Filters(
        unit=_unit(unit) if unit else None,
        kind=ledger.get_kind(kind) if kind else None,
        source_type=SupportSource(source) if source else None,
        date_from=_date(date_from),
        date_to=_date(date_to),
    )
    for entry in ledger.listed(None, filters, limit=limit).items:
        click.echo(_describe_entry(entry))


@support_group.command("backfill")
@operator
def support_backfill() -> None:
    """Write the ledger entries of visits received before the ledger existed (after an
    upgrade; `giupho run` does it by itself). Safe to run again: nothing counts twice."""
    written = ledger.backfill_form_entries()
    say(N_("Support entries written from earlier visits: %(count)s"), count=written)


@support_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@operator
def support_import(file: Path) -> None:
    """Entries from an XLSX or CSV file (columns kind, household or unit, quantity,
    value_vnd, given_on, source, source_name, pupils, kind_other, description); nothing is
    recorded unless every row is good."""
    report = ledger.import_entries(None, file.read_bytes(), file.name)
    for made in report.created:
        click.echo(_describe_entry(made))
    _report(report, N_("%(created)s entry(ies) recorded."))


COMMANDS = (units_group, agencies_group, assignments_group, pairs_group, support_group)
