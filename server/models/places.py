"""Administrative units: province, optional (pre-2025) district, commune, village.

Units form one tree: province, an optional (pre-2025) district, commune, and
village. Official units keep their government code; villages have no national
code and are edited by hand under their commune. `path` joins the codes from
the province down ("15/02950/03") and is unique, so a commune is always found by
(province, commune) code and never by its name, which repeats across provinces.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


class AdminUnit(Base):
    __tablename__ = "admin_units"
    __table_args__ = (sa.Index("ix_admin_units_level_code", "level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[UnitLevel] = mapped_column(enum_column(UnitLevel))
    # The unit's own word for itself: Xã, Phường, Đặc khu, Thôn, Bản...
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(sa.String(200), unique=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<AdminUnit {self.level} {self.path} {self.name!r}>"
