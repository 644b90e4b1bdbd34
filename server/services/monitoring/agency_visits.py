"""Agency stays in the communes they help (Điện Biên's 708/QĐ-UBND asks for longer stays with
a plan): record, list and void a stay (`AgencyVisit`), and set the year's plan per agency and
commune (`AgencyVisitPlan`).

Who writes: the lead of the agency, for the communes it is assigned to; the commune's
officials; coordinators and administrators in scope. Who reads: everyone of monitoring
(`view.MONITORS`), their communes' stays and their agency's. Every write is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, Agency, Role, User
from server.models.base import utcnow
from server.models.monitoring import AgencyVisit, AgencyVisitPlan
from server.models.places import UnitLevel
from server.problems import N_, Problem
from server.services import audit
from server.services.access import scope
from server.services.monitoring import view
from server.services.paging import Page, keyset_page
from server.services.programme import today

#: A stay of more than a year, or a delegation of more than this many people, is a typo.
MAX_DAYS, MAX_PEOPLE = 366, 500


def _visible(user: User) -> sa.ColumnElement[bool]:
    ids = scope.unit_ids(user)
    if ids is None:
        return sa.true()
    return sa.or_(
        AgencyVisit.commune_id.in_(ids), AgencyVisit.agency_id.in_(scope.led_agency_ids(user))
    )


def require_writer(user: User, agency: Agency, commune: AdminUnit) -> None:
    """403.87 unless `user` may record `agency`'s stays in `commune`."""
    view.require_monitor(user)
    if commune.level != UnitLevel.COMMUNE:
        raise Problem("400.87", reason=N_("%(unit)s is not a commune"), unit=commune.name)
    if user.role == Role.AGENCY_LEAD:
        allowed = db.session.scalar(
            sa.select(
                sa.and_(
                    sa.literal(agency.id).in_(scope.led_agency_ids(user)),
                    sa.literal(commune.id).in_(scope.agency_unit_ids(user)),
                )
            )
        )
    else:
        allowed = db.session.scalar(scope.in_scope(user, commune))
    if not allowed:
        raise Problem("403.87", agency=agency.name, commune=commune.name)


@dataclass(frozen=True)
class Stay:
    """What a person reports of a stay (validated by `record`)."""

    visited_on: dt.date
    days: float
    people: int
    purpose: str
    names: str | None = None
    result: str | None = None
    planned: bool = False


def _validate(stay: Stay) -> None:
    if stay.visited_on > today():
        raise Problem("400.87", reason=N_("the date is in the future"))
    if not 0 < stay.days <= MAX_DAYS:
        raise Problem(
            "400.87", reason=N_("days must be more than 0 and at most %(most)s"), most=MAX_DAYS
        )
    if not 1 <= stay.people <= MAX_PEOPLE:
        raise Problem("400.87", reason=N_("people must be from 1 to %(most)s"), most=MAX_PEOPLE)
    if not stay.purpose.strip():
        raise Problem("400.87", reason=N_("say what the stay was for (purpose)"))


def record(user: User, agency: Agency, commune: AdminUnit, stay: Stay) -> AgencyVisit:
    require_writer(user, agency, commune)
    _validate(stay)
    made = AgencyVisit(
        agency_id=agency.id,
        commune_id=commune.id,
        visited_on=stay.visited_on,
        days=stay.days,
        people=stay.people,
        names=(stay.names or "").strip() or None,
        purpose=stay.purpose.strip(),
        result=(stay.result or "").strip() or None,
        planned=stay.planned,
        recorded_by_id=user.id,
    )
    db.session.add(made)
    audit.record(user, "agency_visit.record", made, agency=agency.code, days=stay.days)
    db.session.commit()
    return made


