"""The poverty review (rà soát, Thông tư 07/2021/TT-BLĐTBXH): a campaign per year and commune,
its household entries, and each household's status for a year with its effective period.

A campaign is the annual review (1 September - 14 December) or an ongoing review (applications
and exits between two annual reviews); both follow one path: the list of households to review,
reviewers assigned, assessments (submissions) attached to the entries, the village meeting, the
commune's proposed list, the commune's decision (number, date). The decision writes one
`HouseholdYearStatus` per household reviewed: the status that household holds for the year.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, UTCDateTime, enum_column, utcnow


class CampaignKind(enum.StrEnum):
    ANNUAL = "annual"  # rà soát định kỳ hằng năm
    ONGOING = "ongoing"  # rà soát thường xuyên: applications and exits during the year


class CampaignStage(enum.StrEnum):
    OPEN = "open"  # listing and assessing
    MET = "met"  # the village meetings were held
    PROPOSED = "proposed"  # the commune proposed its list
    DECIDED = "decided"  # the commune's decision: statuses written


class EntryReason(enum.StrEnum):
    POOR = "poor"  # on the current list of poor households
    NEAR_POOR = "near_poor"  # on the current list of near-poor households
    APPLICANT = "applicant"  # applied to be reviewed (giấy đề nghị)
    FLAGGED = "flagged"  # flagged by a cadre


class ReviewCampaign(Base):
    __tablename__ = "review_campaigns"
    __table_args__ = (sa.UniqueConstraint("commune_id", "year", "kind", "opens_on"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    year: Mapped[int]  # the year whose statuses the decision sets
    kind: Mapped[CampaignKind] = mapped_column(enum_column(CampaignKind))
    opens_on: Mapped[dt.date] = mapped_column(sa.Date)
    closes_on: Mapped[dt.date] = mapped_column(sa.Date)
    stage: Mapped[CampaignStage] = mapped_column(enum_column(CampaignStage))
    meeting_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    meeting_attendance: Mapped[int | None]
    meeting_note: Mapped[str | None] = mapped_column(sa.Text)
    proposed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    decision_number: Mapped[str | None] = mapped_column(sa.String(60))
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewEntry(Base):
    """One household on a campaign's list: why it is there, who reviews it, its assessment
    (the submission and household version that set its status) and the meeting's word."""

    __tablename__ = "review_entries"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "household_id"),
        sa.Index("ix_review_entries_campaign_village", "campaign_id", "village_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review_campaigns.id", ondelete="CASCADE")
    )
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    reason: Mapped[EntryReason] = mapped_column(enum_column(EntryReason))
    status_before: Mapped[str | None] = mapped_column(sa.String(30))
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    assessed_version: Mapped[int | None]
    assessed_status: Mapped[str | None] = mapped_column(sa.String(30))
    assessed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The village meeting agreed with the assessment (None: not yet met).
    agreed: Mapped[bool | None]
    # The status the commune proposes and decides (the assessed one unless the meeting differed).
    proposed_status: Mapped[str | None] = mapped_column(sa.String(30))


class HouseholdYearStatus(Base):
    """A household's status for a year, as the commune decided it, and from when it holds."""

    __tablename__ = "household_year_statuses"
    __table_args__ = (
        sa.UniqueConstraint("household_id", "year"),
        sa.Index("ix_household_year_statuses_commune_year", "commune_id", "year"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    year: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(30))
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    # Until the day before the next decision about the household (None: still in force).
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review_campaigns.id", ondelete="RESTRICT")
    )
