"""The support ledger: what was given, to whom, by whom, and what it was worth.

* A `SupportKind` is one line of the catalogue (cash, rice, books, a cow, lent capital...):
  data, not code, so a province can add the kinds it gives. Its `category` says how it is
  totalled: money (VND), goods (a quantity in the kind's unit), a service (workdays, training),
  a loan to be repaid, or a sponsorship over time (a monthly allowance, a sponsored pupil).
* A `SupportEntry` is one gift, loan or service: to a household, or to a commune or village
  (a road, lights, equipment, a production model); a quantity in a unit, a value in VND, a
  date, a source (agency, cadre, local government, organisation, business, donor) and who
  recorded it. Entries come from the visit form's support repeat (`submission_id` and
  `item_index` name the repeat instance, so a resent visit never counts twice) or from the
  site. An entry is never deleted: a correction voids it (`voided_at`, with who and why) and,
  when needed, records a new one.
* A `LoanRepayment` is one repayment of a lent entry (category loan).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, BigID, UTCDateTime, enum_column, utcnow


class SupportCategory(enum.StrEnum):
    MONEY = "money"  # tiền mặt: totalled in VND
    GOODS = "goods"  # hiện vật: totalled by unit (kg of rice, sets of books, head of cattle)
    SERVICE = "service"  # ngày công, tập huấn, khám bệnh
    LOAN = "loan"  # cho vay, cho mượn: repaid (`LoanRepayment`)
    SPONSORSHIP = "sponsorship"  # trợ cấp hằng tháng, nhận đỡ đầu: given over time


class SupportSource(enum.StrEnum):
    """Who gave it, as the programme's reports split the totals."""

    AGENCY = "agency"  # cơ quan, đơn vị (provincial, district)
    CADRE = "cadre"  # cán bộ, đảng viên (personally)
    LOCAL_GOVERNMENT = "local_government"  # cấp ủy, chính quyền huyện, xã
    ORGANISATION = "organisation"  # đoàn thể, tổ chức (Hội Phụ nữ, Đoàn Thanh niên...)
    BUSINESS = "business"  # doanh nghiệp (mobilised)
    DONOR = "donor"  # nhà hảo tâm, mạnh thường quân (mobilised)
    OTHER = "other"


class SupportKind(Base):
    """One kind of support in the catalogue."""

    __tablename__ = "support_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    category: Mapped[SupportCategory] = mapped_column(enum_column(SupportCategory))
    # The unit quantities are counted in (a code of `server.services.programme` units:
    # vnd, kg, set, item, head, plant, workday, card, course, person, package, house, m2...).
    unit: Mapped[str] = mapped_column(sa.String(20))
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    # Kinds shown together in reports (livestock, education, housing, health, works).
    group: Mapped[str | None] = mapped_column(sa.String(40))
    # Education kinds: an entry also counts the pupils it helped.
    counts_pupils: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    def __repr__(self) -> str:
        return f"<SupportKind {self.code}>"


class SupportEntry(Base):
    """One gift, loan or service, to a household or to a commune or village."""

    __tablename__ = "support_entries"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "item_index"),
        sa.Index("ix_support_entries_commune_given", "commune_id", "given_on"),
        sa.Index("ix_support_entries_household", "household_id", "given_on"),
        sa.Index("ix_support_entries_agency_given", "source_agency_id", "given_on"),
        sa.CheckConstraint(
            "household_id IS NOT NULL OR commune_id IS NOT NULL", name="support_entry_recipient"
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind_id: Mapped[int] = mapped_column(sa.ForeignKey("support_kinds.id", ondelete="RESTRICT"))
    # What "other" was (the form's "specify"), or a description of the gift (the road, the model).
    kind_other: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The recipient: a household (its commune and village copied for scope and reports), or a
    # commune or village (household_id None).
    household_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("households.id", ondelete="RESTRICT")
    )
    commune_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT")
    )
    village_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[float | None] = mapped_column(sa.Numeric(18, 3, asdecimal=False))
    unit: Mapped[str] = mapped_column(sa.String(20))
    value_vnd: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Pupils helped by an education entry (books, bicycles, a scholarship).
    pupils: Mapped[int | None] = mapped_column(sa.Integer)
    given_on: Mapped[dt.date] = mapped_column(sa.Date)
    source_type: Mapped[SupportSource] = mapped_column(enum_column(SupportSource, length=20))
    source_agency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="RESTRICT")
    )
    source_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # A business's or donor's name, or the giver as the cadre typed it.
    source_name: Mapped[str | None] = mapped_column(sa.String(300))
    # From a visit form: the submission and the position of the repeat instance (0-based).
    submission_id: Mapped[int | None] = mapped_column(
        BigID, sa.ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    item_index: Mapped[int | None] = mapped_column(sa.Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(1000))

    kind: Mapped[SupportKind] = relationship()
    repayments: Mapped[list[LoanRepayment]] = relationship(
        back_populates="entry", order_by="LoanRepayment.paid_on"
    )


class LoanRepayment(Base):
    """One repayment of a lent entry."""

    __tablename__ = "loan_repayments"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigID, sa.ForeignKey("support_entries.id", ondelete="RESTRICT"), index=True
    )
    paid_on: Mapped[dt.date] = mapped_column(sa.Date)
    amount_vnd: Mapped[int] = mapped_column(sa.BigInteger)
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[SupportEntry] = relationship(back_populates="repayments")
