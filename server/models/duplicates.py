"""Duplicate households (sync contract D1-D4): blocking keys, profiles, cases, double entries.

Fuzzy candidates are found through `duplicate_keys` only (one row per household and key,
indexed by key), never by comparing a new household with every other one; the compact
`duplicate_profiles` row is what the score reads of each candidate. A pair of households
has at most one `DuplicateCase`; its status says what a person (or D1) decided. A case is a
group (`DuplicateCaseMember`): every household matching one of its own joins it.
`answer_fingerprints` and `double_entries` are the D4 check: a submission with the same
answers as another of the same user, form and household within a day.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, enum_column, utcnow


class DuplicateKey(Base):
    """One blocking key of one household (`server.dedup.keys`)."""

    __tablename__ = "duplicate_keys"
    __table_args__ = (sa.PrimaryKeyConstraint("key", "household_id"),)

    key: Mapped[str] = mapped_column(sa.String(120))
    household_id: Mapped[str] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), index=True
    )


class DuplicateProfile(Base):
    """What the score compares of a household (`server.dedup.keys.Profile` as JSON)."""

    __tablename__ = "duplicate_profiles"
    __table_args__ = (
        sa.Index("ix_duplicate_profiles_commune_search", "commune_id", "search"),
        sa.Index(
            "ix_duplicate_profiles_search_trgm",
            "search",
            postgresql_using="gin",
            postgresql_ops={"search": "gin_trgm_ops"},
        ),  # on SQLite a plain index (the dialect options are PostgreSQL's)
    )

    household_id: Mapped[str] = mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # `server.dedup.keys.search_text(profile)`, written with the profile: the site's search
    # (names without accents, CCCD, phone) is a LIKE '%...%' on it. PostgreSQL answers that
    # from a trigram index (pg_trgm GIN: a contains match, which a B-tree cannot serve);
    # SQLite has no trigram index and reads the (commune, search) index entries of the
    # commune being searched, never the table.
    search: Mapped[str] = mapped_column(sa.Text, default="", server_default="")


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # a possible duplicate waiting for a reviewer (D2)
    AUTO_LINKED = "auto_linked"  # D1: the registration was applied to the existing household
    MERGED = "merged"  # a reviewer merged the pair (D3)
    DISTINCT = "distinct"  # a reviewer said they are two households: never suggested again
    UNLINKED = "unlinked"  # an automatic link a reviewer undid


class DuplicateCase(Base):
    """A pair of households that may be one (`first_id` < `second_id`: one case per pair).

    `new_id` is the household whose registration raised the case; for an automatic link
    (D1) it is the id the tablet created, which the registration was not given.
    The household columns have no foreign key: an automatically linked id may never
    become a household row.
    """

    __tablename__ = "duplicate_cases"
    __table_args__ = (
        sa.UniqueConstraint("first_id", "second_id"),
        sa.Index("ix_duplicate_cases_commune_status", "commune_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    first_id: Mapped[str] = mapped_column(sa.String(36))
    second_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    new_id: Mapped[str] = mapped_column(sa.String(36))
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(sa.String(10))  # exact | fuzzy
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    score: Mapped[float] = mapped_column(sa.Float, default=0.0)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    survivor_id: Mapped[str | None] = mapped_column(sa.String(36))
    # What the decision did, so it can be undone: values chosen, versions made, states before.
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicateCaseMember(Base):
    """A household of a duplicate case: a case is a group of registrations that all match
    (issue 17: n registrations of one household open one case, not a case per pair).
    `first_id`/`second_id` of the case are the pair that opened it; the group grows as
    later registrations match any of its households. `separated`: a reviewer took it out
    of the group (it is another household); the pairs it formed are never suggested again.
    `score` and `breakdown` are of its best match in the group when it joined."""

    __tablename__ = "duplicate_case_members"
    __table_args__ = (sa.PrimaryKeyConstraint("case_id", "household_id"),)

    case_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("duplicate_cases.id", ondelete="CASCADE")
    )
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    score: Mapped[float | None] = mapped_column(sa.Float)
    breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    separated: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerFingerprint(Base):
    """The hash of a submission's answers without ids and timestamps (D4)."""

    __tablename__ = "answer_fingerprints"
    __table_args__ = (sa.Index("ix_answer_fingerprints_match", "household_id", "fingerprint"),)

    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    household_id: Mapped[str] = mapped_column(sa.String(36))
    # An edit (R4) shares its predecessor's root: never a double entry of it.
    root_id: Mapped[str] = mapped_column(sa.String(100))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    form_pk: Mapped[int] = mapped_column(sa.ForeignKey("forms.id", ondelete="RESTRICT"))
    submitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DoubleEntryStatus(enum.StrEnum):
    OPEN = "open"  # flagged, left out of reports until a reviewer decides
    CONFIRMED = "confirmed"  # a double entry: stays out of reports
    DISMISSED = "dismissed"  # a real second visit: counts again


class DoubleEntry(Base):
    """A submission flagged as a probable double entry of `original_id` (D4)."""

    __tablename__ = "double_entries"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), unique=True
    )
    original_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    household_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[DoubleEntryStatus] = mapped_column(
        enum_column(DoubleEntryStatus), default=DoubleEntryStatus.OPEN
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
