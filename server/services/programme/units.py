"""Admin units: official provinces and communes from `vietnamadminunits`, villages by hand.

Official units are imported by code from the package's 2025 dataset (34
provinces, 3,321 communes) and matched by (province code, commune code):
commune names repeat across provinces, so a name never identifies a unit.
Villages have no national list; they are created and renamed under their
commune, with a code unique inside it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, UnitLevel, User
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope

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


@transactional
def import_province(
    province_code: str, commune_codes: list[str] | None = None, actor: User | None = None
) -> ImportResult:
    """Import province `province_code` and its communes (all, or only `commune_codes`).

    Existing units are matched by code and their names refreshed; nothing is
    deleted. An unknown commune code is refused (Problem 404.6) before any change.
    """
    name, communes = official_province(province_code)
    if commune_codes is not None:
        by_code = {u.code: u for u in communes}
        missing = [c for c in commune_codes if c not in by_code]
        if missing:
            raise Problem("404.6", unit=f"{province_code}/{missing[0]}")
        communes = [by_code[c] for c in commune_codes]
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


def _next_village_code(commune: AdminUnit) -> str:
    codes = db.session.scalars(sa.select(AdminUnit.code).where(AdminUnit.parent_id == commune.id))
    numbers = [int(c) for c in codes if c.isdigit()]
    return f"{max(numbers, default=0) + 1:02d}"


@transactional
def add_village(
    commune: AdminUnit,
    name: str,
    code: str | None = None,
    kind: str = "Thôn",
    actor: User | None = None,
) -> AdminUnit:
    """Create a village (thôn, bản, buôn, ấp...) under `commune`."""
    if commune.level != UnitLevel.COMMUNE:
        raise Problem("400.3", field="commune", reason=f"{commune.name} is not a commune")
    code = code or _next_village_code(commune)
    if not _CODE.match(code):
        raise Problem("400.3", field="code", reason=code)
    if find(f"{commune.path}/{code}") is not None:
        raise Problem("409.5", what=N_("entity.village"), name=code)
    village, _ = _upsert(commune, UnitLevel.VILLAGE, code, name.strip(), kind)
    audit.record(actor, "village.create", village, name=village.name)
    return village


@transactional
def rename_village(
    village: AdminUnit, name: str, kind: str | None = None, actor: User | None = None
) -> AdminUnit:
    """Rename a village (official units keep the names of the national list)."""
    if village.level != UnitLevel.VILLAGE:
        raise Problem("400.3", field="level", reason="only villages can be renamed")
    audit.record(actor, "village.rename", village, old=village.name, new=name)
    village.name = name.strip()
    if kind:
        village.kind = kind
    return village


def visible(user: User) -> list[AdminUnit]:
    """The units `user` may see (their scope and the units above it), ordered by path."""
    return list(db.session.scalars(scope.units(user).order_by(AdminUnit.path)))
