"""Admin units: official provinces and communes from `vietnamadminunits`, villages by hand.

Official units are imported by code from the package's 2025 dataset (34
provinces, 3,321 communes) and matched by (province code, commune code):
commune names repeat across provinces, so a name never identifies a unit.
Villages have no national list; they are created and renamed under their
commune, with a code unique inside it, one by one or from a spreadsheet
(`import_villages`).

The pre-2025 district (huyện) as an optional middle level: `vietnamadminunits`
has two separate datasets, the 2025 one (34 provinces -> 3,321 communes, no
district) and the legacy one (63 provinces -> 705 districts -> 10,040 communes).
Its converter maps every 2025 commune to the legacy communes it was made of, and
that mapping does not give a 2025 commune one district: 317 of the 3,321 new
communes were made of communes of two or more old districts (Điện Biên's Phường
Mường Thanh took communes of Thành phố Điện Biên Phủ and of Huyện Điện Biên),
and 29 old provinces were merged into others (Phú Yên is now in Đắk Lắk). So
`import_province(code, districts=True)` imports the legacy tree as it was,
province -> district -> commune, with the legacy codes (Phú Yên is 54, Tây Hòa
district 562), the layout the programme's 2021-2025 plans were written in.
One province is kept in one layout: importing it in the other is refused
(409.35) rather than mixing two communes lists under one province.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, Role, UnitLevel, User
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.access.users import ProblemRowError
from server.services.sheets import ImportReport, RowError, read_rows, require

_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


@dataclass(frozen=True)
class OfficialUnit:
    """A province or commune as `vietnamadminunits` lists it."""

    province_code: str
    province: str
    code: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


@functools.cache
def official_communes() -> tuple[OfficialUnit, ...]:
    """Every current (2025) commune with its province, read once from the package."""
    # Imported here: the package's __init__ compiles its address parser (about 0.8 s),
    # which only the commands that import units should pay for, not every server start.
    from vietnamadminunits.database import get_data

    fields = ["provinceCode", "province", "wardCode", "ward", "wardType", "wardLat", "wardLon"]
    return tuple(
        OfficialUnit(
            r["provinceCode"],
            r["province"],
            r["wardCode"],
            r["ward"],
            r["wardType"],
            r["wardLat"],
            r["wardLon"],
        )
        for r in get_data(fields, table="admin_units")
    )


@dataclass(frozen=True)
class LegacyCommune:
    """A commune of the pre-2025 list (63 provinces) with its district."""

    province_code: str
    province: str
    district_code: str
    district: str
    district_kind: str
    code: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


@functools.cache
def legacy_communes() -> tuple[LegacyCommune, ...]:
    """Every commune of the pre-2025 list with its district and province, read once."""
    from vietnamadminunits.database import get_data

    fields = [
        "provinceCode",
        "province",
        "districtCode",
        "district",
        "districtType",
        "wardCode",
        "ward",
        "wardType",
        "wardLat",
        "wardLon",
    ]
    return tuple(
        LegacyCommune(*(r[f] for f in fields)) for r in get_data(fields, "admin_units_legacy")
    )


def official_province(code: str) -> tuple[str, list[OfficialUnit]]:
    """The name and communes of province `code`; Problem 404.6 if the package has no such code."""
    communes = [u for u in official_communes() if u.province_code == code]
    if not communes:
        raise Problem("404.6", unit=code)
    return communes[0].province, communes


def find(path: str) -> AdminUnit | None:
    """The unit at `path` ("11", "11/03325", "11/03325/01")."""
    return db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == path))


def find_commune(province_code: str, commune_code: str) -> AdminUnit | None:
    """The commune with these codes, with or without a district between them."""
    stmt = sa.select(AdminUnit).where(
        AdminUnit.level == UnitLevel.COMMUNE,
        AdminUnit.code == commune_code,
        sa.or_(
            AdminUnit.path == f"{province_code}/{commune_code}",
            AdminUnit.path.like(f"{province_code}/%/{commune_code}"),
        ),
    )
    return db.session.scalar(stmt)


def _upsert(
    parent: AdminUnit | None,
    level: UnitLevel,
    code: str,
    name: str,
    kind: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> tuple[AdminUnit, bool]:
    """The unit `code` under `parent`, created or renamed to `name`; True when created."""
    path = f"{parent.path}/{code}" if parent else code
    unit = find(path)
    created = unit is None
    if unit is None:
        unit = AdminUnit(code=code, level=level, path=path, parent=parent)
        db.session.add(unit)
    unit.name, unit.kind, unit.latitude, unit.longitude = name, kind, lat, lon
    return unit, created


@dataclass
class ImportResult:
    province: AdminUnit
    communes: list[AdminUnit]
    created: int
    districts: list[AdminUnit] = field(default_factory=list)


def _pick(communes: list, commune_codes: list[str] | None, province_code: str) -> list:
    if commune_codes is None:
        return communes
    by_code = {u.code: u for u in communes}
    missing = [c for c in commune_codes if c not in by_code]
    if missing:
        raise Problem("404.6", unit=f"{province_code}/{missing[0]}")
    return [by_code[c] for c in dict.fromkeys(commune_codes)]


def _check_layout(province_code: str, districts: bool) -> None:
    """Problem 409.35 when the province is already there in the other layout."""
    province = find(province_code)
    if province is None:
        return
    child_level = db.session.scalar(
        sa.select(AdminUnit.level).where(AdminUnit.parent_id == province.id).limit(1)
    )
    if child_level is None or (child_level == UnitLevel.DISTRICT) == districts:
        return
    layout = N_("with districts") if child_level == UnitLevel.DISTRICT else N_("without districts")
    raise Problem("409.35", province=province.name, layout=layout)


def require_admin(actor: User | None) -> None:
    """Problem 403.20 unless `actor` is an administrator (None: the operator's command)."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Problem("403.20")


@transactional
def import_province(
    province_code: str,
    commune_codes: list[str] | None = None,
    districts: bool = False,
    actor: User | None = None,
) -> ImportResult:
    """Import province `province_code` and its communes (all, or only `commune_codes`).

    `districts=True` imports the pre-2025 list instead, province -> district ->
    commune with the legacy codes (see the module's docstring for why a 2025
    commune has no district). Existing units are matched by code and their names
    refreshed; nothing is deleted. An unknown code is refused (Problem 404.6), and
    a province already imported in the other layout (409.35), before any change.
    Administrators only (403.20): the province does not exist before.
    """
    require_admin(actor)
    if districts:
        return _import_legacy(province_code, commune_codes, actor)
    name, communes = official_province(province_code)
    communes = _pick(communes, commune_codes, province_code)
    _check_layout(province_code, districts=False)
    kind = "Thành phố" if name.startswith("Thành phố") else "Tỉnh"
    province, created = _upsert(None, UnitLevel.PROVINCE, province_code, name, kind)
    imported, count = [], int(created)
    for commune in communes:
        unit, new = _upsert(
            province,
            UnitLevel.COMMUNE,
            commune.code,
            commune.name,
            commune.kind,
            commune.latitude,
            commune.longitude,
        )
        imported.append(unit)
        count += int(new)
    audit.record(actor, "units.import", province, communes=[u.code for u in communes])
    return ImportResult(province, imported, count)


def _import_legacy(
    province_code: str, commune_codes: list[str] | None, actor: User | None
) -> ImportResult:
    communes = [u for u in legacy_communes() if u.province_code == province_code]
    if not communes:
        raise Problem("404.6", unit=province_code)
    communes = _pick(communes, commune_codes, province_code)
    _check_layout(province_code, districts=True)
    name = communes[0].province
    kind = "Thành phố" if name.startswith("Thành phố") else "Tỉnh"
    province, created = _upsert(None, UnitLevel.PROVINCE, province_code, name, kind)
    count, imported, districts_ = int(created), [], {}
    for commune in communes:
        district = districts_.get(commune.district_code)
        if district is None:
            district, new = _upsert(
                province,
                UnitLevel.DISTRICT,
                commune.district_code,
                commune.district,
                commune.district_kind,
            )
            districts_[commune.district_code] = district
            count += int(new)
        unit, new = _upsert(
            district,
            UnitLevel.COMMUNE,
            commune.code,
            commune.name,
            commune.kind,
            commune.latitude,
            commune.longitude,
        )
        imported.append(unit)
        count += int(new)
    audit.record(
        actor,
        "units.import",
        province,
        districts=list(districts_),
        communes=[u.code for u in communes],
    )
    return ImportResult(province, imported, count, list(districts_.values()))


#: Who adds and renames villages: inside their scope (an admin everywhere).
VILLAGE_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL})


