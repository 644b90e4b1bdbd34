"""The poverty classifier and the standards data it reads."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest

from forms.poverty import (
    AssessmentError,
    IncompleteStandardError,
    NoStandardError,
    StandardsError,
    classify,
    classify_household,
    load_standards,
    parse_standards,
    standard_for,
    status_label,
)
from forms.poverty.standards import DEFAULT_PATH
from tests.unit.forms.poverty_cases import ALL_12, CASES

IN_2024 = date(2024, 6, 15)


def raw_standards() -> dict:
    with open(DEFAULT_PATH, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_classifier_agrees_with_the_domain_table(case):
    result = classify(case.income, case.area, set(case.deprived), IN_2024)
    assert result.status == case.expected
    assert result.deprivation_count == len(case.deprived)
    assert result.deprived == case.deprived
    assert result.standard_id == "vn-2022-2026"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bare_count_classifies_like_the_set(case):
    assert classify(case.income, case.area, len(case.deprived), IN_2024).status == case.expected


def test_the_table_covers_the_boundaries_the_standard_names():
    seen = {(c.income, c.area) for c in CASES}
    for point in [
        (1_500_000, "rural"),
        (1_500_001, "rural"),
        (2_000_000, "urban"),
        (2_000_001, "urban"),
        (2_250_000, "rural"),
        (2_250_001, "rural"),
        (3_000_000, "urban"),
        (3_000_001, "urban"),
        (0, "rural"),
    ]:
        assert point in seen
    counts = {len(c.deprived) for c in CASES}
    assert {0, 2, 3, 12} <= counts
    assert len(CASES) >= 30


def test_reasons_explain_the_decision_in_both_languages():
    result = classify(1_500_000, "rural", 3, IN_2024)
    codes = [r.code for r in result.reasons]
    assert codes == ["income_at_or_below_poverty_line", "deprivations_at_or_above_threshold"]
    assert "1,500,000 VND" in result.reasons[0].message
    assert "1.500.000 đồng" in result.reasons[0].message_vi
    assert "nông thôn" in result.reasons[0].message_vi
    above = classify(2_250_001, "rural", 0, IN_2024)
    assert [r.code for r in above.reasons] == ["income_above_average_line"]


def test_the_standard_in_force_follows_the_effective_period():
    assert standard_for(date(2022, 1, 1)).id == "vn-2022-2026"
    assert standard_for(date(2026, 12, 31)).id == "vn-2022-2026"
    assert standard_for(date(2027, 1, 1)).id == "vn-2027-2030"
    assert standard_for(datetime(2026, 12, 31, 23, 59)).id == "vn-2022-2026"
    assert standard_for(date(2021, 12, 31)).id == "vn-2016-2020"
    with pytest.raises(NoStandardError):
        standard_for(date(2015, 12, 31))
    with pytest.raises(NoStandardError):
        classify(1_000_000, "rural", 3, date(2031, 1, 1))


def test_an_incomplete_standard_refuses_to_classify():
    data = raw_standards()
    later = _by_id(data, "vn-2027-2030")
    later["income_lines"]["rural"]["average"] = None
    later["incomplete"] = [
        {
            "field": "income_lines.average",
            "vi": "Chưa có chuẩn mức sống trung bình",
            "en": "The average living standard bands are missing",
        }
    ]
    with pytest.raises(IncompleteStandardError) as caught:
        classify(1_000_000, "rural", 4, date(2028, 3, 1), standards=parse_standards(data))
    assert "provisional" in caught.value.message
    assert "average living standard" in caught.value.message


def test_the_provisional_2027_standard_classifies_and_says_what_is_provisional():
    standard = standard_for(date(2028, 3, 1))
    assert standard.provisional and standard.complete
    assert {g.field for g in standard.provisional_parts} == {"income_lines.average", "indicators"}
    assert standard.line("rural", "poor") == 2_200_000
    assert standard.line("urban", "poor") == 2_800_000
    assert "information_devices" not in standard.indicator_ids()
    assert classify(1_000_000, "rural", 4, date(2028, 3, 1)).status == "poor"


def _by_id(data: dict, standard_id: str) -> dict:
    return next(s for s in data["standards"] if s["id"] == standard_id)


def test_a_completed_2027_standard_classifies_with_its_own_lines():
    data = raw_standards()
    later = _by_id(data, "vn-2027-2030")
    later["provisional"] = []
    later["incomplete"] = []
    for area, top in (("rural", 3_000_000), ("urban", 3_600_000)):
        later["income_lines"][area]["average"] = top
    completed = parse_standards(data)
    on = date(2027, 6, 1)
    assert classify(2_200_000, "rural", 3, on, standards=completed).status == "poor"
    assert classify(2_200_001, "rural", 3, on, standards=completed).status == "average"
    assert (
        classify(2_800_000, "urban", {"waste", "digital_services"}, on, standards=completed).status
        == "near_poor"
    )
    with pytest.raises(AssessmentError):
        classify(1_000_000, "rural", {"information_devices"}, on, standards=completed)


@pytest.mark.parametrize(
    ("income", "area", "deprivations"),
    [
        (1_000_000, "suburban", 0),
        (-1, "rural", 0),
        (1_000_000.5, "rural", 0),
        (True, "rural", 0),
        (1_000_000, "rural", 13),
        (1_000_000, "rural", -1),
        (1_000_000, "rural", {"employment", "bad_roads"}),
    ],
)
def test_answers_that_make_no_sense_are_refused(income, area, deprivations):
    with pytest.raises(AssessmentError):
        classify(income, area, deprivations, IN_2024)


def test_status_words_are_data_for_the_ui():
    assert status_label("poor") == "hộ nghèo"
    assert status_label("near_poor") == "hộ cận nghèo"
    assert status_label("average") == "hộ có mức sống trung bình"
    assert status_label("near_poor", "en") == "near-poor household"
    assert status_label("escaped_poverty") == "thoát nghèo"
    assert status_label("fell_back") == "tái nghèo"
    assert set(load_standards().statuses) == {"poor", "near_poor", "average", "above"}


def test_the_shipped_2022_standard_has_12_indicators_in_6_dimensions():
    standard = standard_for(IN_2024)
    assert set(standard.indicator_ids()) == ALL_12
    assert len(standard.dimensions) == 6
    assert all(i.dimension in standard.dimensions for i in standard.indicators)
    assert all(i.deprived_when is not None for i in standard.indicators)
    assert standard.legal_basis == "Nghị định 07/2021/NĐ-CP"


def _broken(mutate) -> dict:
    """The shipped data with `mutate` applied, the 2022 standard first and the 2027 one second
    (the 2016 one moved last: each mutation names the standard it breaks by position)."""
    data = copy.deepcopy(raw_standards())
    data["standards"].append(data["standards"].pop(0))
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["standards"][1].update(effective_from="2026-12-31"), "overlap"),
        (lambda d: d["standards"][0]["indicators"][0].update(dimension="roads"), "dimension"),
        (lambda d: d["standards"][0]["income_lines"]["rural"].update(average=1_000_000), "ordered"),
        (lambda d: d["standards"][0]["income_lines"]["urban"].pop("near_poor"), "exactly"),
        (lambda d: d["standards"][0].update(deprivation_threshold=13), "threshold"),
        (lambda d: d["standards"][1]["income_lines"]["rural"].update(average=None), "incomplete"),
        (
            lambda d: d["standards"][0]["indicators"].append(
                dict(d["standards"][0]["indicators"][0])
            ),
            "duplicate indicator",
        ),
        (lambda d: d["standards"][0].update(effective_to="2021-01-01"), "ends before"),
        (lambda d: d["statuses"][0].pop("vi"), "'vi' and 'en'"),
        (lambda d: d["standards"][0].pop("income_lines"), "missing"),
    ],
    ids=[
        "overlap",
        "dimension",
        "order",
        "band",
        "threshold",
        "gaps",
        "dup",
        "period",
        "label",
        "missing",
    ],
)
def test_loading_refuses_standards_that_cannot_be_right(mutate, words):
    with pytest.raises(StandardsError) as caught:
        parse_standards(_broken(mutate))
    assert words in str(caught.value)


def test_load_standards_reads_another_file(tmp_path):
    data = raw_standards()
    _by_id(data, "vn-2022-2026")["income_lines"]["rural"].update(
        poor=1_800_000, near_poor=1_800_000
    )
    path = tmp_path / "local.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    local = load_standards(path)
    assert classify(1_700_000, "rural", 3, IN_2024, standards=local).status == "poor"
    assert classify(1_700_000, "rural", 3, IN_2024).status == "average"


def test_household_properties_classify_like_the_answers():
    props = {
        "income_per_person": "1500000",
        "area": "rural",
        "water": "1",
        "latrine": "1",
        "telecom": "1",
        "employment": "0",
        "head_name": "Lò Văn Minh",
    }
    result = classify_household(props, IN_2024)
    assert (result.status, result.deprived) == ("poor", {"water", "latrine", "telecom"})
    answered = {i: props.get(i, "0") for i in standard_for(IN_2024).indicator_ids()}
    assert classify_household({**props, **answered, "telecom": "0"}, IN_2024).status == (
        "near_poor"
    )
    assert classify_household({**props, "income_per_person": ""}, IN_2024).status == (
        "unclassified"
    )
    with pytest.raises(AssessmentError):
        classify_household({**props, "income_per_person": "1.5 triệu"}, IN_2024)
