"""Submissions, their raw payloads and attachments, and the quarantine.

A submission row is small and listed often; the raw payload it arrived as is
immutable and large, so it lives in `submission_payloads` and is only read
when someone asks for it. Nothing that reached the server is deleted: payloads
that cannot be applied (conflicting resends, unknown forms) go to quarantine.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, enum_column, utcnow
from server.models.forms import FormVersion

#: PostgreSQL only (migration `b7e4c2a91d05`; kept out of the models' metadata, like the
#: partitions): one row per instanceID ever stored, claimed in the statement that inserts
#: the submission (`WITH claimed AS (INSERT INTO submission_instances ... ON CONFLICT DO
#: NOTHING RETURNING ...) INSERT INTO submissions ... FROM claimed`). `submissions` is
#: partitioned by RANGE (id), so it cannot hold UNIQUE (instance_id); the primary key here
#: is R7's guard instead, and the foreign key submissions (instance_id, id) ->
#: submission_instances (instance_id, submission_id) holds every row to its own claim, so no
#: path (not even raw SQL) can store one instanceID twice. A delete trigger on `submissions`
#: frees the claim.
SUBMISSION_INSTANCES = sa.Table(
    "submission_instances",
    sa.MetaData(),
    sa.Column("instance_id", sa.String(100), primary_key=True),
    sa.Column("submission_id", sa.BigInteger, nullable=False),
)


class ReviewState(enum.StrEnum):
    RECEIVED = "received"
    HAS_ISSUES = "has_issues"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        sa.Index("ix_submissions_commune_state", "commune_id", "review_state"),
        sa.Index("ix_submissions_village_received", "village_id", "received_at"),
        sa.Index("ix_submissions_form_version_received", "form_version_id", "received_at"),
        # A commune's queue counted and paged newest first, its month on the dashboard.
        sa.Index("ix_submissions_commune_current", "commune_id", "superseded", "received_at"),
        # The queue's filter lists: who sent there and with which forms, one entry each.
        sa.Index(
            "ix_submissions_commune_sender_form", "commune_id", "submitter_id", "form_version_id"
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # A database constraint, not an application check, makes a delivery count once (R7): on
    # SQLite UNIQUE (instance_id) (`uq_submissions_instance_id`, made by the first migration);
    # on PostgreSQL, where the table is partitioned by id and so cannot have it, the claim in
    # `submission_instances` (see `SUBMISSION_INSTANCES`). Look a submission up by its
    # instanceID with `instance_is`, which takes the way each database indexes.
    instance_id: Mapped[str] = mapped_column(sa.String(100))
    root_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    deprecated_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    instance_name: Mapped[str | None] = mapped_column(sa.String(300))
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="RESTRICT")
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDoc, deferred=True)
    canonical_hash: Mapped[str] = mapped_column(sa.String(64))
    review_state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState), default=ReviewState.RECEIVED
    )
    superseded: Mapped[bool] = mapped_column(default=False)
    # What breaks the form (R6): [{path, code, message, message_vi, severity, value}].
    issues: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDoc, deferred=True)
    submitter_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="RESTRICT"), index=True
    )
    device_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Device clock minus server clock at the device's last sync, in seconds (C5).
    clock_offset_seconds: Mapped[float | None] = mapped_column(sa.Float)
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )

    form_version: Mapped[FormVersion] = relationship()
    payload: Mapped[SubmissionPayload] = relationship(
        back_populates="submission", cascade="all, delete-orphan", uselist=False
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.filename"
    )


def claims_instances(dialect: str) -> bool:
    """Whether submissions on `dialect` are guarded by `submission_instances` (PostgreSQL)."""
    return dialect == "postgresql"


def instance_is(instance_id: Any, dialect: str | None = None) -> sa.ColumnElement[bool]:
    """The condition "the submission whose instanceID is `instance_id`": the one way to look a
    submission up by instanceID. On PostgreSQL through its claim, whose submission id prunes
    the partitions to one; on SQLite by the unique instance_id. `dialect`: the app's
    database's unless given."""
    if dialect is None:  # the app's Flask-SQLAlchemy (server.db imports the models)
        dialect = current_app.extensions["sqlalchemy"].engine.dialect.name
    if not claims_instances(dialect):
        return Submission.instance_id == instance_id
    claim = SUBMISSION_INSTANCES.c
    return Submission.id == (
        sa.select(claim.submission_id).where(claim.instance_id == instance_id).scalar_subquery()
    )


def claiming(insert: str) -> str:
    """`insert` (raw SQL: INSERT INTO submissions ... SELECT ..., for loads in bulk: benches,
    tests) with the claims of its rows made in the same statement on PostgreSQL. The foreign
    key to the claims is checked at the end of the statement, so the claims may follow."""
    return (
        f"WITH new_submissions AS ({insert} RETURNING id, instance_id)"
        " INSERT INTO submission_instances (instance_id, submission_id)"
        " SELECT instance_id, id FROM new_submissions"
    )


@sa.event.listens_for(Submission, "before_insert")
def _claim_instance(_mapper, connection: sa.Connection, target: Submission) -> None:
    """A submission added through the ORM claims its instanceID first (PostgreSQL): a second
    one raises IntegrityError on the claim's primary key, as UNIQUE does on SQLite."""
    if not claims_instances(connection.dialect.name):
        return
    if target.id is None:
        target.id = connection.scalar(sa.text("SELECT nextval('submissions_id_seq')"))
    connection.execute(
        sa.insert(SUBMISSION_INSTANCES).values(
            instance_id=target.instance_id, submission_id=target.id
        )
    )


class SubmissionPayload(Base):
    """The bytes a submission arrived as (XML or JSON), exactly as received."""

    __tablename__ = "submission_payloads"

    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)

    submission: Mapped[Submission] = relationship(back_populates="payload")


class Attachment(Base):
    """A file sent with a submission; the bytes live in the attachment store at `storage_path`."""

    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("submission_id", "filename"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_path: Mapped[str] = mapped_column(sa.String(500))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class QuarantineItem(Base):
    """A payload the server kept but could not apply, with why (a problem code) and context."""

    __tablename__ = "quarantine"
    __table_args__ = (sa.Index("ix_quarantine_form", "form_id", "form_version"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    reason_code: Mapped[str] = mapped_column(sa.String(10))
    message: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(120))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    instance_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    form_id: Mapped[str | None] = mapped_column(sa.String(200))
    form_version: Mapped[str | None] = mapped_column(sa.String(100))
    submitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="RESTRICT"))
    # What reprocessing needs besides the payload: attachments kept on disk, device
    # time and clock offset, the Vietnamese message, the payload's SHA-256.
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    submission: Mapped[Submission | None] = relationship()
