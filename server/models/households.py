"""Households: long-lived records (ODK entities of the `households` dataset) built from submissions.

A household is created by a registration and changed by visits; every change
is a new `HouseholdVersion` that names the submission it came from, the
version it was based on and the properties it changed (sync contract H7), so
the current `properties` can always be rebuilt from the versions.

Each version also keeps what the merge needs to recompute the household from
the set of its updates (`sync.merge`): all the values the update sent, where
its base starts (`base_version`, plus earlier members of its offline branch),
and the conflicts open after it. A decision version (a reviewer's resolution,
a duplicate merge, an undo) has no submission but an actor.

An update the server cannot apply yet (the next of an offline chain whose
predecessor has not arrived, for a household not registered yet, or for a
closed household) is kept as a `PendingHouseholdUpdate` (H5, H9), never
dropped; open conflicts are `HouseholdConflict` rows for reviewers (H3).
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
        # The rebuild's keyset per commune; the periodic recheck of recent registrations.
        sa.Index("ix_households_commune_id", "commune_id", "id"),
        sa.Index("ix_households_created_at", "created_at"),
        # The households merged into one (a duplicate case's chain; the foreign key's check
        # when a household is deleted): few, so only they are indexed.
        sa.Index(
            "ix_households_merged_into",
            "merged_into_id",
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
        ),
        # The dashboard's households by poverty status: read from this index alone.
        sa.Index("ix_households_commune_poverty", "commune_id", "status", "poverty_status"),
        # The few households with an exit or open conflicts, found without reading the rest.
        sa.Index(
            "ix_households_commune_exit",
            "commune_id",
            postgresql_where=sa.text("exit_version IS NOT NULL"),
            sqlite_where=sa.text("exit_version IS NOT NULL"),
        ),
        sa.Index(
            "ix_households_commune_conflicts",
            "commune_id",
            postgresql_where=sa.text("open_conflicts > 0"),
            sqlite_where=sa.text("open_conflicts > 0"),
        ),
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
    # Needs a person: open conflicts, an update applied after its hold timed out, an update
    # to a closed household (`flag_reason` says which came last).
    flagged: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    flag_reason: Mapped[str | None] = mapped_column(sa.String(40))
    open_conflicts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Updates kept for this household but not applied yet (H5, H9).
    held_updates: Mapped[int] = mapped_column(default=0, server_default="0")
    # Kept by every writer with `properties` so counts group by an index, not by JSON:
    # `properties["poverty_status"]` (None when empty; `households.poverty.status_column`).
    poverty_status: Mapped[str | None] = mapped_column(sa.String(40))
    # The assessments of `versions` summed up as they are written (`households.poverty.track`),
    # so an exit is found without reading a household's versions: the status of the latest
    # version that set one, and the latest change of it when that change was an exit (left
    # poor or near-poor for a better status; `exit_from` the status left).
    assessed_status: Mapped[str | None] = mapped_column(sa.String(40))
    exit_version: Mapped[int | None]
    exit_from: Mapped[str | None] = mapped_column(sa.String(40))

    versions: Mapped[list[HouseholdVersion]] = relationship(
        back_populates="household", order_by="HouseholdVersion.version"
    )


@sa.event.listens_for(Household, "before_insert")
@sa.event.listens_for(Household, "before_update")
def _keep_poverty_status(_mapper, _connection, household: Household) -> None:
    """Households written through the ORM (a rebuild's repair, factories) keep the column in
    step with their properties; ingest's statements set it themselves."""
    household.poverty_status = status_column(household.properties)


def status_column(properties: dict[str, Any] | None) -> str | None:
    """What `Household.poverty_status` holds for `properties`."""
    value = (properties or {}).get("poverty_status")
    return str(value)[:40] if value else None


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
    # submission | decision kinds (resolve, duplicate_merge, undo_merge, close, ...).
    kind: Mapped[str] = mapped_column(
        sa.String(30), default="submission", server_default="submission"
    )
    # Every value the update sent (None: the same as `changes`), label under "label".
    sent: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    # The update's base: the updates of `base_version` plus the earlier members of its
    # offline branch (ODK branchId, position = baseVersion - trunkVersion; H5).
    branch_id: Mapped[str | None] = mapped_column(sa.String(64))
    branch_position: Mapped[int] = mapped_column(default=0, server_default="0")
    # The conflicts open after this version (sync.merge.Conflict as JSON), when any.
    conflicts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDoc)
    # A decision: who made it, and the status / redirect it set.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str | None] = mapped_column(sa.String(20))  # a HouseholdStatus value
    merged_into_id: Mapped[str | None] = mapped_column(sa.String(36))
    # Why this version needs a look (hold_timeout, redirected, ...), or how it came in
    # (base_ahead: the tablet's base was beyond the server's version, e.g. after a restore).
    note: Mapped[str | None] = mapped_column(sa.String(40))

    household: Mapped[Household] = relationship(back_populates="versions")


class PendingHouseholdUpdate(Base):
    """An accepted submission's household effect that cannot apply yet (H5, H9).

    `household_id` has no foreign key on purpose: the household may not exist
    yet (its registration has not arrived, H5).
    """

    __tablename__ = "household_pending_updates"
    __table_args__ = (
        # The dashboard counts the updates still held, not every one ever held.
        sa.Index(
            "ix_household_pending_updates_open",
            "submission_id",
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), unique=True
    )
    # chain_gap (its predecessor has not arrived) | unknown_household (nor its registration)
    # | not_active (a closed household: flagged, applied by no one but a person)
    reason: Mapped[str] = mapped_column(sa.String(30))
    base_version: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # What applying it later needs: the entity block, the values, label and place.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)


class HouseholdConflict(Base):
    """An open (or settled) disagreement between concurrent updates of one property (H3).

    One row per household and property while it is open; `writes` holds every
    conflicting value with its update and submission. A later update that
    builds on all of them, or a reviewer's decision, settles it
    (`resolution_version`; `resolved_by_id` when a person decided).
    """

    __tablename__ = "household_conflicts"
    __table_args__ = (
        sa.Index("ix_household_conflicts_household_open", "household_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    household_id: Mapped[str] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    property: Mapped[str] = mapped_column(sa.String(100))
    base_value: Mapped[str | None] = mapped_column(sa.Text)
    # [{"update", "submission_id", "value", "base_value"}]
    writes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    provisional: Mapped[str | None] = mapped_column(sa.Text)
    provisional_update: Mapped[str | None] = mapped_column(sa.String(100))
    detected_version: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    resolution_version: Mapped[int | None]
