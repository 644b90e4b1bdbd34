"""Issue 18 acceptance through real submissions: the shipped registration form POSTed over
OpenRosa with an assessment date (`today`) in each period; the server stores the status under
the standard in force that day and records which standard it used."""

from __future__ import annotations

import pytest

from server.services.households import versions as households
from tests.integration.openrosa.test_submission import post
from tests.integration.openrosa.world import (
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)
from tests.unit.poverty.test_tablet import DEPRIVED, NOT_DEPRIVED

pytestmark = pytest.mark.usefixtures("world")

# (assessment date, standard, area, poverty line of that standard and area)
LINES = [
    ("2016-01-01", "vn-2016-2020", "rural", 1_000_000),
    ("2021-12-31", "vn-2016-2020", "urban", 1_300_000),
    ("2022-01-01", "vn-2022-2026", "rural", 1_500_000),
    ("2026-12-31", "vn-2022-2026", "urban", 2_000_000),
    ("2027-01-01", "vn-2027-2030", "rural", 2_200_000),
    ("2030-12-31", "vn-2027-2030", "urban", 2_800_000),
]


@pytest.fixture
def submit(client, world, app):  # noqa: F811 - the world fixture
    def call(today: str, area: str, income: int, deprived: int) -> dict:
        """Register a household assessed on `today` with `deprived` deprivations; its stored
        properties."""
        home = household()
        answers = {**NOT_DEPRIVED, **{q: "yes" for q in DEPRIVED[:deprived]}}
        # The questions only the 2016-2020 or the 2027-2030 standard counts are asked then.
        year = int(today[:4])
        if 2016 <= year <= 2021:
            answers.update(q_no_health_care="no", q_no_information_assets="no")
        elif year >= 2027:
            answers.update(q_no_waste_collection="no", q_no_digital_services="no")
        xml = registration_xml(
            home, today=today, area=area, income_per_person=str(income), **answers
        )
        response = post(client, world, xml)
        assert response.status_code == 201, response.data
        with app.app_context():
            return households.get(home.id).properties

    return call


@pytest.mark.parametrize(("today", "standard", "area", "line"), LINES)
def test_a_submission_is_classified_under_the_standard_in_force_on_its_date(
    submit,
    today,
    standard,
    area,
    line,
):
    at_line = submit(today, area, line, 3)
    assert (at_line["poverty_status"], at_line["poverty_standard"]) == ("poor", standard)
    assert at_line["deprivation_count"] == "3"
    above = submit(today, area, line + 1, 3)
    assert (above["poverty_status"], above["poverty_standard"]) == ("average", standard)


def test_near_poor_at_the_2022_line_with_two_deprivations(submit):
    saved = submit("2024-05-01", "urban", 1_999_999, 2)
    assert (saved["poverty_status"], saved["deprivation_count"]) == ("near_poor", "2")


def test_a_2027_rural_household_at_2_100_000_is_poor_under_decree_351(submit):
    saved = submit("2027-03-01", "rural", 2_100_000, 3)
    assert (saved["poverty_status"], saved["poverty_standard"]) == ("poor", "vn-2027-2030")
    before = submit("2026-12-31", "rural", 2_100_000, 3)
    assert (before["poverty_status"], before["poverty_standard"]) == ("average", "vn-2022-2026")


def test_under_qd_59_income_alone_makes_the_household_poor(submit):
    saved = submit("2019-10-01", "rural", 700_000, 0)
    assert (saved["poverty_status"], saved["poverty_standard"]) == ("poor", "vn-2016-2020")
    near = submit("2019-10-01", "rural", 700_001, 2)
    assert (near["poverty_status"], near["deprivation_count"]) == ("near_poor", "2")


def test_a_date_outside_every_standard_is_stored_unclassified(submit):
    saved = submit("2015-06-01", "rural", 500_000, 3)
    assert (saved["poverty_status"], saved["poverty_standard"]) == ("unclassified", "")
