"""Forms, their versions and media files.

A form (`form_id`) has many versions; every version ever uploaded is kept with
its source file so a submission can always be read against the exact form it
was filled with. Only a version's state changes after upload.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.models.people import User
from server.models.places import AdminUnit


class FormState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Form(Base):
    """A form as authors name it; `unit` limits who sees it (None: everyone)."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[AdminUnit | None] = relationship()
    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.id"
    )


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (sa.UniqueConstraint("form_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_pk: Mapped[int] = mapped_column(sa.ForeignKey("forms.id", ondelete="RESTRICT"))
    version: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(500))
    state: Mapped[FormState] = mapped_column(enum_column(FormState), default=FormState.DRAFT)
    # Hex MD5 of `xform`; OpenRosa shows it as "md5:<hex>".
    md5: Mapped[str] = mapped_column(sa.String(32))
    xform: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    source: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    source_filename: Mapped[str] = mapped_column(sa.String(300))
    # The entity list (ODK dataset) the form creates or updates, e.g. "households".
    entity_dataset: Mapped[str | None] = mapped_column(sa.String(100))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    form: Mapped[Form] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()
    media: Mapped[list[FormMedia]] = relationship(
        back_populates="form_version", order_by="FormMedia.filename"
    )

    @property
    def form_id(self) -> str:
        return self.form.form_id


class FormMedia(Base):
    """A file a form version refers to (image, CSV choice list); served in the manifest."""

    __tablename__ = "form_media"
    __table_args__ = (sa.UniqueConstraint("form_version_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    md5: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    form_version: Mapped[FormVersion] = relationship(back_populates="media")
