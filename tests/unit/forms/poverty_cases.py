"""The domain table: households and the status domain.md's 2022–2026 standard gives them.

Expected statuses were worked out by hand from the table in
`/work/shared/docs/domain.md` (rural line 1,500,000; urban 2,000,000; average
bands up to 2,250,000 rural and 3,000,000 urban; poor needs >= 3 of 12
deprivations), not by running the classifier. Both the Python classifier and
the shipped forms' own calculation must agree with every row.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    id: str
    income: int
    area: str
    deprived: frozenset[str]
    expected: str


ALL_12 = frozenset(
    {
        "employment",
        "dependants",
        "nutrition",
        "health_insurance",
        "adult_education",
        "child_schooling",
        "housing_quality",
        "floor_area",
        "water",
        "latrine",
        "telecom",
        "information_devices",
    }
)


def d(*ids: str) -> frozenset[str]:
    return frozenset(ids)


CASES = [
    # Rural poverty line: exactly 1,500,000 is at or under the line.
    Case("rural_line_exactly_3", 1_500_000, "rural", d("employment", "water", "latrine"), "poor"),
    Case("rural_line_exactly_2", 1_500_000, "rural", d("water", "latrine"), "near_poor"),
    Case("rural_line_none", 1_500_000, "rural", d(), "near_poor"),
    Case(
        "rural_line_plus_1_with_3",
        1_500_001,
        "rural",
        d("nutrition", "telecom", "floor_area"),
        "average",
    ),
    Case("rural_line_plus_1_none", 1_500_001, "rural", d(), "average"),
    Case(
        "rural_line_minus_1_with_3",
        1_499_999,
        "rural",
        d("dependants", "health_insurance", "child_schooling"),
        "poor",
    ),
    # Urban poverty line: 2,000,000.
    Case(
        "urban_line_exactly_3",
        2_000_000,
        "urban",
        d("housing_quality", "floor_area", "information_devices"),
        "poor",
    ),
    Case("urban_line_exactly_2", 2_000_000, "urban", d("employment", "dependants"), "near_poor"),
    Case(
        "urban_line_plus_1_with_3",
        2_000_001,
        "urban",
        d("adult_education", "latrine", "telecom"),
        "average",
    ),
    Case("urban_line_plus_1_all_12", 2_000_001, "urban", ALL_12, "average"),
    Case("urban_line_minus_1_with_2", 1_999_999, "urban", d("water", "nutrition"), "near_poor"),
    # Average band, rural: up to 2,250,000.
    Case("rural_average_top", 2_250_000, "rural", d(), "average"),
    Case("rural_average_top_all_12", 2_250_000, "rural", ALL_12, "average"),
    Case("rural_above_average", 2_250_001, "rural", d(), "above"),
    Case("rural_above_average_all_12", 2_250_001, "rural", ALL_12, "above"),
    # The same incomes in an urban area fall in the urban average band.
    Case("urban_2250000", 2_250_000, "urban", d("employment", "water", "telecom"), "average"),
    Case("urban_2250001", 2_250_001, "urban", d(), "average"),
    Case("urban_average_top", 3_000_000, "urban", d("latrine"), "average"),
    Case("urban_above_average", 3_000_001, "urban", d(), "above"),
    Case("urban_average_top_all_12", 3_000_000, "urban", ALL_12, "average"),
    # Zero income and every indicator deprived.
    Case("rural_zero_income_none", 0, "rural", d(), "near_poor"),
    Case("rural_zero_income_all_12", 0, "rural", ALL_12, "poor"),
    Case("urban_zero_income_all_12", 0, "urban", ALL_12, "poor"),
    Case("urban_zero_income_2", 0, "urban", d("child_schooling", "housing_quality"), "near_poor"),
    # The area decides when income is between the two lines.
    Case(
        "urban_1600000_with_3",
        1_600_000,
        "urban",
        d("nutrition", "health_insurance", "adult_education"),
        "poor",
    ),
    Case(
        "rural_1600000_with_3",
        1_600_000,
        "rural",
        d("nutrition", "health_insurance", "adult_education"),
        "average",
    ),
    Case("urban_1800000_with_1", 1_800_000, "urban", d("information_devices"), "near_poor"),
    Case("rural_1800000_with_1", 1_800_000, "rural", d("information_devices"), "average"),
    Case("rural_2500000", 2_500_000, "rural", d("floor_area"), "above"),
    Case("urban_2500000", 2_500_000, "urban", d("floor_area"), "average"),
    # Deprivations count one each, even two in one dimension.
    Case(
        "rural_two_in_housing", 1_000_000, "rural", d("housing_quality", "floor_area"), "near_poor"
    ),
    Case(
        "rural_two_in_housing_plus_one",
        1_000_000,
        "rural",
        d("housing_quality", "floor_area", "dependants"),
        "poor",
    ),
    Case(
        "rural_four_water_information",
        1_200_000,
        "rural",
        d("water", "latrine", "telecom", "information_devices"),
        "poor",
    ),
    Case("rural_low_income_one", 500_000, "rural", d("child_schooling"), "near_poor"),
    Case("urban_tiny_income_3", 100, "urban", d("employment", "dependants", "nutrition"), "poor"),
    Case("rural_rich_all_12", 10_000_000, "rural", ALL_12, "above"),
    Case("urban_rich_none", 25_000_000, "urban", d(), "above"),
]
