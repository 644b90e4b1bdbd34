"""The programme's report for a commune, district, province or agency and a period.

`build(actor, args, today)` reads the selection (`selection.select`: level, unit or agency,
period, the reader's scope) and counts every figure in SQL over the selection's communes:
households assigned and helped, household-times (lượt hộ), escapes and their share,
re-poverty, support by kind and by source type (money and goods apart, "mobilised" help from
businesses and donors apart), communes and villages helped by category, visits per cadre and
per agency, pupils sponsored. Each figure and table cell links to the records behind it
(`records_href`), and every table is a `tables.Table`, so the site, the API and the exports
show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from forms.library.support_kinds import UNITS
from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    AgencyAssignment,
    Household,
    Submission,
    SupportKind,
    SupportSource,
    UnitCategory,
    UnitLevel,
    User,
)
from server.services.reports import charts
from server.services.reports.periods import Period
from server.services.reports.selection import MOBILISED, NEAR_POOR, Selection, select
from server.services.reports.tables import Cell, Column, Table

SOURCES: dict[str, tuple[str, str]] = {
    SupportSource.AGENCY: ("Cơ quan, đơn vị", "Agencies"),
    SupportSource.CADRE: ("Cán bộ, đảng viên", "Cadres and party members"),
    SupportSource.LOCAL_GOVERNMENT: ("Cấp ủy, chính quyền địa phương", "Local government"),
    SupportSource.ORGANISATION: ("Đoàn thể, tổ chức", "Organisations"),
    SupportSource.BUSINESS: ("Doanh nghiệp (vận động)", "Businesses (mobilised)"),
    SupportSource.DONOR: ("Nhà hảo tâm (vận động)", "Donors (mobilised)"),
    SupportSource.OTHER: ("Nguồn khác", "Other sources"),
}
CATEGORIES: dict[str, tuple[str, str]] = {
    UnitCategory.POOR: ("Xã nghèo", "Poor communes"),
    UnitCategory.SPECIAL_DIFFICULTY: ("Xã đặc biệt khó khăn", "Communes in special difficulty"),
    UnitCategory.COASTAL: ("Xã bãi ngang ven biển", "Coastal communes"),
    UnitCategory.ISLAND: ("Xã đảo", "Island communes"),
    UnitCategory.OTHER: ("Khác", "Other"),
}
LEVEL_NAMES = {
    "province": ("tỉnh", "province"),
    "district": ("huyện", "district"),
    "commune": ("xã", "commune"),
    "agency": ("cơ quan", "agency"),
}


@dataclass(frozen=True)
class Figure:
    """A headline number and the link to the records behind it."""

    key: str
    label_vi: str
    label_en: str
    value: Any
    kind: str = "count"
    href: str | None = None

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass
class Report:
    selection: Selection
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)

    @property
    def period(self) -> Period:
        return self.selection.period

    @property
    def level(self) -> str:
        return self.selection.level

    @property
    def name(self) -> str:
        s = self.selection
        return s.agency.name if s.agency is not None else s.unit.name

    def params(self) -> dict[str, str]:
        return self.selection.params()

    def title(self, lang: str = "vi") -> str:
        if lang == "vi":
            return f"Báo cáo kết quả giúp đỡ: {self.name}, {self.period.label}"
        return f"Programme report: {self.name}, {self.period.label}"

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def records_href(selection: Selection, figure: str, **extra: Any) -> str:
    """The records page behind a figure (the API serves the same under /api/v1)."""
    query = {"figure": figure} | selection.params() | {k: v for k, v in extra.items() if v}
    return "/reports/records?" + urlencode(query)


def report_href(params: Mapping[str, str]) -> str:
    return "/reports?" + urlencode(dict(params))


def _count(ids: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0


def build(actor: User, args: Mapping[str, str], today: dt.date) -> Report:
    """The report `args` name (level, unit or agency, period) as `actor` may read it."""
    s = select(actor, args, today)
    kinds = _support_by_kind(s)
    headline = _figures(s)
    below = _children(s)
    tables = [
        _figures_table(headline),
        kinds,
        _support_by_source(s),
        _support_by_source_kind(s),
        _units_by_category(s),
        _visits_by_cadre(s),
        _visits_by_agency(s),
        _children_table(s, below),
        _review_transitions(s),
    ]
    return Report(s, headline, tables, below, charts.of(below, kinds))


# -- headline figures -----------------------------------------------------------------------


def _figures(s: Selection) -> list[Figure]:
    e = s.entries().subquery()
    totals = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(e.c.household_id)),
            sa.func.coalesce(sa.func.sum(e.c.pupils), 0),
            sa.func.count(e.c.id),
        )
    ).one()
    times = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(e.c.household_id, e.c.given_on)
            .where(e.c.household_id.is_not(None))
            .distinct()
            .subquery()
        )
    )
    money = _money(s)
    helped = totals[0]
    escaped = _count(s.escaped_ids())
    communes = _assigned_units(s, UnitLevel.COMMUNE)
    with_support = db.session.scalar(sa.select(sa.func.count(sa.distinct(e.c.commune_id))))
    visits = _count(s.visits().with_only_columns(Submission.id))

    def f(key, vi, en, value, kind="count", **extra):
        return Figure(key, vi, en, value, kind, records_href(s, key, **extra))

    share = escaped / helped if helped else 0.0
    return [
        f("assigned", "Hộ được phân công giúp đỡ", "Households assigned", _count(s.assigned_ids())),
        f("helped", "Hộ được giúp đỡ", "Households helped", helped),
        f("household_times", "Lượt hộ được giúp đỡ", "Household-times helped", times or 0),
        f(
            "escaped",
            "Hộ thoát nghèo (trong số hộ được giúp)",
            "Helped households that escaped poverty",
            escaped,
        ),
        f("escaped_share", "Tỷ lệ thoát nghèo", "Share that escaped poverty", share, "share"),
        f(
            "escaped_certified",
            "Thoát nghèo đã công nhận",
            "Escapes certified",
            _count(s.certified_ids()),
        ),
        f(
            "escaped_near",
            "Hộ thoát cận nghèo",
            "Households that escaped near-poverty",
            _count(s.escaped_ids(NEAR_POOR)),
        ),
        f(
            "repoverty",
            "Hộ tái nghèo",
            "Households poor again (re-poverty)",
            _count(s.repoverty_ids()),
        ),
        f("support", "Tổng giá trị hỗ trợ", "Support in all (VND)", money["programme"], "vnd"),
        f("money", "Tiền mặt, tiền cho vay", "Money given or lent (VND)", money["money"], "vnd"),
        f("goods", "Giá trị hiện vật, dịch vụ", "Goods and services (VND)", money["goods"], "vnd"),
        f(
            "mobilised",
            "Vận động doanh nghiệp, nhà hảo tâm",
            "Mobilised from businesses and donors (VND)",
            money["mobilised"],
            "vnd",
        ),
        f("communes", "Xã được giúp đỡ (phân công)", "Communes helped (assigned)", communes),
        f(
            "communes_supported",
            "Xã có hỗ trợ",
            "Communes that received support",
            with_support or 0,
        ),
        f("visits", "Lượt thăm hộ", "Visits", visits),
        f("pupils", "Học sinh được hỗ trợ", "Pupils sponsored", int(totals[1] or 0)),
    ]


def _money(s: Selection) -> dict[str, int]:
    """Values in VND: the programme's own help (money and goods apart) and mobilised help."""
    e = s.entries().subquery()
    is_money = SupportKind.unit == "vnd"
    mobilised = e.c.source_type.in_(MOBILISED)
    value = sa.func.coalesce(e.c.value_vnd, 0)
    row = db.session.execute(
        sa.select(
            sa.func.sum(sa.case((sa.and_(~mobilised, is_money), value), else_=0)),
            sa.func.sum(sa.case((sa.and_(~mobilised, ~is_money), value), else_=0)),
            sa.func.sum(sa.case((mobilised, value), else_=0)),
        ).join(SupportKind, SupportKind.id == e.c.kind_id)
    ).one()
    money, goods, mob = (int(v or 0) for v in row)
    return {"money": money, "goods": goods, "programme": money + goods, "mobilised": mob}


