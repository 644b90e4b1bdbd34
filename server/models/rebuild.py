"""The household rebuild's progress (H8): a checkpoint per commune and the differences found.

The rebuild runs as one job per commune, 500 households per transaction; each transaction
also moves its commune's checkpoint past the last household it read and stores what it
found, so a rebuild stopped anywhere (a worker killed, a machine lost) continues from the
checkpoint and ends with the same differences as one that never stopped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, BigID, JSONDoc, UTCDateTime, utcnow

#: The checkpoint key of households that belong to no commune.
NO_COMMUNE = 0


class RebuildCheckpoint(Base):
    __tablename__ = "household_rebuild_checkpoints"

    # A commune's id (no foreign key: NO_COMMUNE stands for households without one).
    commune_key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    fix: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The last household id done, in id order ('' before the first).
    after_id: Mapped[str] = mapped_column(sa.String(36), default="", server_default="")
    households: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    differences: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RebuildDifference(Base):
    __tablename__ = "household_rebuild_differences"
    __table_args__ = (sa.Index("ix_household_rebuild_differences_commune", "commune_key", "id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    commune_key: Mapped[int] = mapped_column(sa.BigInteger)
    household_id: Mapped[str] = mapped_column(sa.String(36))
    field: Mapped[str] = mapped_column(sa.String(100))
    live: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    rebuilt: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
