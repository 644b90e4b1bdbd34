"""`FormValidator.computed`: only what the calculates at some paths need is computed, and
their values are exactly those `validate` computes (the household rebuild relies on it)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.validation import validator_for
from tests.integration.contract.submissions import (
    registration,
    registration_form,
    visit,
    visit_form,
)

ANSWERS = st.fixed_dictionaries({
    "income__income_per_person": st.sampled_from(["0", "900000", "1500000", "2500000", ""]),
    "place__area": st.sampled_from(["rural", "urban"]),
    "dim_employment__q_unemployed": st.sampled_from(["yes", "no"]),
    "dim_employment__dependants_count": st.sampled_from(["0", "1", "3"]),
    "dim_health__q_no_health_insurance": st.sampled_from(["yes", "no"]),
    "dim_education__q_child_out_of_school": st.sampled_from(["yes", "no"]),
    "dim_housing__floor_area_m2": st.sampled_from(["5", "40", "120"]),
    "dim_water__q_water_source": st.sampled_from(["piped", "river"]),
    "dim_information__q_telecom": st.sampled_from(["yes", "no"]),
})  # fmt: skip


def _saved(form) -> frozenset[str]:
    entity = form.entity
    return frozenset(entity.properties.values()) | {f"{entity.path}/label"}


def _same(form, root) -> None:
    validator = validator_for(form)
    paths = _saved(form)
    full = validator.validate(root).computed
    before = root.copy()
    only = validator.computed(root, paths)
    assert only == {p: v for p, v in full.items() if p in paths}
    assert len(validator._needed[paths]) < len(validator.steps)  # it did leave work out
    assert [n.text for n in root.iter()] == [n.text for n in before.iter()]  # tree untouched


@settings(max_examples=40, deadline=None)
@given(ANSWERS)
def test_a_registration_s_saved_calculates_are_those_validate_computes(answers):
    _same(registration_form(), registration(**answers))


@settings(max_examples=40, deadline=None)
@given(ANSWERS, st.sampled_from(["1", "4", "9"]))
def test_a_visit_s_saved_calculates_are_those_validate_computes(answers, size):
    answers = {k: v for k, v in answers.items() if not k.startswith("place__")}
    _same(visit_form(), visit("h-1", visited__hh_size=size, **answers))
