"""Token-visit monitoring (issue 16): what a visit shows of itself, and what a check found.

* `VisitEvidence` is one stored visit's evidence, read from what the tablet sent: start and
  end, the time spent in the form and the locations from Collect's `audit.csv`, the GPS at the
  visit against the household's known location, the device clock's offset. One row per
  visit submission, written after the visit is stored (never blocking it).
* `MonitoringFlag` is one finding of a check (`check` is a code of
  `server.services.monitoring.checks`), about a visit, a household (not visited for months)
  or an agency (few or short visits to its commune against its plan), with a reason a person
  can read (`params`) and the evidence it rests on. A flag never hides data or blocks a
  submission: a person confirms or dismisses it with a comment (audited).
* `AgencyVisit` is one stay of an agency in a commune it helps (date, days, people, purpose,
  result), recorded by the agency or the commune; `AgencyVisitPlan` is how often and how long
  the agency planned to go there in a year (Điện Biên's 708/QĐ-UBND).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, enum_column, utcnow


class FlagSubject(enum.StrEnum):
    VISIT = "visit"  # a stored visit submission
    HOUSEHOLD = "household"  # an assigned household not visited for months
    AGENCY = "agency"  # an agency's stays in a commune against its plan


class FlagState(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"  # a person agrees the visit/agency fell short
    DISMISSED = "dismissed"  # a person judged it honest (the comment says why)


class VisitEvidence(Base):
    """What one visit submission shows of itself."""

    __tablename__ = "visit_evidence"
    __table_args__ = (
        sa.Index("ix_visit_evidence_commune_started", "commune_id", "started_at"),
        sa.Index("ix_visit_evidence_user_started", "user_id", "started_at"),
        sa.Index("ix_visit_evidence_household", "household_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    household_id: Mapped[str | None] = mapped_column(sa.String(36))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="RESTRICT"))
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    # The form's `start` and `end` (device clock, as sent) and when the server received it.
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Seconds between start and end; seconds actually spent on questions (audit.csv).
    duration_seconds: Mapped[float | None] = mapped_column(sa.Float)
    form_seconds: Mapped[float | None] = mapped_column(sa.Float)
    # Device clock minus server clock at sending (Submission.clock_offset_seconds).
    clock_offset_seconds: Mapped[float | None] = mapped_column(sa.Float)
    # Where the visit was (the form's geopoint, else audit.csv's best location).
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    # Metres from the household's known location, when both are known.
    distance_m: Mapped[float | None] = mapped_column(sa.Float)
    # The stored audit.csv, when the tablet sent one.
    audit_attachment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("attachments.id", ondelete="SET NULL")
    )
    # Anything else read off the visit (question timings summary, answers fingerprint...).
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitoringFlag(Base):
    """One finding of a check, waiting for a person's judgement."""

    __tablename__ = "monitoring_flags"
    __table_args__ = (
        # One flag per check and subject and period: re-running the checks never duplicates.
        sa.UniqueConstraint("check", "subject_key", name="uq_monitoring_flags_check_subject"),
        sa.Index("ix_monitoring_flags_commune_state", "commune_id", "state", "observed_on"),
        sa.Index("ix_monitoring_flags_agency", "agency_id", "observed_on"),
        sa.Index("ix_monitoring_flags_user", "user_id", "observed_on"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    check: Mapped[str] = mapped_column(sa.String(30))
    subject: Mapped[FlagSubject] = mapped_column(enum_column(FlagSubject))
    # "visit:<submission id>", "household:<id>:<yyyy-mm>", "agency:<id>:<commune id>:<yyyy>"...
    subject_key: Mapped[str] = mapped_column(sa.String(120))
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    household_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    # The cadre whose visit it is (or who is paired with the neglected household).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    # The day the flagged thing happened (visit start, end of the month or year looked at).
    observed_on: Mapped[dt.date] = mapped_column(sa.Date)
    # The reason's parameters (minutes, metres, thresholds...), rendered by the check's message.
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # What it rests on (evidence ids, the other visits of a fast run, copied fields...).
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    state: Mapped[FlagState] = mapped_column(enum_column(FlagState), default=FlagState.OPEN)
    comment: Mapped[str | None] = mapped_column(sa.String(2000))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgencyVisit(Base):
    """One stay of an agency in a commune it helps."""

    __tablename__ = "agency_visits"
    __table_args__ = (
        sa.Index("ix_agency_visits_agency_commune", "agency_id", "commune_id", "visited_on"),
        sa.Index("ix_agency_visits_commune", "commune_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    visited_on: Mapped[dt.date] = mapped_column(sa.Date)
    # Length of the stay in days (0.5 for a morning); a few hours is what 708/QĐ-UBND names.
    days: Mapped[float] = mapped_column(sa.Float)
    people: Mapped[int] = mapped_column(default=1)
    names: Mapped[str | None] = mapped_column(sa.String(1000))
    purpose: Mapped[str] = mapped_column(sa.String(2000))
    result: Mapped[str | None] = mapped_column(sa.String(4000))
    # Was the visit in the agency's plan (kế hoạch) for the year?
    planned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(sa.String(500))


class AgencyVisitPlan(Base):
    """How often and how long an agency plans to stay in a commune in a year."""

    __tablename__ = "agency_visit_plans"
    __table_args__ = (sa.UniqueConstraint("agency_id", "commune_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"))
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    year: Mapped[int]
    visits_planned: Mapped[int]
    days_planned: Mapped[float]
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
