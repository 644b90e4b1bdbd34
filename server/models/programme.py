"""The programme's structure: agencies, the communes and villages they help, and pairs.

* An `Agency` is a government body (cơ quan, đơn vị), a team (tổ công tác) or a mass
  organisation (đoàn thể: Hội Phụ nữ, Đoàn Thanh niên...), with a level, a parent and a lead.
* An `AgencyAssignment` says that an agency helps a commune or village for a period (a phase
  such as 2021-2025, or dates), under the commune's category (poor, special difficulty,
  coastal "bãi ngang"...). Ending one sets `ends_on`; rows are never deleted, so the history
  of who helped where stays.
* A `Pair` says that a cadre (a user) or a team/organisation (an agency) helps one household,
  from `starts_on` until `ends_on`, with a priority rank and a note on the household's
  capacity to escape poverty. Reassignment ends the pair and starts a new one.

Periods are half-open, `starts_on` <= day < `ends_on`: something ended today no longer counts
today, and a reassignment ends the old pair on the day the new one starts.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.models.places import AdminUnit


class AgencyKind(enum.StrEnum):
    AGENCY = "agency"  # cơ quan, đơn vị
    TEAM = "team"  # tổ công tác, nhóm
    ORGANISATION = "organisation"  # đoàn thể, tổ chức chính trị - xã hội


class AgencyLevel(enum.StrEnum):
    CENTRAL = "central"
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class UnitCategory(enum.StrEnum):
    """Why a commune or village is helped (the categories the provinces' plans use)."""

    POOR = "poor"  # xã nghèo
    SPECIAL_DIFFICULTY = "special_difficulty"  # xã đặc biệt khó khăn (miền núi, vùng cao)
    COASTAL = "coastal"  # xã bãi ngang ven biển
    ISLAND = "island"  # xã đảo
    OTHER = "other"


class Agency(Base):
    """A body assigned to help difficult communes, villages or households."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[AgencyKind] = mapped_column(
        enum_column(AgencyKind), default=AgencyKind.AGENCY, server_default="agency"
    )
    level: Mapped[AgencyLevel] = mapped_column(
        enum_column(AgencyLevel), default=AgencyLevel.PROVINCE, server_default="province"
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    # The admin unit the agency belongs to (its province or district): whose coordinators
    # manage it. None: a central agency, managed by admins.
    home_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL", use_alter=True), index=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    home_unit: Mapped[AdminUnit | None] = relationship()
    assignments: Mapped[list[AgencyAssignment]] = relationship(back_populates="agency")

    def __repr__(self) -> str:
        return f"<Agency {self.code} {self.name!r}>"


class AgencyAssignment(Base):
    """Agency `agency_id` helps unit `unit_id` (a commune or village) during a period."""

    __tablename__ = "agency_assignments"
    __table_args__ = (
        sa.Index("ix_agency_assignments_unit", "unit_id", "ends_on"),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name="assignment_period_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    category: Mapped[UnitCategory] = mapped_column(
        enum_column(UnitCategory, length=24), default=UnitCategory.POOR
    )
    # "2021-2025", "2026-2030", or None when the period is given by dates only.
    phase: Mapped[str | None] = mapped_column(sa.String(20))
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="assignments")
    unit: Mapped[AdminUnit] = relationship()


class Pair(Base):
    """A cadre (`helper_user_id`) or a team/organisation (`helper_agency_id`) helps a household.

    Exactly one helper is set. `priority` ranks the households a helper was given (1 first);
    `capacity_note` is the note on the household's capacity to escape poverty.
    """

    __tablename__ = "pairs"
    __table_args__ = (
        sa.CheckConstraint(
            "(helper_user_id IS NULL) <> (helper_agency_id IS NULL)", name="pair_one_helper"
        ),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="pair_period_order"),
        sa.Index("ix_pairs_household", "household_id", "ends_on"),
        sa.Index("ix_pairs_helper_user", "helper_user_id", "ends_on"),
        sa.Index("ix_pairs_helper_agency", "helper_agency_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("households.id", ondelete="RESTRICT")
    )
    helper_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    helper_agency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT")
    )
    priority: Mapped[int | None] = mapped_column(sa.SmallInteger)
    capacity_note: Mapped[str | None] = mapped_column(sa.String(1000))
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    end_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # The pair that took over when this one was reassigned (history of who helped).
    replaced_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pairs.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
