"""A province's higher lines and a deployment's provisional figures (GIUPHO_POVERTY_LOCAL_LINES)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from forms.poverty import StandardsError, classify, load_standards
from forms.poverty.local import apply_local_lines, load_local_lines

IN_2024 = date(2024, 6, 1)


def local(standards: dict, basis: str = "Quyết định 12/2022/QĐ-UBND") -> dict:
    return {"authority": "UBND tỉnh Điện Biên", "legal_basis": basis, "standards": standards}


def test_a_province_raises_its_lines_and_households_classify_with_them():
    higher = {"rural": {"poor": 1_800_000, "near_poor": 1_800_000, "average": 2_700_000}}
    found = apply_local_lines(load_standards(), local({"vn-2022-2026": {"income_lines": higher}}))
    assert classify(1_800_000, "rural", 3, IN_2024, standards=found).status == "poor"
    assert classify(1_800_001, "rural", 3, IN_2024, standards=found).status == "average"
    assert classify(1_800_000, "rural", 3, IN_2024).status == "average"  # national lines
    standard = found.standard_for(IN_2024)
    assert "Quyết định 12/2022/QĐ-UBND" in standard.legal_basis
    assert standard.line("urban", "poor") == 2_000_000  # urban untouched


def test_a_deployment_sets_the_provisional_2027_average_bands():
    bands = {"rural": {"average": 3_000_000}, "urban": {"average": 3_600_000}}
    found = apply_local_lines(load_standards(), local({"vn-2027-2030": {"income_lines": bands}}))
    standard = found.standard_for(date(2027, 3, 1))
    assert "income_lines.average" not in {g.field for g in standard.provisional_parts}
    assert classify(3_000_001, "rural", 0, date(2027, 3, 1), standards=found).status == "above"


@pytest.mark.parametrize(
    ("standards", "words"),
    [
        ({"vn-2022-2026": {"income_lines": {"rural": {"poor": 1_400_000}}}}, "only raise"),
        ({"vn-2040": {"income_lines": {"rural": {"poor": 1}}}}, "unknown standards: vn-2040"),
        ({"vn-2022-2026": {"income_lines": {"rural": {"poorest": 1}}}}, "known band"),
        ({"vn-2022-2026": {"income_lines": {"rural": {"poor": 2_500_000}}}}, "ordered"),
        ({"vn-2022-2026": {}}, "need income_lines"),
    ],
    ids=["lower", "unknown", "band", "order", "empty"],
)
def test_wrong_local_lines_are_refused_with_what_to_fix(standards, words):
    with pytest.raises(StandardsError) as caught:
        apply_local_lines(load_standards(), local(standards))
    assert words in caught.value.message


def test_local_lines_need_their_legal_basis_and_a_readable_file(tmp_path):
    with pytest.raises(StandardsError, match="legal_basis"):
        apply_local_lines(load_standards(), local({}, basis=""))
    path = tmp_path / "lines.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StandardsError, match="cannot read the local lines file"):
        load_local_lines(load_standards(), path)
    path.write_text(json.dumps(local({})), encoding="utf-8")
    assert load_local_lines(load_standards(), path).standards == load_standards().standards
