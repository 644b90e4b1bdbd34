"""H6: which household properties a form derives from others, and their recomputation with
the form's own expressions (no database: the shipped forms' models only)."""

from __future__ import annotations

from server.services.households.derived import LABEL, derive, plan
from tests.integration.openrosa.world import registration_form, visit_form

INDICATORS = {
    "employment": "1", "dependants": "0", "nutrition": "1", "health_insurance": "0",
    "adult_education": "0", "child_schooling": "0", "housing_quality": "0", "floor_area": "0",
    "water": "1", "latrine": "1", "telecom": "0", "information_devices": "0",
}  # fmt: skip


def test_h6_only_properties_computed_from_other_properties_are_recomputed():
    derived = {name for _, name in plan(registration_form()) if name}

    assert {"deprivation_count", "poverty_status", "ethnic_minority", LABEL} <= derived
    assert "employment" not in derived  # it reads an answer the household does not keep
    assert "income_per_person" not in derived  # an answer, not a calculation


def test_h6_merged_values_get_the_derived_values_they_imply():
    merged = {
        **INDICATORS,
        "deprivation_count": "2",  # from one visit, before the other's deprivations merged
        "poverty_status": "near_poor",
        "income_per_person": "1000000",
        "area": "rural",
        "assessment_date": "2026-11-21",
        "head_name": "Lò Văn Minh",
        "head_birth_year": "1980",
        LABEL: "Lò Văn Mình (1980)",
    }

    for form in (registration_form(), visit_form()):
        found = derive(form, merged)
        assert found["deprivation_count"] == "4"
        assert found["poverty_status"] == "poor"  # income under the line, 4 deprivations
        assert found["employment"] == "1"  # kept as merged
    assert derive(registration_form(), merged)[LABEL] == "Lò Văn Minh (1980)"
