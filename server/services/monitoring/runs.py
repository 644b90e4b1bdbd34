"""Running the checks and writing their flags (`MonitoringFlag`), idempotently.

Two callers:
- ingest, right after a visit's evidence is stored (`flag_own`): only the checks a visit
  answers by itself (short, far, no_location, backdated), from the row in memory; nothing
  is read, and a flag is one INSERT that does nothing if it exists. A submission is never
  refused or held by a check.
- `run_checks` (the command `giupho monitoring check`, daily from cron): every check for
  one commune or all, up to a day, over the visits of `MONITORING_LOOKBACK_DAYS` before it.
  Bounded by the commune and the window, never by the size of the tables.

A flag is keyed by check and subject (`subject_key`): a run writes a flag once; an open flag
gets the run's newer params; a flag a person confirmed or dismissed is never touched again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import AdminUnit, Household, Submission
from server.models.monitoring import (
    AgencyVisit,
    AgencyVisitPlan,
    FlagState,
    MonitoringFlag,
    VisitEvidence,
)
from server.models.places import UnitLevel
from server.models.programme import Pair
from server.services import transactional
from server.services.monitoring import checks
from server.services.monitoring.catalogue import CHECKS
from server.services.monitoring.checks import Finding, Thresholds, Visit

FLAGS = _FLAGS = MonitoringFlag.__table__
#: Flags looked up per statement when a run writes (an IN list of subject keys).
CHUNK = 500


def thresholds() -> Thresholds:
    return Thresholds.from_config(current_app.config)


@dataclass
class RunReport:
    """What a run wrote: new flags per check, open flags updated, decided flags left alone."""

    communes: int = 0
    visits: int = 0
    new: Counter = field(default_factory=Counter)
    updated: int = 0
    decided: int = 0


# ------------------------------------------------------------ at ingest


def flag_own(rows: Iterable[Mapping[str, Any]]) -> int:
    """The flags new visits' evidence rows raise by themselves; returns how many were new."""
    from server.services.receiving import store  # receiving imports this module

    values = own_flags(rows)
    if not values:
        return 0
    # One statement for a whole push batch (on PostgreSQL one JSON document): an executemany
    # sends one INSERT per flag, the costliest statement of a batch of visits.
    return store.insert_rows(_FLAGS, values, FLAG_KEY)


#: A flag's identity: a second one with the same is not inserted.
FLAG_KEY = ("check", "subject_key")


def own_flags(rows: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The rows of the flags new visits' evidence rows raise by themselves (`flag_own`
    inserts them; a caller may insert them with others in one statement)."""
    t = thresholds()
    return [_flag_values(f) for row in rows for f in checks.own_findings(visit_of(row), t)]


def visit_of(row: Any) -> Visit:
    """A check's view of an evidence row (a `VisitEvidence` or the dict ingest inserted)."""
    get = row.get if isinstance(row, Mapping) else lambda key: getattr(row, key, None)
    details = get("details") or {}
    return Visit(
        submission_id=get("submission_id"),
        household_id=get("household_id"),
        user_id=get("user_id"),
        device_id=get("device_id"),
        commune_id=get("commune_id"),
        village_id=get("village_id"),
        started_at=get("started_at"),
        received_at=get("received_at"),
        duration_seconds=get("duration_seconds"),
        form_seconds=get("form_seconds"),
        clock_offset_seconds=get("clock_offset_seconds"),
        latitude=get("latitude"),
        longitude=get("longitude"),
        accuracy_m=get("accuracy_m"),
        distance_m=get("distance_m"),
        answers=details.get("answers") or {},
        evidence_id=get("id"),
    )


# ------------------------------------------------------------ a run


@transactional
def run_checks(commune_id: int | None = None, on: dt.date | None = None) -> RunReport:
    """Every check for commune `commune_id` (every commune when None) up to day `on` (today)."""
    t = thresholds()
    on = on or dt.date.today()
    report = RunReport()
    communes = [commune_id] if commune_id is not None else _communes()
    for one in communes:
        findings = _commune_findings(one, on, t, report)
        _write(findings, report)
        report.communes += 1
    return report


def _communes() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(AdminUnit.id)
            .where(AdminUnit.level == UnitLevel.COMMUNE)
            .order_by(AdminUnit.id)
        )
    )


def _commune_findings(commune_id: int, on: dt.date, t: Thresholds, report: RunReport):
    end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=t.lookback_days + 1)
    visits = _visits(
        VisitEvidence.commune_id == commune_id,
        VisitEvidence.received_at >= start,
        sa.func.coalesce(VisitEvidence.started_at, VisitEvidence.received_at) < end,
    )
    report.visits += len(visits)
    found: list[Finding] = []
    for v in visits:
        found += checks.own_findings(v, t)
    found += checks.fast_runs(visits, t)
    previous = _previous_visits(visits)
    for v in visits:
        hit = checks.copied(v, previous.get(v.submission_id), t)
        if hit is not None:
            found.append(hit)
    found += checks.clock_jumps(visits, visits, t)
    found += checks.neglected(_paired(commune_id, on), on, t)
    found += checks.token_agencies(_agency_years(commune_id, on), on, t)
    return found


def _visits(*where) -> list[Visit]:
    """The evidence of current (not superseded) visits matching `where`."""
    rows = db.session.scalars(
        sa.select(VisitEvidence)
        .join(Submission, Submission.id == VisitEvidence.submission_id)
        .where(Submission.superseded.is_(False), *where)
        .order_by(VisitEvidence.started_at, VisitEvidence.id)
    )
    return [visit_of(row) for row in rows]