def require_village_manager(actor: User | None, commune: AdminUnit) -> None:
    """Problem 403.1 for a role that does not manage villages, 403.2 outside the actor's scope."""
    if actor is None:
        return
    scope.require_role(actor, *VILLAGE_MANAGERS)
    scope.require_unit(actor, commune)


def _next_village_code(commune: AdminUnit, taken: set[str] = frozenset()) -> str:
    codes = set(
        db.session.scalars(sa.select(AdminUnit.code).where(AdminUnit.parent_id == commune.id))
    )
    numbers = [int(c) for c in codes | set(taken) if c.isdigit()]
    return f"{max(numbers, default=0) + 1:02d}"


@transactional
def add_village(
    commune: AdminUnit,
    name: str,
    code: str | None = None,
    kind: str = "Thôn",
    actor: User | None = None,
) -> AdminUnit:
    """Create a village (thôn, bản, buôn, ấp...) under `commune` (coordinators and commune
    officials inside their scope, admins)."""
    if commune.level != UnitLevel.COMMUNE:
        raise Problem("400.3", field="commune", reason=f"{commune.name} is not a commune")
    require_village_manager(actor, commune)
    code = code or _next_village_code(commune)
    if not _CODE.match(code):
        raise Problem("400.3", field="code", reason=code)
    if not name.strip():
        raise Problem("400.2", field="name")
    if find(f"{commune.path}/{code}") is not None:
        raise Problem("409.5", what=N_("entity.village"), name=code)
    village, _ = _upsert(commune, UnitLevel.VILLAGE, code, name.strip(), kind or "Thôn")
    audit.record(actor, "village.create", village, name=village.name)
    return village


