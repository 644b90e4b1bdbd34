"""Issue 18 on the tablet: the shipped forms, computed by our engine with the poverty lines the
server sends (`poverty_lines.csv`), classify under the standard in force on the assessment date
exactly like the classifier and the decrees (the same expressions Collect evaluates)."""

from __future__ import annotations

from datetime import date

import pytest

from forms.poverty import load_standards, media
from forms.validation import compute, validate
from tests.unit.forms.poverty_cases import CASES
from tests.unit.forms.test_library import (
    NOW,
    REGISTRATION_XLSX,
    VISIT_XLSX,
    errors,
    form,
    registration_values,
    submission,
    value_at,
    visit_values,
)
from tests.unit.poverty.test_lines import PERIODS, oracle

NOT_DEPRIVED = {
    "q_unemployed": "no",
    "dependants_count": "0",
    "q_child_malnourished": "no",
    "q_no_health_insurance": "no",
    "q_adult_undereducated": "no",
    "q_child_out_of_school": "no",
    "q_non_durable": "none",
    "floor_area_m2": "60",
    "q_water_source": "piped",
    "q_latrine": "septic",
    "q_telecom": "yes",
    "q_devices": "tv smartphone",
}
#: Asked only under the standard that counts them.
ONLY_UNDER = {
    "vn-2016-2020": ("q_no_health_care", "q_no_information_assets"),
    "vn-2027-2030": ("q_no_waste_collection", "q_no_digital_services"),
}
#: Counted by every standard.
DEPRIVED = ("q_no_health_insurance", "q_adult_undereducated", "q_child_out_of_school")


def computed(path, on: date, area: str, income: int, deprived: int, standard: str):
    build = registration_values if path == REGISTRATION_XLSX else visit_values
    values = {**build(CASES[0]), "today": on.isoformat(), "area": area,
              "income_per_person": str(income), **NOT_DEPRIVED}  # fmt: skip
    values.update({q: "no" for q in ONLY_UNDER.get(standard, ())})
    values.update({q: "yes" for q in DEPRIVED[:deprived]})
    return submission(path, values)


def _points():
    for period in PERIODS:
        for on in (period.first, period.last):
            for area in ("rural", "urban"):
                for income in (period.poor[area], period.poor[area] + 1):
                    for dep in (2, 3):
                        yield pytest.param(period, on, area, income, dep,
                                           id=f"{on}-{area}-{income}-{dep}")  # fmt: skip


@pytest.mark.parametrize("path", [REGISTRATION_XLSX, VISIT_XLSX], ids=["registration", "visit"])
@pytest.mark.parametrize(("period", "on", "area", "income", "deprived"), list(_points()))
def test_the_form_classifies_with_the_lines_in_force_on_the_assessment_date(
    path, period, on, area, income, deprived
):
    model = form(path)
    root = computed(path, on, area, income, deprived, period.id)
    assert errors(validate(model, root, now=NOW)) == []
    out = compute(model, root, now=NOW)
    assert value_at(out, "poverty_standard") == period.id
    assert value_at(out, "poverty_status") == oracle(period, income, area, deprived)
    assert value_at(out, "deprivation_count") == str(deprived)


def test_on_the_tablet_2027_03_01_rural_at_2_100_000_is_poor():
    model = form(REGISTRATION_XLSX)
    root = computed(REGISTRATION_XLSX, date(2027, 3, 1), "rural", 2_100_000, 3, "vn-2027-2030")
    out = compute(model, root, now=NOW)
    assert (value_at(out, "poverty_status"), value_at(out, "poverty_standard")) == (
        "poor", "vn-2027-2030",
    )  # fmt: skip
    assert "Chuẩn nghèo đa chiều giai đoạn 2027–2030" in value_at(out, "standard_title")


def test_a_date_no_standard_covers_is_unclassified_on_the_tablet():
    model = form(REGISTRATION_XLSX)
    out = compute(model, computed(REGISTRATION_XLSX, date(2015, 5, 1), "rural", 500_000, 3, ""),
                  now=NOW)  # fmt: skip
    assert (value_at(out, "poverty_status"), value_at(out, "poverty_standard")) == (
        "unclassified", "",
    )  # fmt: skip
    assert value_at(out, "status_vi") == "chưa phân loại được"


def test_the_lines_file_has_a_row_per_standard_and_area():
    text = media.lines_csv(load_standards()).decode()
    header, *rows = text.splitlines()
    assert header.split(",")[:6] == ["name", "label", "standard", "area", "from_day", "to_day"]
    assert len(rows) == 6
    assert "vn-2027-2030,rural,20270101,20301231,,2200000,2200000" in text
    assert "vn-2016-2020,urban,20160101,20211231,900000,1300000" in text