def _previous_visits(visits: list[Visit]) -> dict[int, Visit]:
    """Each visit's previous visit to the same household (by start), looked up in one query
    for the households of the window."""
    households = sorted({v.household_id for v in visits if v.household_id})
    if not households:
        return {}
    last = max(v.moment for v in visits)
    history: dict[str, list[Visit]] = defaultdict(list)
    for i in range(0, len(households), CHUNK):
        for v in _visits(
            VisitEvidence.household_id.in_(households[i : i + CHUNK]),
            sa.func.coalesce(VisitEvidence.started_at, VisitEvidence.received_at) <= last,
        ):
            history[v.household_id].append(v)
    found = {}
    for v in visits:
        before = [o for o in history.get(v.household_id, ()) if o.moment < v.moment]
        if before:
            found[v.submission_id] = max(before, key=lambda o: o.moment)
    return found


def _paired(commune_id: int, on: dt.date) -> list[checks.PairedHousehold]:
    """The households of the commune paired on day `on`, with their last visit."""
    last = (
        sa.select(
            VisitEvidence.household_id,
            sa.func.max(
                sa.func.coalesce(VisitEvidence.started_at, VisitEvidence.received_at)
            ).label("last"),
        )
        .where(VisitEvidence.commune_id == commune_id)
        .group_by(VisitEvidence.household_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Pair.household_id,
            Household.commune_id,
            Household.village_id,
            Pair.helper_user_id,
            Pair.helper_agency_id,
            Pair.starts_on,
            last.c.last,
        )
        .join(Household, Household.id == Pair.household_id)
        .outerjoin(last, last.c.household_id == Pair.household_id)
        .where(
            Household.commune_id == commune_id,
            Pair.starts_on <= on,
            sa.or_(Pair.ends_on.is_(None), Pair.ends_on > on),
        )
        .order_by(Pair.household_id, Pair.id)
    )
    t = thresholds()
    found = {}
    for hid, commune, village, user, agency, starts_on, last_at in rows:
        if last_at is not None and last_at.tzinfo is None:  # an aggregate loses the type
            last_at = last_at.replace(tzinfo=dt.UTC)
        if isinstance(last_at, str):
            last_at = dt.datetime.fromisoformat(last_at).replace(tzinfo=dt.UTC)
        last_day = checks.local_day(last_at, t) if last_at is not None else None
        found.setdefault(
            hid, checks.PairedHousehold(hid, commune, village, user, agency, starts_on, last_day)
        )
    return list(found.values())


def _agency_years(commune_id: int, on: dt.date) -> list[checks.AgencyYear]:
    """The commune's agency plans for the year of `on`, with the stays recorded up to `on`."""
    stays = (
        sa.select(
            AgencyVisit.agency_id,
            sa.func.count(AgencyVisit.id).label("visits"),
            sa.func.coalesce(sa.func.sum(AgencyVisit.days), 0).label("days"),
        )
        .where(
            AgencyVisit.commune_id == commune_id,
            AgencyVisit.voided_at.is_(None),
            AgencyVisit.visited_on >= dt.date(on.year, 1, 1),
            AgencyVisit.visited_on <= on,
        )
        .group_by(AgencyVisit.agency_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            AgencyVisitPlan.agency_id,
            AgencyVisitPlan.visits_planned,
            AgencyVisitPlan.days_planned,
            stays.c.visits,
            stays.c.days,
        )
        .outerjoin(stays, stays.c.agency_id == AgencyVisitPlan.agency_id)
        .where(AgencyVisitPlan.commune_id == commune_id, AgencyVisitPlan.year == on.year)
        .order_by(AgencyVisitPlan.agency_id)
    )
    return [
        checks.AgencyYear(
            agency, commune_id, on.year, planned, days_planned, visits or 0, float(days or 0)
        )
        for agency, planned, days_planned, visits, days in rows
    ]


# ------------------------------------------------------------ writing flags

_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def _flag_values(f: Finding) -> dict:
    # Shallow (not `asdict`, which deep-copies `params` and `evidence` for every flag a
    # visit raises at ingest): the dicts are only serialised into the row.
    values = {name: getattr(f, name) for name in _FINDING_FIELDS}
    values["subject"] = CHECKS[f.check].subject
    values["state"] = FlagState.OPEN
    values["created_at"] = dt.datetime.now(dt.UTC)
    return values


def _write(findings: list[Finding], report: RunReport) -> None:
    """Insert new flags, refresh open ones, leave decided ones alone."""
    by_key = {(f.check, f.subject_key): f for f in findings}
    keys = sorted(by_key)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        existing = {
            (flag.check, flag.subject_key): flag
            for flag in db.session.scalars(
                sa.select(MonitoringFlag).where(
                    MonitoringFlag.subject_key.in_([k for _, k in chunk])
                )
            )
        }
        new = []
        for key in chunk:
            f, flag = by_key[key], existing.get(key)
            if flag is None:
                new.append(_flag_values(f))
                report.new[f.check] += 1
            elif flag.state != FlagState.OPEN:
                report.decided += 1
            elif flag.params != f.params or flag.evidence != f.evidence:
                flag.params, flag.evidence = f.params, f.evidence
                report.updated += 1
        if new:
            db.session.execute(sa.insert(_FLAGS), new)
    db.session.flush()