@transactional
def rename_village(
    village: AdminUnit, name: str, kind: str | None = None, actor: User | None = None
) -> AdminUnit:
    """Rename a village (official units keep the names of the national list)."""
    if village.level != UnitLevel.VILLAGE:
        raise Problem("400.3", field="level", reason="only villages can be renamed")
    require_village_manager(actor, village.parent)
    before, after = {"name": village.name}, {"name": name.strip()}
    if kind and kind != village.kind:
        before["kind"], after["kind"] = village.kind, kind
    audit.record(actor, "village.rename", village, before=before, after=after)
    village.name = name.strip()
    if kind:
        village.kind = kind
    return village


#: The columns of a villages file (lower-cased headers), with the other names people use.
VILLAGE_COLUMNS = {
    "commune": ("commune", "commune_code", "unit", "xã", "mã xã"),
    "code": ("code", "village_code", "mã thôn", "mã"),
    "name": ("name", "village", "tên", "tên thôn"),
    "kind": ("kind", "loại"),
}


def column_value(row, names: tuple[str, ...]) -> str:
    """The first non-empty value of `row` among the column `names`."""
    return next((row.get(n) for n in names if row.get(n)), "")


def find_commune_by_code(text: str) -> list[AdminUnit]:
    """The communes a person means by `text`: a unit path ("11/03325") or a commune code."""
    if "/" in text:
        unit = find(text.strip("/"))
        return [unit] if unit is not None and unit.level == UnitLevel.COMMUNE else []
    stmt = sa.select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE, AdminUnit.code == text)
    return list(db.session.scalars(stmt.order_by(AdminUnit.path)))


