"""The review's lists and summary as tables, written as XLSX through the exports' writer:
the list of households reviewed (STT, chủ hộ, thôn, before and after) and the summary per
village (the transitions of the circular's summary: phát sinh, thoát, tái nghèo)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, ReviewCampaign, User
from server.services.reports.tables import Column, Table
from server.services.reports.writers import XlsxSink
from server.services.reviews import campaigns, transitions

STATUS_VI = {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo", "average": "Hộ có mức sống trung "
             "bình", "above": "Hộ có mức sống trên trung bình", None: ""}  # fmt: skip


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    stmt = sa.select(AdminUnit.id, AdminUnit.name).where(AdminUnit.id.in_(ids))
    return dict(db.session.execute(stmt).all())


def household_list(user: User, campaign: ReviewCampaign) -> Table:
    listed = campaigns.entries(user, campaign)
    homes = campaigns.households_of(listed)
    villages = _names(e.village_id for e in listed)
    columns = [
        Column("stt", "STT", "No.", "count"),
        Column("head", "Họ và tên chủ hộ", "Head of household"),
        Column("code", "Mã hộ", "Household code"),
        Column("village", "Thôn, bản", "Village"),
        Column("before", "Phân loại trước rà soát", "Before the review"),
        Column("result", "Kết quả rà soát", "Review result"),
        Column("agreed", "Họp thôn thống nhất", "Agreed by the village meeting"),
    ]
    rows = []
    for n, e in enumerate(listed, start=1):
        props = homes[e.household_id].properties or {}
        agreed = {True: "Có", False: "Không", None: ""}[e.agreed]
        rows.append([n, props.get("head_name") or homes[e.household_id].label or "",
                     props.get("household_code") or "", villages.get(e.village_id, ""),
                     STATUS_VI.get(e.status_before, e.status_before),
                     STATUS_VI.get(e.proposed_status, e.proposed_status), agreed])  # fmt: skip
    title = f"Danh sách hộ rà soát năm {campaign.year}"
    return Table("review_list", title, f"Households reviewed, {campaign.year}", columns, rows)


SUMMARY_COLUMNS = [
    ("newly_poor", "Hộ nghèo phát sinh", "Newly poor"),
    ("newly_near_poor", "Hộ cận nghèo phát sinh", "Newly near-poor"),
    ("poor_to_near_poor", "Hộ nghèo thành hộ cận nghèo", "Poor to near-poor"),
    ("near_poor_to_poor", "Hộ cận nghèo thành hộ nghèo", "Near-poor to poor"),
    ("escaped_poor", "Hộ thoát nghèo", "Escaped poverty"),
    ("escaped_near_poor", "Hộ thoát cận nghèo", "Escaped near-poverty"),
    ("fell_back", "Hộ tái nghèo, tái cận nghèo", "Fell back"),
]


def transitions_table(commune_ids, year: int, key: str = "transitions") -> Table:
    """The transitions of `year` per village of the communes `commune_ids`, with a total."""
    found = transitions.counts(commune_ids, year)
    names = _names(found)
    columns = [Column("stt", "STT", "No.", "count"), Column("village", "Thôn, bản", "Village")]
    columns += [Column(k, vi, en, "count") for k, vi, en in SUMMARY_COLUMNS]
    order = sorted(found, key=lambda v: (names.get(v, ""), v or 0))
    rows = [[n, names.get(v, "")] + [found[v][k] for k, _vi, _en in SUMMARY_COLUMNS]
            for n, v in enumerate(order, start=1)]  # fmt: skip
    total = transitions.totals(commune_ids, year)
    rows.append(["", "Tổng cộng"] + [total[k] for k, _vi, _en in SUMMARY_COLUMNS])
    return Table(key, f"Tổng hợp kết quả rà soát năm {year}",
                 f"Review results, {year}", columns, rows)  # fmt: skip


def write_xlsx(user: User, campaign: ReviewCampaign, path: Path, zone: str | None) -> Path:
    """The campaign's list and summary as one workbook at `path`."""
    sink = XlsxSink(path, "vi", zone)
    for table in (household_list(user, campaign),
                  transitions_table([campaign.commune_id], campaign.year)):  # fmt: skip
        append = sink.table(table.key, table.title("vi"), table.columns)
        for row in table.values():
            append(row)
    sink.close()
    return path


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(user: User, campaign: ReviewCampaign, zone: str | None) -> tuple[bytes, str]:
    """The campaign's workbook (`write_xlsx`) as bytes, and the file name to download it as."""
    with tempfile.TemporaryDirectory() as folder:
        data = write_xlsx(user, campaign, Path(folder) / "review.xlsx", zone).read_bytes()
    return data, f"ra-soat-{campaign.year}-{campaign.id}.xlsx"
