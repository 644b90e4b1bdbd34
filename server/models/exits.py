"""Poverty exits: a commune official's decision on a household assessed out of poverty.

An exit is found, not stored: a household whose latest assessment changed its
`poverty_status` from poor or near-poor to a better status
(`server.services.review.exits`). What is stored is the decision on it: certified,
with the date of the decision that recognised the escape (some benefits
continue for 36 months after it, domain.md), or declined with the reason.
One decision per household and assessment (the household version that made
the change); a later assessment is a new exit to decide.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, UTCDateTime, enum_column, utcnow


class ExitDecision(enum.StrEnum):
    CERTIFIED = "certified"
    DECLINED = "declined"


class PovertyExit(Base):
    """The decision on one assessed exit: household, assessment version, from -> to status."""

    __tablename__ = "poverty_exits"
    __table_args__ = (
        sa.UniqueConstraint("household_id", "version"),
        sa.Index("ix_poverty_exits_commune_decision", "commune_id", "decision", "decision_date"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    # The household version whose assessment made the exit.
    version: Mapped[int]
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    from_status: Mapped[str] = mapped_column(sa.String(30))
    to_status: Mapped[str] = mapped_column(sa.String(30))
    # escaped_poverty | escaped_near_poverty (the standard's transition ids)
    transition: Mapped[str] = mapped_column(sa.String(40))
    standard: Mapped[str | None] = mapped_column(sa.String(40))
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decision: Mapped[ExitDecision] = mapped_column(enum_column(ExitDecision))
    # The date of the commune's decision recognising the escape (certified only).
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why it was declined
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
