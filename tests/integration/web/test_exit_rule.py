"""The poverty exit rule (domain.md: thoát nghèo, thoát cận nghèo) on any history of assessments:
a household's exit is its latest change of status, when that change left poor or near-poor for
a better status the household still has; nothing else is an exit."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from server.models import Household
from server.services.review.exits import TRANSITIONS, Assessment, exit_of, ranks

STATUSES = ["poor", "near_poor", "average", "above"]
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _history(statuses: list[str]) -> list[Assessment]:
    return [
        Assessment(n, T0 + dt.timedelta(days=n), s, "vn-2022-2026", None)
        for n, s in enumerate(statuses, start=1)
    ]


def test_the_standards_rank_statuses_from_poor_to_above():
    assert sorted(ranks(), key=ranks().get) == STATUSES


@given(st.lists(st.sampled_from(STATUSES), max_size=8))
def test_an_exit_is_the_latest_change_of_status_out_of_poverty_or_near_poverty(statuses):
    household = Household(id="h", properties={"poverty_status": statuses[-1] if statuses else ""})
    found = exit_of(household, _history(statuses))

    pairs = enumerate(itertools.pairwise(statuses), start=2)
    changes = [(n, a, b) for n, (a, b) in pairs if a != b]
    if not changes:
        assert found is None
        return
    version, old, new = changes[-1]
    if old in TRANSITIONS and STATUSES.index(new) > STATUSES.index(old):
        assert found is not None
        assert (found.version, found.from_status, found.to_status) == (version, old, new)
        assert found.transition == TRANSITIONS[old]
    else:
        assert found is None


def test_an_exit_the_household_no_longer_has_is_not_listed():
    household = Household(id="h", properties={"poverty_status": "near_poor"})
    assert exit_of(household, _history(["poor", "average"])) is None  # a later edit, unassessed
    household.properties = {"poverty_status": "average"}
    found = exit_of(household, _history(["poor", "average"]))
    assert (found.transition, found.version) == ("escaped_poverty", 2)