def _figures_table(figures: list[Figure]) -> Table:
    return Table(
        "figures",
        "Số liệu chính",
        "Headline figures",
        [Column("figure", "Chỉ tiêu", "Figure"), Column("value", "Số liệu", "Value", "quantity")],
        [[Cell(f.label_vi), Cell(f.value, f.href)] for f in figures],
    )


# -- support --------------------------------------------------------------------------------

_KIND_COLUMNS = [
    Column("unit", "Đơn vị tính", "Unit"),
    Column("quantity", "Số lượng", "Quantity", "quantity"),
    Column("value_vnd", "Giá trị (đồng)", "Value (VND)", "vnd"),
    Column("entries", "Số lần hỗ trợ", "Entries", "count"),
]


def _kind_rows(s: Selection, by_source: bool) -> list[sa.Row]:
    e = s.entries().subquery()
    keys = [e.c.source_type] if by_source else []
    stmt = (
        sa.select(
            *keys,
            SupportKind.code,
            SupportKind.name_vi,
            SupportKind.unit,
            sa.func.sum(e.c.quantity),
            sa.func.sum(e.c.value_vnd),
            sa.func.count(e.c.id),
        )
        .join(SupportKind, SupportKind.id == e.c.kind_id)
        .group_by(*keys, SupportKind.code, SupportKind.name_vi, SupportKind.unit)
        .group_by(SupportKind.position)
        .order_by(*keys, SupportKind.position, SupportKind.code)
    )
    return list(db.session.execute(stmt))


