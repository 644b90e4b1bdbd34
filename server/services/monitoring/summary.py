"""The periodic summary of monitoring for the standing office (ban chỉ đạo / thường trực): for a
period, per commune the visits, the time spent, the households not visited, the flags per check
and what people decided; per agency and commune the stays against the plan.

Built as `reports.tables.Table`s, so the page shows, the print lays out and the exports write
(kind `monitoring`, XLSX or CSV) the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server import i18n
from server.db import db
from server.i18n import N_
from server.models import AdminUnit, Household, HouseholdStatus, User
from server.models.monitoring import (
    AgencyVisit,
    AgencyVisitPlan,
    FlagState,
    MonitoringFlag,
    VisitEvidence,
)
from server.models.places import UnitLevel
from server.services.access import scope
from server.services.monitoring import view
from server.services.monitoring.catalogue import CHECKS
from server.services.reports.periods import Period
from server.services.reports.tables import Column, Table


@dataclass
class Summary:
    period: Period
    tables: list[Table]


def _col(key: str, label: str, kind="count") -> Column:
    return Column(key, i18n.gettext(label, "vi"), i18n.gettext(label, "en"), kind)


def build(user: User, period: Period) -> Summary:
    view.require_monitor(user)
    return Summary(period, [_communes(user, period), _agencies(user, period)])


def _communes(user: User, period: Period) -> Table:
    start, end = view.bounds(period)
    when = view.visit_time()
    ids = scope.unit_ids(user)
    communes = sa.select(AdminUnit.id, AdminUnit.name).where(
        AdminUnit.level == UnitLevel.COMMUNE, *([AdminUnit.id.in_(ids)] if ids is not None else [])
    )
    names = dict(db.session.execute(communes).all())
    rows = {c: {"visits": 0, "hours": 0.0, "households": 0, "unvisited": 0} for c in names}
    visits = (
        sa.select(
            VisitEvidence.commune_id,
            sa.func.count(),
            sa.func.sum(VisitEvidence.duration_seconds),
        )
        .where(view.evidence_scope(user), when >= start, when < end)
        .group_by(VisitEvidence.commune_id)
    )
    for commune, count, seconds in db.session.execute(visits):
        if commune in rows:
            rows[commune] |= {"visits": count, "hours": round((seconds or 0) / 3600, 1)}
    visited = sa.select(VisitEvidence.household_id).where(when >= start, when < end)
    households = (
        sa.select(
            Household.commune_id,
            sa.func.count(),
            sa.func.count().filter(Household.id.not_in(visited.scalar_subquery())),
        )
        .where(Household.status == HouseholdStatus.ACTIVE, Household.commune_id.in_(list(names)))
        .group_by(Household.commune_id)
    )
    for commune, count, unvisited in db.session.execute(households):
        rows[commune] |= {"households": count, "unvisited": unvisited}
    flags = (
        view.flags_in(user, period)
        .with_only_columns(
            MonitoringFlag.commune_id, MonitoringFlag.check, MonitoringFlag.state, sa.func.count()
        )
        .group_by(MonitoringFlag.commune_id, MonitoringFlag.check, MonitoringFlag.state)
    )
    for commune, check, state, count in db.session.execute(flags):
        if commune in rows:
            r = rows[commune]
            key = FlagState(state).value
            r[check], r[key] = r.get(check, 0) + count, r.get(key, 0) + count
    columns = [
        _col("commune", N_("Commune"), "text"),
        _col("visits", N_("Visits")),
        _col("hours", N_("Hours spent"), "quantity"),
        _col("households", N_("Households")),
        _col("unvisited", N_("Households not visited")),
        *[_col(code, check.title) for code, check in CHECKS.items()],
        _col("open", N_("Open")),
        _col("confirmed", N_("Confirmed")),
        _col("dismissed", N_("Dismissed")),
    ]
    order = sorted(rows, key=lambda c: (names[c], c))
    return Table(
        "monitoring_communes",
        i18n.gettext(N_("Visits and flags per commune"), "vi"),
        i18n.gettext("Visits and flags per commune", "en"),
        columns,
        [[names[c]] + [rows[c].get(col.key, 0) for col in columns[1:]] for c in order],
    )


def _agencies(user: User, period: Period) -> Table:
    """Stays of each agency in each commune in `period`, against the plans of its years."""
    ids = scope.unit_ids(user)
    led = scope.led_agency_ids(user)

    def seen(model):
        if ids is None:
            return sa.true()
        return sa.or_(model.commune_id.in_(ids), model.agency_id.in_(led))

    rows: dict[tuple[int, int], list[float]] = {}
    done = (
        sa.select(AgencyVisit.agency_id, AgencyVisit.commune_id, sa.func.count(),
                  sa.func.sum(AgencyVisit.days))
        .where(seen(AgencyVisit), AgencyVisit.voided_at.is_(None),
               AgencyVisit.visited_on >= period.start, AgencyVisit.visited_on < period.end)
        .group_by(AgencyVisit.agency_id, AgencyVisit.commune_id)
    )  # fmt: skip
    for agency, commune, count, days in db.session.execute(done):
        rows[(agency, commune)] = [count, float(days or 0), 0, 0.0]
    planned = (
        sa.select(AgencyVisitPlan.agency_id, AgencyVisitPlan.commune_id,
                  sa.func.sum(AgencyVisitPlan.visits_planned),
                  sa.func.sum(AgencyVisitPlan.days_planned))
        .where(seen(AgencyVisitPlan), AgencyVisitPlan.year >= period.start.year,
               AgencyVisitPlan.year <= period.last_day.year)
        .group_by(AgencyVisitPlan.agency_id, AgencyVisitPlan.commune_id)
    )  # fmt: skip
    for agency, commune, visits, days in db.session.execute(planned):
        row = rows.setdefault((agency, commune), [0, 0.0, 0, 0.0])
        row[2:] = [visits or 0, float(days or 0)]
    agencies = view.agency_names({a for a, _c in rows})
    communes = view.names_of("commune", {c for _a, c in rows})
    order = sorted(rows, key=lambda k: (agencies.get(k[0], ""), communes.get(k[1], "")))
    columns = [
        _col("agency", N_("Agency"), "text"),
        _col("commune", N_("Commune"), "text"),
        _col("stays", N_("Stays done")),
        _col("days", N_("Days done"), "quantity"),
        _col("stays_planned", N_("Stays planned")),
        _col("days_planned", N_("Days planned"), "quantity"),
    ]
    return Table(
        "monitoring_agencies",
        i18n.gettext(N_("Agency stays against the plan"), "vi"),
        i18n.gettext("Agency stays against the plan", "en"),
        columns,
        [[agencies.get(a, ""), communes.get(c, "")] + rows[(a, c)] for a, c in order],
    )
