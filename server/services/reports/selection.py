"""What a report covers: a unit's or an agency's communes in a period, checked against the
reader's scope, and the SQL of the records behind each figure.

A `Selection` is parsed once from the request (`level`, `unit` or `agency`, the period) and
then only hands out SQL: every select is bounded by the selection's communes (and, for an
agency, by the agency's people), never by a table's size, so a province report reads the
rows of its own communes through the indexes on `commune_id`. The figures count these
selects; the records pages list them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from forms.library import VISIT_FORM_ID
from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    AgencyAssignment,
    ExitDecision,
    Form,
    FormVersion,
    Household,
    HouseholdVersion,
    Pair,
    PovertyExit,
    ReviewState,
    Role,
    Submission,
    SupportEntry,
    SupportSource,
    UnitLevel,
    User,
)
from server.models.people import user_scope
from server.problems import Problem
from server.services.access import scope
from server.services.programme.ledger import live_entries
from server.services.reports.periods import Period
from server.services.review import exits

LEVELS = ("province", "district", "commune", "agency")
#: Who reads reports: everyone but cadres (they read their own households on the tablet).
READERS = frozenset({Role.COORDINATOR, Role.COMMUNE_OFFICIAL, Role.AGENCY_LEAD, Role.ADMIN})
#: Sources whose help the province reports as "mobilised", apart from the programme's own.
MOBILISED = (SupportSource.BUSINESS, SupportSource.DONOR)
POOR, NEAR_POOR = "poor", "near_poor"
MAX_ID = 2**31 - 1


@dataclass
class Selection:
    actor: User
    level: str
    period: Period
    unit: AdminUnit | None = None
    agency: Agency | None = None

    # -- where ------------------------------------------------------------------------------

    def params(self) -> dict[str, str]:
        """The query parameters that name this report again (links, exports)."""
        where = {"agency": str(self.agency.id)} if self.agency else {"unit": str(self.unit.id)}
        return {"level": self.level} | where | self.period.params()

    def commune_ids(self) -> sa.Select:
        """Ids of the communes the report covers."""
        if self.agency is not None:
            unit = aliased(AdminUnit)
            assigned = sa.select(AgencyAssignment.unit_id).where(
                AgencyAssignment.agency_id.in_(self.agency_ids()), self.overlaps(AgencyAssignment)
            )
            # A village's assignment counts its commune.
            stmt = sa.select(
                sa.case((unit.level == UnitLevel.VILLAGE, unit.parent_id), else_=unit.id)
            ).where(unit.id.in_(assigned))
            return stmt
        if self.unit.level == UnitLevel.COMMUNE:
            return sa.select(sa.literal(self.unit.id))
        tree = sa.select(AdminUnit.id, AdminUnit.level).where(AdminUnit.id == self.unit.id)
        tree = tree.cte(recursive=True)
        child = aliased(AdminUnit)
        tree = tree.union_all(sa.select(child.id, child.level).where(child.parent_id == tree.c.id))
        return sa.select(tree.c.id).where(tree.c.level == UnitLevel.COMMUNE)

    def agency_ids(self) -> sa.Select:
        """The agency and the teams below it."""
        tree = sa.select(Agency.id).where(Agency.id == self.agency.id).cte(recursive=True)
        child = aliased(Agency)
        tree = tree.union_all(sa.select(child.id).where(child.parent_id == tree.c.id))
        return sa.select(tree.c.id)

    def member_ids(self) -> sa.Select:
        """The people of the agency (and its teams): their gifts and visits are its work."""
        return sa.select(User.id).where(User.agency_id.in_(self.agency_ids()))

    # -- when -------------------------------------------------------------------------------

    def overlaps(self, model) -> sa.ColumnElement[bool]:
        """SQL: `model`'s half-open [starts_on, ends_on) overlaps the period."""
        return sa.and_(
            model.starts_on < self.period.end,
            sa.or_(model.ends_on.is_(None), model.ends_on > self.period.start),
        )

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as UTC instants: its days start at midnight in the programme's zone."""
        zone = ZoneInfo(current_app.config["TIMEZONE"])

        def instant(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

        return instant(self.period.start), instant(self.period.end)

    # -- the records behind the figures -----------------------------------------------------

    def entries(self) -> sa.Select:
        """The live ledger entries given in the period in the report's communes."""
        stmt = live_entries().where(
            SupportEntry.commune_id.in_(self.commune_ids()),
            SupportEntry.given_on >= self.period.start,
            SupportEntry.given_on < self.period.end,
        )
        if self.agency is not None:
            stmt = stmt.where(
                sa.or_(
                    SupportEntry.source_agency_id.in_(self.agency_ids()),
                    SupportEntry.source_user_id.in_(self.member_ids()),
                )
            )
        return stmt

    def helped_ids(self) -> sa.Select:
        """Distinct households with at least one live entry in the period."""
        e = self.entries().subquery()
        return sa.select(e.c.household_id).where(e.c.household_id.is_not(None)).distinct()

    def assigned_ids(self) -> sa.Select:
        """Distinct households with a pair overlapping the period."""
        stmt = (
            sa.select(Pair.household_id)
            .join(Household, Household.id == Pair.household_id)
            .where(Household.commune_id.in_(self.commune_ids()), self.overlaps(Pair))
        )
        if self.agency is not None:
            stmt = stmt.where(
                sa.or_(
                    Pair.helper_agency_id.in_(self.agency_ids()),
                    Pair.helper_user_id.in_(self.member_ids()),
                )
            )
        return stmt.distinct()

    def programme_ids(self) -> sa.Select:
        """Households the programme works with: assigned or helped."""
        return sa.union(self.assigned_ids(), self.helped_ids()).subquery().select()

    def _assessments(self, household_ids: sa.Select) -> sa.Subquery:
        """Each assessment of `household_ids` with the status before it, dated by the
        submission's device time, else by the version's creation (window functions: one
        pass over the households' versions, no loop in Python)."""
        status = HouseholdVersion.changes[exits.STATUS].as_string()
        hh = HouseholdVersion.household_id
        order = HouseholdVersion.version
        was_poor = sa.case((status == POOR, 1), else_=0)
        inner = (
            sa.select(
                hh.label("household_id"),
                HouseholdVersion.version.label("version"),
                status.label("status"),
                sa.func.lag(status).over(partition_by=hh, order_by=order).label("before"),
                sa.func.max(was_poor)
                .over(partition_by=hh, order_by=order, rows=(None, -1))
                .label("poor_before"),
                sa.func.coalesce(Submission.device_time, HouseholdVersion.created_at).label("at"),
            )
            .outerjoin(Submission, Submission.id == HouseholdVersion.submission_id)
            .where(hh.in_(household_ids), status.is_not(None), status != "")
        )
        return inner.subquery()

    def _rank(self, column) -> sa.ColumnElement[int]:
        return sa.case(exits.ranks(), value=column, else_=-1)

    def _in_period(self, a: sa.Subquery) -> sa.ColumnElement[bool]:
        start, end = self.bounds()  # bound through UTCDateTime: naive UTC text on SQLite
        return sa.and_(a.c.at >= start, a.c.at < end)

    def escaped_ids(self, left: str = POOR) -> sa.Select:
        """Helped households whose assessment in the period took them from `left` (poor, or
        near-poor) to a better status."""
        a = self._assessments(self.helped_ids())
        return (
            sa.select(a.c.household_id)
            .where(
                self._in_period(a),
                a.c.before == left,
                self._rank(a.c.status) > self._rank(a.c.before),
            )
            .distinct()
        )

    def certified_ids(self) -> sa.Select:
        """Helped households whose escape from poverty the commune certified in the period."""
        return (
            sa.select(PovertyExit.household_id)
            .where(
                PovertyExit.household_id.in_(self.helped_ids()),
                PovertyExit.decision == ExitDecision.CERTIFIED,
                PovertyExit.from_status == POOR,
                PovertyExit.decision_date >= self.period.start,
                PovertyExit.decision_date < self.period.end,
            )
            .distinct()
        )

    def repoverty_ids(self) -> sa.Select:
        """Programme households an assessment in the period made poor again after an earlier
        escape (tái nghèo)."""
        a = self._assessments(self.programme_ids())
        return (
            sa.select(a.c.household_id)
            .where(
                self._in_period(a),
                a.c.status == POOR,
                a.c.before.is_not(None),
                a.c.before != POOR,
                a.c.poor_before == 1,
            )
            .distinct()
        )

    def visits(self) -> sa.Select:
        """Visit-form submissions of the period in the report's communes (dated by the
        device, else by their arrival), neither superseded nor rejected."""
        start, end = self.bounds()
        at = sa.func.coalesce(Submission.device_time, Submission.received_at)
        visit_versions = (
            sa.select(FormVersion.id)
            .join(Form, Form.id == FormVersion.form_pk)
            .where(Form.form_id == VISIT_FORM_ID)
        )
        stmt = sa.select(Submission).where(
            Submission.form_version_id.in_(visit_versions),
            Submission.commune_id.in_(self.commune_ids()),
            Submission.superseded.is_(False),
            Submission.review_state != ReviewState.REJECTED,
            at >= start,
            at < end,
        )
        if self.agency is not None:
            stmt = stmt.where(Submission.submitter_id.in_(self.member_ids()))
        return stmt


# -- parsing and authorising ---------------------------------------------------------------


def _id(args: Mapping[str, str], name: str) -> int:
    text = (args.get(name) or "").strip()
    if not text:
        raise Problem("400.51", field=name)
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise Problem("400.52", field=name, value=text[:40])
    return int(text)


def select(actor: User, args: Mapping[str, str], today: dt.date) -> Selection:
    """The selection `args` name, if `actor` may read it: cadres 403.50; a unit or agency
    unknown 404.50/404.51, outside the reader's scope 403.51/403.52."""
    if actor.role not in READERS:
        raise Problem("403.50")
    level = (args.get("level") or "").strip()
    if level not in LEVELS:
        raise Problem("400.53", level=level[:40], levels=", ".join(LEVELS))
    period = Period.parse(args, today)
    if level == "agency":
        return Selection(actor, level, period, agency=_agency(actor, _id(args, "agency")))
    return Selection(actor, level, period, unit=_unit(actor, level, _id(args, "unit")))


def _unit(actor: User, level: str, unit_id: int) -> AdminUnit:
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None or unit.level == UnitLevel.VILLAGE:
        raise Problem("404.50", unit=unit_id)
    if unit.level != level:
        raise Problem("400.54", unit=unit.name, level=level, actual=unit.level.value)
    if not db.session.scalar(scope.in_scope(actor, unit)):
        raise Problem("403.51")
    return unit


def _agency(actor: User, agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise Problem("404.51", agency=agency_id)
    if scope.is_admin(actor):
        return agency
    if actor.role == Role.AGENCY_LEAD:
        mine = scope.led_agency_ids(actor)
    elif actor.role == Role.COORDINATOR:
        # A coordinator reads the agencies of their area (home unit inside it).
        mine = sa.select(Agency.id).where(Agency.home_unit_id.in_(scope.unit_ids(actor)))
    else:
        mine = sa.select(Agency.id).where(sa.false())
    if not db.session.scalar(sa.select(sa.literal(agency.id).in_(mine))):
        raise Problem("403.52", agency=agency.name)
    return agency


# -- what the report form offers -------------------------------------------------------------

#: The most units or agencies the form lists (a province's report drills down from there).
MAX_CHOICES = 200


def choices(actor: User) -> tuple[list[AdminUnit], list[Agency]]:
    """The units and agencies the report form offers `actor`: the units they work in (an
    admin: the provinces), and the agencies they may read, each list bounded."""
    if scope.is_admin(actor):
        units_stmt = sa.select(AdminUnit).where(AdminUnit.level == UnitLevel.PROVINCE)
        agencies_stmt = sa.select(Agency)
    else:
        mine = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == actor.id)
        if actor.role == Role.AGENCY_LEAD:
            mine = sa.union(mine, scope.agency_unit_ids(actor)).subquery().select()
        units_stmt = sa.select(AdminUnit).where(
            AdminUnit.id.in_(mine), AdminUnit.level != UnitLevel.VILLAGE
        )
        if actor.role == Role.AGENCY_LEAD:
            ids = scope.led_agency_ids(actor)
        elif actor.role == Role.COORDINATOR:
            ids = sa.select(Agency.id).where(Agency.home_unit_id.in_(scope.unit_ids(actor)))
        else:
            ids = sa.select(Agency.id).where(sa.false())
        agencies_stmt = sa.select(Agency).where(Agency.id.in_(ids))
    units = db.session.scalars(units_stmt.order_by(AdminUnit.path).limit(MAX_CHOICES)).all()
    found = db.session.scalars(agencies_stmt.order_by(Agency.name).limit(MAX_CHOICES)).all()
    return list(units), list(found)


def default_args(actor: User) -> dict[str, str]:
    """The report a reader sees first: their agency for an agency lead, else their first
    unit (an admin's first province)."""
    units, found = choices(actor)
    if actor.role == Role.AGENCY_LEAD and found:
        return {"level": "agency", "agency": str(found[0].id)}
    if units:
        return {"level": units[0].level.value, "unit": str(units[0].id)}
    if found:
        return {"level": "agency", "agency": str(found[0].id)}
    return {}


def ancestors(unit: AdminUnit) -> list[AdminUnit]:
    """The units above `unit`, the province first (a report's breadcrumbs; at most 3)."""
    found = []
    parent_id = unit.parent_id
    while parent_id is not None and len(found) < 4:
        parent = db.session.get(AdminUnit, parent_id)
        if parent is None:
            break
        found.insert(0, parent)
        parent_id = parent.parent_id
    return found
