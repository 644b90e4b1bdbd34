"""Resumable attachment uploads (sync contract C3): one session per attachment.

A tablet on 2G sends a photo in chunks; when the link drops it asks the
session how many bytes the server holds and carries on from there. The bytes
received so far are chunks in the file store every machine reaches
(`server.storage`, `uploads/<token>/<offset>`); `offset` is only advanced with or
after the chunk is stored, so the row never claims more than the store holds.
At the end the SHA-256 the client declared is checked, the
file joins the content-addressed attachment store and, when its submission is
known, becomes one of the submission's attachments.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, UTCDateTime, utcnow


class UploadSession(Base):
    __tablename__ = "upload_sessions"
    __table_args__ = (
        # One session per attachment content of a submission and user: creating it again
        # (a client that lost the answer) finds the same session and its offset.
        sa.UniqueConstraint("user_id", "instance_id", "filename", "sha256"),
        # The daily sweep finds the unfinished ones without reading every finished upload.
        sa.Index(
            "ix_upload_sessions_unfinished",
            "updated_at",
            postgresql_where=sa.text("completed_at IS NULL"),
            sqlite_where=sa.text("completed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # The public handle (random: a session id cannot be guessed from another).
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="RESTRICT"))
    instance_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    offset: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Where the verified bytes are kept in the attachment store, once complete.
    storage_path: Mapped[str | None] = mapped_column(sa.String(500))
    attachment_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("attachments.id", ondelete="SET NULL")
    )
