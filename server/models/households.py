"""Households: long-lived records (ODK entities of the `households` dataset) built from submissions.

A household is created by a registration and changed by visits; every change
is a new `HouseholdVersion` that names the submission it came from, the
version it was based on and the properties it changed (sync contract H7), so
the current `properties` can always be rebuilt from the versions.

An update the server cannot apply on its own (made on a stale version, for a
household it does not know yet, or replacing history that others built on)
is kept as a `PendingHouseholdUpdate` for the three-way merge (H3, H5), never
applied silently and never dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, enum_column, utcnow


class HouseholdStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"  # moved away or dissolved: kept, no longer updated
    MERGED = "merged"  # absorbed by a duplicate: its id redirects to the survivor


class Household(Base):
    """The current state of one household; `id` is the entity UUID the tablet created."""

    __tablename__ = "households"
    __table_args__ = (
        sa.Index("ix_households_village_status", "village_id", "status"),
        sa.Index("ix_households_commune_status", "commune_id", "status"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(100), default="households")
    label: Mapped[str | None] = mapped_column(sa.String(300))
    version: Mapped[int] = mapped_column(default=1)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[HouseholdStatus] = mapped_column(
        enum_column(HouseholdStatus), default=HouseholdStatus.ACTIVE
    )
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    # The survivor of the merge that absorbed this household (status merged): tablets and
    # late updates are redirected there (sync contract D3, H9).
    merged_into_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("households.id", ondelete="RESTRICT")
    )
    created_submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    updated_submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[HouseholdVersion]] = relationship(
        back_populates="household", order_by="HouseholdVersion.version"
    )


class HouseholdVersion(Base):
    """One change to a household: what it became at `version`, from which submission."""

    __tablename__ = "household_versions"
    __table_args__ = (sa.UniqueConstraint("household_id", "version"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    version: Mapped[int]
    # None for a change no submission carried (a reviewer's resolution, a merge).
    submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    base_version: Mapped[int | None]
    # The properties this version set, with their new values (all of them at version 1).
    changes: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    label: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[Household] = relationship(back_populates="versions")


class PendingHouseholdUpdate(Base):
    """An accepted submission's household effect that waits for the three-way merge.

    `household_id` has no foreign key on purpose: the household may not exist
    yet (its registration has not arrived, H5).
    """

    __tablename__ = "household_pending_updates"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), unique=True
    )
    # stale_base | unknown_household | not_active | exists | edit_after_changes
    reason: Mapped[str] = mapped_column(sa.String(30))
    base_version: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
