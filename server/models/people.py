"""Users, the admin units they work in, and the devices they sync from."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, enum_column, utcnow
from server.models.places import AdminUnit


class Role(enum.StrEnum):
    """What a user may do; where is their scope (`user_scope`): the units assigned to them.

    * cadre: collects in their villages and for the households paired with them;
    * commune official: reviews their commune(s);
    * coordinator: manages users, agencies, pairs and forms in their province or district;
    * agency lead: reads and pairs inside the units their agency is assigned to;
    * admin: everything, everywhere.
    """

    CADRE = "cadre"
    COMMUNE_OFFICIAL = "commune_official"
    COORDINATOR = "coordinator"
    AGENCY_LEAD = "agency_lead"
    ADMIN = "admin"


user_scope = sa.Table(
    "user_scope",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "unit_id",
        sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    # MD5(username:realm:password) for HTTP Digest (ODK Collect); see server.openrosa.auth.
    digest_ha1: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(default=True)
    agency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[AdminUnit]] = relationship(secondary=user_scope)
    devices: Mapped[list[Device]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Device(Base):
    """A tablet or client credential: a random token of which only the hash is kept."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="devices")


class WebSession(Base):
    """A review-site sign-in, kept on the server so that signing out ends it everywhere the
    cookie was copied (issue 13, finding 6).

    The cookie stays Flask's signed cookie (language, CSRF token, the page asked for) and
    carries a random session id; only its SHA-256 is stored here. A project table rather than
    Flask-Session: that library moves the whole session server-side and creates its table at
    start-up outside the Alembic migrations, while the site needs only a revocable sign-in.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
