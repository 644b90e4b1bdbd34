"""Monitoring rows for the view's tests, written directly (the checks that make them are
another module's): a visit's evidence and a flag on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import Submission
from server.models.monitoring import FlagSubject, MonitoringFlag, VisitEvidence

STARTED = dt.datetime(2026, 6, 10, 8, 0, tzinfo=dt.UTC)


def clear_monitoring() -> None:
    """Forget the evidence and flags ingest wrote for the site's submissions (committed), so a
    view test counts exactly the evidence it makes (ingest's own: test_evidence, test_checks).
    """
    db.session.execute(sa.delete(MonitoringFlag))
    db.session.execute(sa.delete(VisitEvidence))
    db.session.commit()


def evidence_of(
    instance_id: str,
    *,
    started: dt.datetime = STARTED,
    minutes: float = 3,
    household_id: str | None = None,
    **values: Any,
) -> VisitEvidence:
    """The evidence of the stored submission `instance_id` (its place, sender, household)."""
    sub = db.session.scalar(sa.select(Submission).where(Submission.instance_id == instance_id))
    found = db.session.scalar(sa.select(VisitEvidence).where(VisitEvidence.submission_id == sub.id))
    if found is not None:
        return found
    evidence = VisitEvidence(
        submission_id=sub.id, household_id=household_id, user_id=sub.submitter_id,
        commune_id=sub.commune_id, village_id=sub.village_id, started_at=started,
        ended_at=started + dt.timedelta(minutes=minutes), received_at=sub.received_at,
        duration_seconds=minutes * 60, form_seconds=minutes * 50, **values,
    )  # fmt: skip
    db.session.add(evidence)
    db.session.flush()
    return evidence


def flag_visit(instance_id: str, check: str = "short", key: str = "", **params: Any):
    """A flag of `check` on the visit `instance_id` (with its evidence), committed."""
    evidence = evidence_of(instance_id, household_id=params.pop("household_id", None))
    params = params or {"minutes": 2.5, "min_minutes": 10}
    flag = MonitoringFlag(
        check=check, subject=FlagSubject.VISIT,
        subject_key=f"visit:{evidence.submission_id}{key}",
        submission_id=evidence.submission_id, household_id=evidence.household_id,
        user_id=evidence.user_id, commune_id=evidence.commune_id,
        village_id=evidence.village_id, observed_on=evidence.started_at.date(), params=params,
        evidence={"evidence_id": evidence.id},
    )  # fmt: skip
    db.session.add(flag)
    db.session.commit()
    return flag


def agency_stay(agency_id: int, commune_id: int, **values: Any) -> int:
    """A recorded stay of the agency in the commune (committed): its id."""
    from server.models.monitoring import AgencyVisit

    fields = {"visited_on": dt.date(2026, 3, 2), "days": 0.5, "people": 3,
              "purpose": "Tặng quà"} | values  # fmt: skip
    stay = AgencyVisit(agency_id=agency_id, commune_id=commune_id, **fields)
    db.session.add(stay)
    db.session.commit()
    return stay.id
