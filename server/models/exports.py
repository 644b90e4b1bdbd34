"""Exports asked for and made: a file of submissions, households, the ledger or a report.

Small exports stream straight to the browser; an `ExportJob` is an export made in the
background (large ones, and every one asked through `/api/v1/exports`) with its progress, so
a person can leave the page and come back for the file. The file lives in the file
store every machine reaches (`server.storage`) under the key `storage_path` until it expires.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, enum_column, utcnow


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (sa.Index("ix_export_jobs_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    # submissions | households | ledger | report
    kind: Mapped[str] = mapped_column(sa.String(30))
    # csv | xlsx
    format: Mapped[str] = mapped_column(sa.String(10))
    # What was asked: form id, period, unit, level, labels or codes...
    params: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[ExportStatus] = mapped_column(
        enum_column(ExportStatus), default=ExportStatus.QUEUED
    )
    rows_done: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    rows_total: Mapped[int | None] = mapped_column(sa.BigInteger)
    filename: Mapped[str | None] = mapped_column(sa.String(300))
    storage_path: Mapped[str | None] = mapped_column(sa.String(500))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The problem code and message when it failed.
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