def unit_name(code: str) -> str:
    """The unit as the Vietnamese reports write it ("đồng", "bộ", "kg"); unknown codes as
    they are (a province's own units)."""
    return UNITS.get(code, (code, code))[0]


def _quantity(value: Any) -> Any:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _support_by_kind(s: Selection) -> Table:
    rows = [
        [
            Cell(name, records_href(s, "support", kind=code)),
            unit_name(unit),
            _quantity(qty),
            int(value or 0),
            Cell(n, records_href(s, "support", kind=code)),
        ]
        for code, name, unit, qty, value, n in _kind_rows(s, by_source=False)
    ]
    columns = [Column("kind", "Loại hỗ trợ", "Kind of support"), *_KIND_COLUMNS]
    return Table("support_by_kind", "Hỗ trợ theo loại", "Support by kind", columns, rows)


def _support_by_source_kind(s: Selection) -> Table:
    rows = [
        [
            SOURCES[source][0],
            Cell(name, records_href(s, "support", kind=code, source=source.value)),
            unit_name(unit),
            _quantity(qty),
            int(value or 0),
            n,
        ]
        for source, code, name, unit, qty, value, n in _kind_rows(s, by_source=True)
    ]
    columns = [
        Column("source", "Nguồn", "Source"),
        Column("kind", "Loại hỗ trợ", "Kind of support"),
        *_KIND_COLUMNS,
    ]
    return Table(
        "support_by_source_kind",
        "Hỗ trợ theo nguồn và loại",
        "Support by source and kind",
        columns,
        rows,
    )


def _support_by_source(s: Selection) -> Table:
    e = s.entries().subquery()
    is_money = SupportKind.unit == "vnd"
    value = sa.func.coalesce(e.c.value_vnd, 0)
    stmt = (
        sa.select(
            e.c.source_type,
            sa.func.sum(sa.case((is_money, value), else_=0)),
            sa.func.sum(sa.case((is_money, 0), else_=value)),
            sa.func.count(sa.distinct(e.c.household_id)),
            sa.func.count(e.c.id),
        )
        .join(SupportKind, SupportKind.id == e.c.kind_id)
        .group_by(e.c.source_type)
    )
    found = {row[0]: row[1:] for row in db.session.execute(stmt)}
    rows = []
    for source in SupportSource:
        if source not in found:
            continue
        money, goods, households, n = found[source]
        href = records_href(s, "support", source=source.value)
        rows.append(
            [
                Cell(SOURCES[source][0], href),
                source in MOBILISED,
                int(money or 0),
                int(goods or 0),
                Cell(int(money or 0) + int(goods or 0), href),
                households,
                n,
            ]
        )
    columns = [
        Column("source", "Nguồn", "Source"),
        Column("mobilised", "Vận động", "Mobilised"),
        Column("money_vnd", "Tiền (đồng)", "Money (VND)", "vnd"),
        Column("goods_vnd", "Hiện vật, dịch vụ (đồng)", "Goods and services (VND)", "vnd"),
        Column("total_vnd", "Tổng (đồng)", "Total (VND)", "vnd"),
        Column("households", "Số hộ", "Households", "count"),
        Column("entries", "Số lần hỗ trợ", "Entries", "count"),
    ]
    return Table("support_by_source", "Hỗ trợ theo nguồn", "Support by source", columns, rows)


# -- communes and villages by category -------------------------------------------------------


def assignments_in(s: Selection) -> sa.Select:
    """Agency assignments overlapping the period, to the report's communes or their villages."""
    communes = s.commune_ids()
    villages = sa.select(AdminUnit.id).where(AdminUnit.parent_id.in_(communes))
    stmt = sa.select(AgencyAssignment).where(
        s.overlaps(AgencyAssignment),
        sa.or_(AgencyAssignment.unit_id.in_(communes), AgencyAssignment.unit_id.in_(villages)),
    )
    if s.agency is not None:
        stmt = stmt.where(AgencyAssignment.agency_id.in_(s.agency_ids()))
    return stmt


