"""Entity lists kept ready: the CSV ODK Collect downloads, per scope and dataset (issue 19)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class EntityListCache(Base):
    """The bytes and MD5 of the entity list of one scope (`scope_key`: a hash of the unit and
    paired household ids) and dataset, as they were at `version_key` (a hash of what the
    list is made of: each household's id, version, label and last change, and the returned
    review comments). One row per scope and dataset: a new version replaces the old one."""

    __tablename__ = "entity_list_cache"
    __table_args__ = (
        sa.UniqueConstraint("scope_key", "dataset", name="uq_entity_list_cache_scope_dataset"),
        sa.Index("ix_entity_list_cache_made_at", "made_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_key: Mapped[str] = mapped_column(sa.String(64))
    dataset: Mapped[str] = mapped_column(sa.String(100))
    version_key: Mapped[str] = mapped_column(sa.String(64))
    md5: Mapped[str] = mapped_column(sa.String(32))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
