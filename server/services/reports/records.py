"""The records behind a report's figure: households, ledger entries, visits or assignments.

`/reports/records?figure=<key>&level=..&unit=..&<period>` lists, a page at a time, exactly
the rows a figure counted (the same `Selection` selects), bounded by the report's communes
and the reader's scope. A page is a `Table`, so it reads like the report's tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    AgencyAssignment,
    Household,
    Submission,
    SupportEntry,
    SupportKind,
    SupportSource,
    UnitCategory,
    User,
)
from server.problems import Problem
from server.services.paging import keyset_page
from server.services.reports.figures import CATEGORIES, SOURCES, assignments_in, unit_name
from server.services.reports.selection import MOBILISED, NEAR_POOR, Selection, select
from server.services.reports.tables import Cell, Column, Table

HOUSEHOLD_FIGURES = (
    "assigned",
    "helped",
    "escaped",
    "escaped_share",
    "escaped_certified",
    "escaped_near",
    "repoverty",
)
ENTRY_FIGURES = (
    "support",
    "money",
    "goods",
    "mobilised",
    "pupils",
    "household_times",
    "communes_supported",
)
FIGURES = (*HOUSEHOLD_FIGURES, *ENTRY_FIGURES, "visits", "communes")
DEFAULT_LIMIT = 50


@dataclass
class Records:
    selection: Selection
    figure: str
    table: Table
    next_after: str | None


def _after(args: Mapping[str, str], numeric: bool) -> str | int | None:
    text = (args.get("after") or "").strip()
    if not text:
        return None
    if numeric:
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise Problem("400.52", field="after", value=text[:40])
        return int(text)
    return text[:36]


def _limit(args: Mapping[str, str]) -> int:
    text = (args.get("limit") or "").strip()
    if not text:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise Problem("400.52", field="limit", value=text[:40])
    return int(text)


def listed(actor: User, args: Mapping[str, str], today: dt.date) -> Records:
    """One page of the records behind `args['figure']`."""
    figure = (args.get("figure") or "").strip()
    s = select(actor, args, today)
    if figure not in FIGURES:
        raise Problem("404.52", figure=figure[:40], figures=", ".join(FIGURES))
    limit = _limit(args)
    if figure in HOUSEHOLD_FIGURES:
        return _households(s, figure, _after(args, False), limit)
    if figure in ENTRY_FIGURES:
        return _entries(s, figure, args, _after(args, True), limit)
    if figure == "visits":
        return _visits(s, args, _after(args, True), limit)
    return _assignments(s, args, _after(args, True), limit)


def _household_ids(s: Selection, figure: str) -> sa.Select:
    return {
        "assigned": s.assigned_ids,
        "helped": s.helped_ids,
        "escaped": s.escaped_ids,
        "escaped_share": s.escaped_ids,
        "escaped_certified": s.certified_ids,
        "escaped_near": lambda: s.escaped_ids(NEAR_POOR),
        "repoverty": s.repoverty_ids,
    }[figure]()


def _names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(AdminUnit.id, AdminUnit.name).where(AdminUnit.id.in_(ids)))
    return dict(rows.all())


def _households(s: Selection, figure: str, after, limit: int) -> Records:
    stmt = sa.select(Household).where(Household.id.in_(_household_ids(s, figure)))
    page = keyset_page(stmt, Household.id, after, limit)
    places = _names({h.commune_id for h in page.items} | {h.village_id for h in page.items})
    rows = [
        [
            Cell(h.label or h.id, f"/review/households/{h.id}"),
            places.get(h.village_id, ""),
            places.get(h.commune_id, ""),
            (h.properties or {}).get("poverty_status") or "",
            h.id,
        ]
        for h in page.items
    ]
    columns = [
        Column("household", "Hộ", "Household"),
        Column("village", "Thôn", "Village"),
        Column("commune", "Xã", "Commune"),
        Column("status", "Tình trạng hiện nay", "Current status"),
        Column("id", "Mã hộ", "Household id"),
    ]
    table = Table(figure, "Danh sách hộ", "Households", columns, rows)
    return Records(s, figure, table, page.next_after)


def _entries(s: Selection, figure: str, args: Mapping[str, str], after, limit: int) -> Records:
    stmt = s.entries()
    is_money = SupportEntry.kind.has(SupportKind.unit == "vnd")
    mobilised = SupportEntry.source_type.in_(MOBILISED)
    stmt = stmt.where(
        {
            "money": sa.and_(is_money, ~mobilised),
            "goods": sa.and_(~is_money, ~mobilised),
            "mobilised": mobilised,
            "pupils": SupportEntry.pupils > 0,
            "household_times": SupportEntry.household_id.is_not(None),
        }.get(figure, sa.true())
    )
    if kind := (args.get("kind") or "").strip():
        stmt = stmt.where(SupportEntry.kind.has(SupportKind.code == kind[:40]))
    if source := (args.get("source") or "").strip():
        known = source in {v.value for v in SupportSource}
        stmt = stmt.where(SupportEntry.source_type == source if known else sa.false())
    page = keyset_page(stmt, SupportEntry.id, after, limit)
    places = _names({e.commune_id for e in page.items} | {e.village_id for e in page.items})
    households = {
        hid: label
        for hid, label in db.session.execute(
            sa.select(Household.id, Household.label).where(
                Household.id.in_({e.household_id for e in page.items if e.household_id})
            )
        )
    }
    rows = [
        [
            e.id,
            e.given_on,
            e.kind.name_vi + (f" ({e.kind_other})" if e.kind_other else ""),
            e.quantity,
            unit_name(e.unit),
            e.value_vnd,
            e.pupils,
            SOURCES.get(e.source_type, (e.source_type, ""))[0],
            e.source_name or "",
            Cell(
                households.get(e.household_id, e.household_id or ""),
                f"/review/households/{e.household_id}" if e.household_id else None,
            ),
            places.get(e.village_id, "") or places.get(e.commune_id, ""),
        ]
        for e in page.items
    ]
    columns = [
        Column("id", "Mã", "Id", "count"),
        Column("given_on", "Ngày", "Date", "date"),
        Column("kind", "Loại hỗ trợ", "Kind"),
        Column("quantity", "Số lượng", "Quantity", "quantity"),
        Column("unit", "Đơn vị tính", "Unit"),
        Column("value_vnd", "Giá trị (đồng)", "Value (VND)", "vnd"),
        Column("pupils", "Học sinh", "Pupils", "count"),
        Column("source", "Nguồn", "Source"),
        Column("giver", "Người, đơn vị hỗ trợ", "Giver"),
        Column("household", "Hộ", "Household"),
        Column("place", "Địa bàn", "Place"),
    ]
    table = Table(figure, "Các lần hỗ trợ", "Support entries", columns, rows)
    return Records(s, figure, table, page.next_after)


def _visits(s: Selection, args: Mapping[str, str], after, limit: int) -> Records:
    stmt = s.visits()
    if cadre := (args.get("cadre") or "").strip():
        stmt = stmt.where(Submission.submitter_id == _after({"after": cadre}, True))
    if by_agency := (args.get("by_agency") or "").strip():
        members = sa.select(User.id).where(
            User.agency_id.is_(None)
            if by_agency == "none"
            else User.agency_id == _after({"after": by_agency}, True)
        )
        stmt = stmt.where(Submission.submitter_id.in_(members))
    page = keyset_page(stmt, Submission.id, after, limit)
    people = {
        uid: (name, agency)
        for uid, name, agency in db.session.execute(
            sa.select(User.id, User.full_name, Agency.name)
            .outerjoin(Agency, Agency.id == User.agency_id)
            .where(User.id.in_({v.submitter_id for v in page.items if v.submitter_id}))
        )
    }
    places = _names({v.commune_id for v in page.items} | {v.village_id for v in page.items})
    rows = [
        [
            Cell(v.instance_name or v.instance_id, f"/review/submissions/{v.instance_id}"),
            (v.device_time or v.received_at).date(),
            people.get(v.submitter_id, ("", ""))[0],
            people.get(v.submitter_id, ("", ""))[1] or "",
            places.get(v.village_id, "") or places.get(v.commune_id, ""),
            v.review_state.value,
        ]
        for v in page.items
    ]
    columns = [
        Column("visit", "Lượt thăm", "Visit"),
        Column("date", "Ngày", "Date", "date"),
        Column("cadre", "Cán bộ", "Cadre"),
        Column("agency", "Cơ quan", "Agency"),
        Column("place", "Địa bàn", "Place"),
        Column("state", "Trạng thái", "Review state"),
    ]
    table = Table("visits", "Các lượt thăm hộ", "Visits", columns, rows)
    return Records(s, "visits", table, page.next_after)


def _assignments(s: Selection, args: Mapping[str, str], after, limit: int) -> Records:
    ids = assignments_in(s).with_only_columns(AgencyAssignment.id)
    stmt = sa.select(AgencyAssignment).where(AgencyAssignment.id.in_(ids))
    if category := (args.get("category") or "").strip():
        known = category in {v.value for v in UnitCategory}
        stmt = stmt.where(AgencyAssignment.category == category if known else sa.false())
    page = keyset_page(stmt, AgencyAssignment.id, after, limit)
    rows = [
        [
            a.unit.name,
            a.agency.name,
            CATEGORIES.get(a.category, (a.category, ""))[0],
            a.starts_on,
            a.ends_on,
        ]
        for a in page.items
    ]
    columns = [
        Column("unit", "Xã, thôn", "Commune or village"),
        Column("agency", "Cơ quan giúp đỡ", "Agency"),
        Column("category", "Loại địa bàn", "Category"),
        Column("starts_on", "Từ ngày", "From", "date"),
        Column("ends_on", "Đến ngày", "Until", "date"),
    ]
    table = Table("communes", "Xã, thôn được phân công", "Assigned communes", columns, rows)
    return Records(s, "communes", table, page.next_after)