def _assigned_units(s: Selection, level: UnitLevel) -> int:
    a = assignments_in(s).subquery()
    stmt = (
        sa.select(sa.func.count(sa.distinct(a.c.unit_id)))
        .join(AdminUnit, AdminUnit.id == a.c.unit_id)
        .where(AdminUnit.level == level)
    )
    return db.session.scalar(stmt) or 0


def _units_by_category(s: Selection) -> Table:
    a = assignments_in(s).subquery()
    e = s.entries().subquery()
    supported = sa.or_(
        a.c.unit_id.in_(sa.select(e.c.commune_id)), a.c.unit_id.in_(sa.select(e.c.village_id))
    )
    stmt = (
        sa.select(
            a.c.category,
            AdminUnit.level,
            sa.func.count(sa.distinct(a.c.unit_id)),
            sa.func.count(sa.distinct(sa.case((supported, a.c.unit_id)))),
        )
        .join(AdminUnit, AdminUnit.id == a.c.unit_id)
        .group_by(a.c.category, AdminUnit.level)
    )
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    for category, level, n, with_support in db.session.execute(stmt):
        counts.setdefault(category, {})[level] = (n, with_support)
    rows = []
    for category in UnitCategory:
        if category not in counts:
            continue
        communes = counts[category].get(UnitLevel.COMMUNE, (0, 0))
        villages = counts[category].get(UnitLevel.VILLAGE, (0, 0))
        href = records_href(s, "communes", category=category.value)
        rows.append([CATEGORIES[category][0], Cell(communes[0], href), communes[1], *villages])
    columns = [
        Column("category", "Loại địa bàn", "Category"),
        Column("communes", "Xã được phân công", "Communes assigned", "count"),
        Column("communes_supported", "Xã có hỗ trợ", "Communes with support", "count"),
        Column("villages", "Thôn được phân công", "Villages assigned", "count"),
        Column("villages_supported", "Thôn có hỗ trợ", "Villages with support", "count"),
    ]
    return Table(
        "units_by_category",
        "Xã, thôn được giúp đỡ theo loại",
        "Communes and villages helped by category",
        columns,
        rows,
    )


# -- visits -----------------------------------------------------------------------------------


def _visits_by_cadre(s: Selection) -> Table:
    v = s.visits().subquery()
    stmt = (
        sa.select(User.id, User.full_name, User.username, Agency.name, sa.func.count(v.c.id))
        .join(User, User.id == v.c.submitter_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .group_by(User.id, User.full_name, User.username, Agency.name)
        .order_by(sa.func.count(v.c.id).desc(), User.full_name)
    )
    rows = [
        [name, username, agency or "", Cell(n, records_href(s, "visits", cadre=uid))]
        for uid, name, username, agency, n in db.session.execute(stmt)
    ]
    columns = [
        Column("cadre", "Cán bộ", "Cadre"),
        Column("username", "Tên đăng nhập", "Username"),
        Column("agency", "Cơ quan", "Agency"),
        Column("visits", "Lượt thăm", "Visits", "count"),
    ]
    return Table("visits_by_cadre", "Lượt thăm hộ theo cán bộ", "Visits per cadre", columns, rows)


def _visits_by_agency(s: Selection) -> Table:
    v = s.visits().subquery()
    stmt = (
        sa.select(Agency.id, Agency.name, sa.func.count(v.c.id))
        .select_from(v)
        .join(User, User.id == v.c.submitter_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .group_by(Agency.id, Agency.name)
        .order_by(sa.func.count(v.c.id).desc())
    )
    rows = [
        [
            name or "(không thuộc cơ quan)",
            Cell(n, records_href(s, "visits", by_agency=agency_id or "none")),
        ]
        for agency_id, name, n in db.session.execute(stmt)
    ]
    columns = [
        Column("agency", "Cơ quan", "Agency"),
        Column("visits", "Lượt thăm", "Visits", "count"),
    ]
    return Table(
        "visits_by_agency", "Lượt thăm hộ theo cơ quan", "Visits per agency", columns, rows
    )


def _review_transitions(s: Selection) -> Table:
    """The review's transitions (issue 18) of the period's year, per village of the report's
    communes (bounded by the report's scope)."""
    from server.services.reviews.lists import transitions_table  # reviews read reports' tables

    return transitions_table(s.commune_ids(), s.period.last_day.year, "review_transitions")


# -- drill-down -------------------------------------------------------------------------------


def _child_units(s: Selection) -> tuple[str, list[AdminUnit], dict[int, int]]:
    """The child level, its units, and which child each grouping key (a commune, or for a
    commune report a village) rolls up to."""
    if s.level == "commune":
        villages = db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.parent_id == s.unit.id).order_by(AdminUnit.name)
        ).all()
        return "village", list(villages), {v.id: v.id for v in villages}
    communes = db.session.execute(
        sa.select(AdminUnit.id, AdminUnit.parent_id).where(AdminUnit.id.in_(s.commune_ids()))
    ).all()
    if s.level == "province":
        children = db.session.scalars(
            sa.select(AdminUnit)
            .where(
                AdminUnit.parent_id == s.unit.id,
                AdminUnit.level.in_([UnitLevel.DISTRICT, UnitLevel.COMMUNE]),
            )
            .order_by(AdminUnit.name)
        ).all()
        ids = {c.id for c in children}
        roll = {cid: (cid if cid in ids else parent) for cid, parent in communes}
        return "district_or_commune", list(children), roll
    ids = [cid for cid, _ in communes]
    children = db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.id.in_(ids)).order_by(AdminUnit.name)
    ).all()
    return "commune", list(children), {cid: cid for cid in ids}


