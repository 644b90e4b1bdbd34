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


def _villages(commune_path: str) -> dict[str, str]:
    commune = admin_units.find(commune_path)
    stmt = sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id)
    return {v.code: v.name for v in db.session.scalars(stmt)}


def test_villages_from_a_sheet_are_created_and_renamed_on_reimport(ctx):
    admin_units.import_province("11", ["03325", "03316"])
    sheet = (
        "commune,code,name,kind\n"
        "03325,,Bản Phăng,Bản\n"
        "11/03325,07,Bản Khá,Bản\n"
        "03316,,Bản Nà Tấu 1,\n"
        "03325,,Bản Co Củ,Bản\n"
    ).encode()
    report = admin_units.import_villages(sheet, "thon.csv")
    assert report.ok and len(report.created) == 4
    # Codes the file gives are kept; the others are numbered after every code there.
    assert _villages("11/03325") == {"07": "Bản Khá", "08": "Bản Phăng", "09": "Bản Co Củ"}
    assert _villages("11/03316") == {"01": "Bản Nà Tấu 1"}
    again = sheet.replace(b"07,B\xe1\xba\xa3n Kh\xc3\xa1", "07,Bản Khá Mới".encode())
    report = admin_units.import_villages(again, "thon.csv")
    assert report.ok and report.created == [] and [v.code for v in report.updated] == ["07"]
    assert _villages("11/03325")["07"] == "Bản Khá Mới" and len(_villages("11/03325")) == 3


def test_a_village_sheet_with_bad_rows_creates_nothing(ctx):
    admin_units.import_province("11", ["03325"])
    before = _count()
    sheet = (
        "commune,code,name\n"
        "03325,01,Bản Một\n"
        "99999,,Bản Ma\n"  # no such commune
        "03325,,\n"  # no name
        "03325,01,Bản Trùng\n"  # the same code twice
        "03325,a b,Bản Cách\n"  # not a code
    ).encode()
    report = admin_units.import_villages(sheet, "thon.csv")
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "commune"),
        (4, "name"),
        (5, "code"),
        (6, "code"),
    ]
    assert "99999" in report.errors[0].text("vi") and _count() == before


def test_villages_are_added_by_the_commune_and_its_coordinator_only(ctx):
    from server.models import Role
    from server.services.access import users

    communes = admin_units.import_province("11", ["03325", "03316"]).communes
    official = users.create_user("official", "Official", Role.COMMUNE_OFFICIAL, None, [communes[0]])
    cadre = users.create_user("cadre", "Cadre", Role.CADRE, None, [communes[0]])
    assert admin_units.add_village(communes[0], "Bản Mới", actor=official).path == "11/03325/01"
    for actor, commune, code in ((official, communes[1], "403.2"), (cadre, communes[0], "403.1")):
        with pytest.raises(Problem) as raised:
            admin_units.add_village(commune, "Bản Lạ", actor=actor)
        assert raised.value.code == code
        db.session.rollback()
    sheet = "commune,name\n03316,Bản Lạ\n".encode()
    report = admin_units.import_villages(sheet, "thon.csv", actor=official)
    assert "Xã Nà Tấu" in report.errors[0].text("vi") and report.created == []
    with pytest.raises(Problem) as raised:
        admin_units.import_province("12", actor=official)
    assert raised.value.code == "403.20"


def test_the_pre_2025_districts_come_with_the_legacy_list(ctx):
    result = admin_units.import_province("54", districts=True)  # Phú Yên, now in Đắk Lắk
    assert result.province.name == "Tỉnh Phú Yên" and len(result.districts) == 9
    tay_hoa = next(d for d in result.districts if d.name == "Huyện Tây Hòa")
    communes = [c for c in result.communes if c.parent_id == tay_hoa.id]
    assert len(communes) == 11 and communes[0].path.startswith(f"54/{tay_hoa.code}/")
    assert admin_units.find_commune("54", communes[0].code).id == communes[0].id
    admin_units.import_province("11", ["03325"])
    with pytest.raises(Problem) as raised:
        admin_units.import_province("11", districts=True)
    assert raised.value.code == "409.35" and "Điện Biên" in raised.value.message("vi")
