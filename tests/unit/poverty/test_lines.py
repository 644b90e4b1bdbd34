"""Issue 18 acceptance, through the classifier: every line of every period, one đồng below, at
and above, rural and urban, at and around each standard's deprivation threshold, and missing
answers. The expectations come from an oracle written from the decrees' text (the figures
below), not from `standards.json`, so a wrong figure in the data fails here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.poverty import (
    UNCLASSIFIED,
    NoStandardError,
    classify,
    classify_household,
    standard_for,
    status_label,
)


@dataclass(frozen=True)
class Period:
    """One standard as its decree writes it (income per person per month, VND)."""

    id: str
    first: date
    last: date
    income_poor: dict[str, int] | None  # poor whatever the deprivations (QĐ 59/2015 only)
    poor: dict[str, int]
    average: dict[str, int]
    threshold: int
    indicators: int


PERIODS = (
    # QĐ 59/2015/QĐ-TTg, Điều 2; applied through 2021.
    Period(
        "vn-2016-2020",
        date(2016, 1, 1),
        date(2021, 12, 31),
        {"rural": 700_000, "urban": 900_000},
        {"rural": 1_000_000, "urban": 1_300_000},
        {"rural": 1_500_000, "urban": 1_950_000},
        3,
        10,
    ),
    # Nghị định 07/2021/NĐ-CP, Điều 3.
    Period(
        "vn-2022-2026",
        date(2022, 1, 1),
        date(2026, 12, 31),
        None,
        {"rural": 1_500_000, "urban": 2_000_000},
        {"rural": 2_250_000, "urban": 3_000_000},
        3,
        12,
    ),
    # Nghị định 351/2025/NĐ-CP; the average bands are the provisional 1.5 x the line.
    Period(
        "vn-2027-2030",
        date(2027, 1, 1),
        date(2030, 12, 31),
        None,
        {"rural": 2_200_000, "urban": 2_800_000},
        {"rural": 3_300_000, "urban": 4_200_000},
        3,
        13,
    ),
)
AREAS = ("rural", "urban")


def oracle(period: Period, income: int, area: str, deprivations: int) -> str:
    if period.income_poor and income <= period.income_poor[area]:
        return "poor"
    if income <= period.poor[area]:
        return "poor" if deprivations >= period.threshold else "near_poor"
    return "average" if income <= period.average[area] else "above"


def _points():
    for period in PERIODS:
        lines = [*period.poor.items(), *period.average.items()]
        if period.income_poor:
            lines += list(period.income_poor.items())
        for area, at in lines:
            for income in (at - 1, at, at + 1):
                for dep in (period.threshold - 1, period.threshold):
                    yield pytest.param(
                        period, income, area, dep, id=f"{period.id}-{area}-{income}-{dep}dep"
                    )


@pytest.mark.parametrize(("period", "income", "area", "deprivations"), list(_points()))
def test_every_line_of_every_period_below_at_and_above(period, income, area, deprivations):
    for on in (period.first, period.last):
        result = classify(income, area, deprivations, on)
        assert result.standard_id == period.id
        assert result.status == oracle(period, income, area, deprivations)


@pytest.mark.parametrize("period", PERIODS, ids=[p.id for p in PERIODS])
def test_each_standard_has_the_decree_threshold_and_indicator_count(period):
    standard = standard_for(period.first)
    assert standard.deprivation_threshold == period.threshold
    assert len(standard.indicators) == period.indicators
    assert standard.sources, "every standard says where its figures come from"


def test_the_standard_in_force_is_exact_at_every_boundary():
    for period in PERIODS:
        assert standard_for(period.first).id == period.id
        assert standard_for(period.last).id == period.id
    assert standard_for(date(2021, 6, 30)).id == "vn-2016-2020"  # a 2021 date works
    for outside in (date(2015, 12, 31), date(2031, 1, 1)):
        with pytest.raises(NoStandardError) as caught:
            standard_for(outside)
        assert outside.isoformat() in caught.value.message
        assert "2016-01-01..2021-12-31" in caught.value.message


def test_a_rural_household_at_2_100_000_on_2027_03_01_is_poor_under_decree_351():
    result = classify(2_100_000, "rural", 3, date(2027, 3, 1))
    assert (result.status, result.standard_id) == ("poor", "vn-2027-2030")
    # The same household on the last day of the 2022-2026 standard is above its line.
    assert classify(2_100_000, "rural", 3, date(2026, 12, 31)).status == "average"


def test_under_qd_59_income_alone_makes_a_household_poor_at_or_under_the_lower_line():
    on = date(2019, 9, 1)
    assert classify(700_000, "rural", 0, on).status == "poor"
    assert classify(700_000, "rural", 0, on).reasons[0].code == (
        "income_at_or_below_income_poor_line"
    )
    assert classify(700_001, "rural", 0, on).status == "near_poor"
    assert classify(900_000, "urban", 0, on).status == "poor"
    assert classify(900_001, "urban", 2, on).status == "near_poor"


@given(
    period=st.sampled_from(PERIODS),
    offset=st.integers(min_value=0, max_value=4000),
    income=st.integers(min_value=0, max_value=6_000_000),
    area=st.sampled_from(AREAS),
    data=st.data(),
)
def test_the_classifier_agrees_with_the_decrees_anywhere_in_each_period(
    period, offset, income, area, data
):
    on = min(period.first + timedelta(days=offset), period.last)
    deprivations = data.draw(st.integers(min_value=0, max_value=period.indicators))
    result = classify(income, area, deprivations, on)
    assert (result.status, result.standard_id) == (
        oracle(period, income, area, deprivations),
        period.id,
    )


def _answers(on: date, deprived: set[str], income: int, area: str = "rural") -> dict[str, str]:
    ids = standard_for(on).indicator_ids()
    return {
        "income_per_person": str(income),
        "area": area,
        **{i: "1" if i in deprived else "0" for i in ids},
    }


@pytest.mark.parametrize("period", PERIODS, ids=[p.id for p in PERIODS])
def test_a_household_with_no_indicator_answers_cannot_be_classified(period):
    on = period.first
    result = classify_household({"income_per_person": "0", "area": "rural"}, on)
    assert result.status == UNCLASSIFIED and not result.classified
    assert result.deprivation_count == 0
    assert result.reasons[0].code == "cannot_classify_indicators"
    assert result.missing == set(standard_for(on).indicator_ids())
    assert status_label(UNCLASSIFIED) == "chưa phân loại được"


@pytest.mark.parametrize("period", PERIODS, ids=[p.id for p in PERIODS])
def test_missing_answers_that_decide_the_result_leave_the_household_unclassified(period):
    on = period.first
    ids = list(standard_for(on).indicator_ids())
    line = period.poor["rural"]
    two = _answers(on, set(ids[:2]), line)
    # Two deprivations answered, one unanswered: the third would make the household poor.
    undecided = {**two, ids[-1]: ""}
    result = classify_household(undecided, on)
    assert (result.status, result.missing) == (UNCLASSIFIED, {ids[-1]})
    assert result.reasons[0].code == "cannot_classify_decisive"
    assert ids[-1] in result.reasons[0].message
    # Three deprivations answered: the missing one cannot change "poor".
    three = _answers(on, set(ids[:3]), line)
    assert classify_household({**three, ids[-1]: ""}, on).status == "poor"
    # Above the average line the deprivations do not matter.
    rich = {**two, ids[-1]: "", "income_per_person": str(period.average["rural"] + 1)}
    assert classify_household(rich, on).status == "above"
    # Income or area unanswered.
    assert classify_household({**three, "income_per_person": ""}, on).status == UNCLASSIFIED
    assert classify_household({**three, "area": ""}, on).status == UNCLASSIFIED


@pytest.mark.parametrize("period", PERIODS, ids=[p.id for p in PERIODS])
def test_household_answers_classify_like_the_decree(period):
    on = period.last
    ids = standard_for(on).indicator_ids()
    for area in AREAS:
        at = period.poor[area]
        for n in (period.threshold - 1, period.threshold):
            result = classify_household(_answers(on, set(ids[:n]), at, area), on)
            assert result.status == oracle(period, at, area, n)
            assert result.deprivation_count == n