def listed(
    user: User, agency_id: int | None, commune_id: int | None, year: int | None, after, limit=50
) -> Page:
    """The stays `user` may read (voided ones included, marked), newest first."""
    view.require_monitor(user)
    stmt = sa.select(AgencyVisit).where(_visible(user))
    if agency_id is not None:
        stmt = stmt.where(AgencyVisit.agency_id == agency_id)
    if commune_id is not None:
        stmt = stmt.where(AgencyVisit.commune_id == commune_id)
    if year is not None:
        stmt = stmt.where(
            AgencyVisit.visited_on >= dt.date(year, 1, 1),
            AgencyVisit.visited_on < dt.date(year + 1, 1, 1),
        )
    return keyset_page(stmt, AgencyVisit.id, after, limit, descending=True)


def void(user: User, visit_id: int, reason: str | None) -> AgencyVisit:
    view.require_monitor(user)
    stmt = sa.select(AgencyVisit).where(AgencyVisit.id == visit_id, _visible(user))
    found = db.session.scalar(stmt.with_for_update())
    if found is None:
        raise Problem("404.86", visit_id=visit_id)
    require_writer(
        user, db.session.get(Agency, found.agency_id), db.session.get(AdminUnit, found.commune_id)
    )
    text = (reason or "").strip()
    if not text or len(text) > 500:
        raise Problem("400.87", reason=N_("say why the stay is voided (at most 500 characters)"))
    if found.voided_at is not None:
        raise Problem("409.87", visit_id=visit_id)
    found.voided_at, found.void_reason = utcnow(), text
    audit.record(user, "agency_visit.void", found, reason=text)
    db.session.commit()
    return found


def set_plan(
    user: User, agency: Agency, commune: AdminUnit, year: int, visits: int, days: float,
    note: str | None = None,
) -> AgencyVisitPlan:  # fmt: skip
    """The year's plan of `agency` in `commune` (made or replaced; audited)."""
    require_writer(user, agency, commune)
    if not 2000 <= year <= 2100:
        raise Problem("400.87", reason=N_("give a year like 2026"))
    if not 0 <= visits <= 366 or not 0 <= days <= MAX_DAYS:
        raise Problem("400.87", reason=N_("planned stays and days must be from 0 to 366"))
    plan = db.session.scalar(
        sa.select(AgencyVisitPlan)
        .where(
            AgencyVisitPlan.agency_id == agency.id,
            AgencyVisitPlan.commune_id == commune.id,
            AgencyVisitPlan.year == year,
        )
        .with_for_update()
    )
    if plan is None:
        plan = AgencyVisitPlan(agency_id=agency.id, commune_id=commune.id, year=year)
        db.session.add(plan)
    plan.visits_planned, plan.days_planned = visits, days
    plan.note, plan.created_by_id = (note or "").strip() or None, user.id
    audit.record(user, "agency_visit.plan", plan, year=year, visits=visits, days=days)
    db.session.commit()
    return plan


def plans(user: User, year: int) -> list[AgencyVisitPlan]:
    """The year's plans in `user`'s scope (bounded: an agency plans once per commune)."""
    view.require_monitor(user)
    stmt = sa.select(AgencyVisitPlan).where(AgencyVisitPlan.year == year)
    ids = scope.unit_ids(user)
    if ids is not None:
        stmt = stmt.where(
            sa.or_(
                AgencyVisitPlan.commune_id.in_(ids),
                AgencyVisitPlan.agency_id.in_(scope.led_agency_ids(user)),
            )
        )
    return list(db.session.scalars(stmt.order_by(AgencyVisitPlan.id)))


def done(user: User, year: int) -> dict[tuple[int, int], tuple[int, float]]:
    """(agency, commune) -> (stays, days) in `year`, voided stays left out, in scope."""
    stmt = (
        sa.select(
            AgencyVisit.agency_id,
            AgencyVisit.commune_id,
            sa.func.count(),
            sa.func.sum(AgencyVisit.days),
        )
        .where(
            _visible(user),
            AgencyVisit.voided_at.is_(None),
            AgencyVisit.visited_on >= dt.date(year, 1, 1),
            AgencyVisit.visited_on < dt.date(year + 1, 1, 1),
        )
        .group_by(AgencyVisit.agency_id, AgencyVisit.commune_id)
    )
    return {(a, c): (n, float(d or 0)) for a, c, n, d in db.session.execute(stmt)}