@transactional
def import_villages(data: bytes, filename: str, actor: User | None = None) -> ImportReport:
    """Villages from an XLSX or CSV file: columns commune (code or unit path), code
    (optional), name, kind (optional: Thôn, Bản, Buôn, Ấp...).

    Every row is checked first; any bad row (unknown or ambiguous commune, a commune
    outside the actor's scope, a bad or repeated code, no name) is reported and
    nothing is created. A village already there (same code, or without a code the
    same name in its commune) is renamed rather than created again, so a corrected
    file can be sent twice.
    """
    if actor is not None:
        scope.require_role(actor, *VILLAGE_MANAGERS)
    rows = read_rows(data, filename)
    errors: list[RowError] = []
    planned: list[tuple] = []
    seen: dict[tuple[int, str], int] = {}
    new_codes: dict[int, set[str]] = {}
    if not rows:
        errors.append(RowError(0, "", N_("The file has no data rows.")))
    for row in rows:
        before = len(errors)
        commune_text = column_value(row, VILLAGE_COLUMNS["commune"])
        name = column_value(row, VILLAGE_COLUMNS["name"])
        code = column_value(row, VILLAGE_COLUMNS["code"])
        kind = column_value(row, VILLAGE_COLUMNS["kind"]) or None
        if not commune_text:
            require(row, "commune", errors)
        if not name:
            require(row, "name", errors)
        if code and not _CODE.match(code):
            errors.append(
                RowError(
                    row.number,
                    "code",
                    N_(
                        "'%(code)s' is not a village code: use letters, digits, - or _ (at most 32)"
                    ),
                    {"code": code},
                )
            )
        communes = find_commune_by_code(commune_text) if commune_text else []
        if commune_text and not communes:
            errors.append(
                RowError(
                    row.number,
                    "commune",
                    N_("No commune has the code '%(code)s'."),
                    {"code": commune_text},
                )
            )
        elif len(communes) > 1:
            errors.append(
                RowError(
                    row.number,
                    "commune",
                    N_(
                        "Several communes have the code '%(code)s': write its "
                        "path, such as %(path)s."
                    ),
                    {"code": commune_text, "path": communes[0].path},
                )
            )
        elif (
            communes
            and actor is not None
            and not db.session.scalar(scope.in_scope(actor, communes[0]))
        ):
            refusal = Problem("403.2", what=communes[0].name)
            errors.append(ProblemRowError(row.number, "commune", "", problem=refusal))
        if len(errors) > before:
            continue
        commune = communes[0]
        existing = _existing_village(commune, code, name)
        key = (commune.id, existing.code if existing else code or name.casefold())
        if key in seen:
            errors.append(
                RowError(
                    row.number,
                    "code" if code else "name",
                    N_("Row %(other)s already has this village of %(commune)s."),
                    {"other": seen[key], "commune": commune.name},
                )
            )
            continue
        seen[key] = row.number
        if existing is None and code:
            new_codes.setdefault(commune.id, set()).add(code)
        planned.append((commune, existing, code, name, kind))
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    for commune, existing, code, name, kind in planned:
        if existing is None:
            taken = new_codes.setdefault(commune.id, set())
            code = code or _next_village_code(commune, taken)
            taken.add(code)
            report.created.append(add_village(commune, name, code, kind or "Thôn", actor=actor))
        elif existing.name != name or (kind and kind != existing.kind):
            report.updated.append(rename_village(existing, name, kind, actor=actor))
    return report


def _existing_village(commune: AdminUnit, code: str, name: str) -> AdminUnit | None:
    if code:
        return find(f"{commune.path}/{code}")
    stmt = sa.select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.level == UnitLevel.VILLAGE
    )
    wanted = " ".join(name.split()).casefold()
    return next((v for v in db.session.scalars(stmt) if v.name.casefold() == wanted), None)


def visible(user: User) -> list[AdminUnit]:
    """The units `user` may see (their scope and the units above it), ordered by path."""
    return list(db.session.scalars(scope.units(user).order_by(AdminUnit.path)))
