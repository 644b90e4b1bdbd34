"""Operator commands of token-visit monitoring: `giupho monitoring check`.

Thin over `server.services.monitoring.runs`. Run it daily (cron) after the day's syncs: ingest
only raises the flags a visit answers by itself; the checks that compare visits (fast runs,
copied answers, clock jumps), neglected households and agencies' stays run here. Like the
other operator commands it speaks Vietnamese by default (`--lang en`) and prints a refused
request's message on stderr with exit status 1.
"""

from __future__ import annotations

import datetime as dt

import click

from server.access_commands import LANG_OPTION, _set_lang, operator, say
from server.i18n import N_
from server.models.places import UnitLevel
from server.problems import Problem
from server.services.monitoring import runs
from server.services.programme import units as admin_units

DATE = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])


@click.group("monitoring")
@LANG_OPTION
@click.pass_context
def monitoring_group(ctx: click.Context, lang: str) -> None:
    """Token-visit monitoring: run the checks that flag visits, households and agencies."""
    _set_lang(ctx, lang)


@monitoring_group.command("check")
@click.option("--commune", help="Only this commune (its code or unit path); all by default.")
@click.option("--on", "on", type=DATE, help="The day checked (default: today).")
@operator
def monitoring_check(commune: str | None, on: dt.datetime | None) -> None:
    """Run every check up to a day and write the flags (each once; decided ones kept)."""
    commune_id = None
    if commune:
        unit = admin_units.find(commune.strip().strip("/"))
        if unit is not None and unit.level != UnitLevel.COMMUNE:
            raise Problem("400.80", unit=unit.name)
        found = admin_units.find_commune_by_code(commune.strip())
        if len(found) != 1:
            raise Problem("404.6", unit=commune)
        commune_id = found[0].id
    report = runs.run_checks(commune_id, on.date() if on else None)
    say(
        N_("%(communes)s commune(s), %(visits)s visit(s) checked: %(new)s new flag(s), "
           "%(updated)s open flag(s) updated, %(decided)s decided flag(s) left as they are."),
        communes=report.communes,
        visits=report.visits,
        new=sum(report.new.values()),
        updated=report.updated,
        decided=report.decided,
    )  # fmt: skip
    for check, count in sorted(report.new.items()):
        click.echo(f"  {check}: {count}")


COMMANDS = (monitoring_group,)