def _children(s: Selection) -> list[dict[str, Any]]:
    _child_level, units, roll = _child_units(s)
    by_village = s.level == "commune"
    e = s.entries().subquery()
    key = e.c.village_id if by_village else e.c.commune_id
    entry_rows = db.session.execute(
        sa.select(
            key,
            sa.func.count(sa.distinct(e.c.household_id)),
            sa.func.coalesce(sa.func.sum(e.c.value_vnd), 0),
            sa.func.coalesce(sa.func.sum(e.c.pupils), 0),
        ).group_by(key)
    ).all()
    times = sa.select(key.label("k"), e.c.household_id, e.c.given_on).where(
        e.c.household_id.is_not(None)
    )
    times = times.distinct().subquery()
    time_rows = db.session.execute(sa.select(times.c.k, sa.func.count()).group_by(times.c.k)).all()
    hkey = Household.village_id if by_village else Household.commune_id
    escaped_rows = db.session.execute(
        sa.select(hkey, sa.func.count()).where(Household.id.in_(s.escaped_ids())).group_by(hkey)
    ).all()
    sums: dict[int, dict[str, int]] = {u.id: dict.fromkeys(_CHILD_KEYS, 0) for u in units}

    def add(k: int | None, name: str, n: int) -> None:
        child = roll.get(k) if k is not None else None
        if child in sums:
            sums[child][name] += int(n or 0)

    for k, helped, value, pupils in entry_rows:
        add(k, "helped", helped)
        add(k, "support", value)
        add(k, "pupils", pupils)
    for k, n in time_rows:
        add(k, "household_times", n)
    for k, n in escaped_rows:
        add(k, "escaped", n)
    found = []
    for unit in units:
        params = None
        if unit.level != UnitLevel.VILLAGE:  # a village has no report of its own
            params = {"level": unit.level.value, "unit": str(unit.id)} | s.period.params()
        found.append(
            {
                "id": unit.id,
                "name": unit.name,
                "level": unit.level.value,
                "href": report_href(params) if params else None,
                "params": params,
                **sums[unit.id],
            }
        )
    return found


_CHILD_KEYS = ("helped", "household_times", "escaped", "support", "pupils")


def _children_table(s: Selection, children: list[dict[str, Any]]) -> Table:
    rows = [
        [
            Cell(c["name"], c["href"]),
            c["helped"],
            c["household_times"],
            c["escaped"],
            c["escaped"] / c["helped"] if c["helped"] else 0.0,
            c["support"],
            c["pupils"],
        ]
        for c in children
    ]
    columns = [
        Column("unit", "Đơn vị", "Unit"),
        Column("helped", "Hộ được giúp", "Households helped", "count"),
        Column("household_times", "Lượt hộ", "Household-times", "count"),
        Column("escaped", "Hộ thoát nghèo", "Escaped poverty", "count"),
        Column("escaped_share", "Tỷ lệ thoát nghèo", "Share escaped", "share"),
        Column("support_vnd", "Giá trị hỗ trợ (đồng)", "Support (VND)", "vnd"),
        Column("pupils", "Học sinh", "Pupils", "count"),
    ]
    return Table("children", "Theo đơn vị", "By unit", columns, rows)
