"""Admin units: official ones imported by code, matched by (province, commune); villages by hand."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, UnitLevel
from server.problems import Problem
from server.services.programme import units as admin_units


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))


def test_import_takes_names_and_codes_from_the_national_list(ctx):
    result = admin_units.import_province("11", ["03325"])
    assert (result.province.name, result.province.level) == ("Tỉnh Điện Biên", UnitLevel.PROVINCE)
    [commune] = result.communes
    assert (commune.path, commune.name, commune.kind) == ("11/03325", "Xã Mường Phăng", "Xã")
    assert commune.parent.path == "11" and result.created == 2


def test_import_whole_province_and_again_changes_nothing(ctx):
    first = admin_units.import_province("12")  # Lai Châu
    assert first.created == 1 + len(first.communes) and len(first.communes) > 30
    before = _count()
    again = admin_units.import_province("12")
    assert again.created == 0 and _count() == before


def test_same_commune_name_in_two_provinces_stays_two_units(ctx):
    same_name = {}
    for unit in admin_units.official_communes():
        same_name.setdefault(unit.name, []).append(unit)
    name, (first, second, *_) = next(
        (n, units)
        for n, units in sorted(same_name.items())
        if len({u.province_code for u in units}) > 1
    )
    admin_units.import_province(first.province_code, [first.code])
    admin_units.import_province(second.province_code, [second.code])
    a = admin_units.find_commune(first.province_code, first.code)
    b = admin_units.find_commune(second.province_code, second.code)
    assert a.name == b.name == name and a.id != b.id
    assert admin_units.find_commune(first.province_code, second.code) is None


def test_unknown_codes_are_refused_before_any_change(ctx):
    with pytest.raises(Problem) as raised:
        admin_units.import_province("11", ["03325", "99999"])
    assert raised.value.code == "404.6" and "11/99999" in raised.value.message()
    assert _count() == 0
    with pytest.raises(Problem):
        admin_units.import_province("00")


def test_villages_are_numbered_renamed_and_unique_in_their_commune(ctx):
    commune = admin_units.import_province("11", ["03325"]).communes[0]
    first = admin_units.add_village(commune, "Bản Phăng 1", kind="Bản")
    second = admin_units.add_village(commune, "  Bản Khá ")
    assert (first.path, second.path) == ("11/03325/01", "11/03325/02")
    assert second.name == "Bản Khá" and second.kind == "Thôn"
    admin_units.rename_village(second, "Bản Khá Mới", kind="Bản")
    assert admin_units.find("11/03325/02").name == "Bản Khá Mới"
    with pytest.raises(Problem) as raised:
        admin_units.add_village(commune, "Trùng mã", code="01")
    assert raised.value.code == "409.5"
    with pytest.raises(Problem):
        admin_units.rename_village(commune, "Xã khác")  # official names come from the list
