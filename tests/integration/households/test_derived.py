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


def _derived_over_every_property(form, values, only=None):
    """`derive` as it was, with every saved property in the tree (the reference for the
    tree of only what the calculates read)."""
    from forms.tree import Node
    from forms.xpath import Env
    from server.services.households import derived as module

    _, steps, fields = module._planned(form)
    if only is not None:
        steps = module._steps_for(form, only)
    if not steps:
        return values
    root, nodes = Node(form.root_name), {}
    for name, path in form.entity.properties.items():
        if name in values:
            module._node(root, nodes, path).text = values[name]
    module._node(root, nodes, f"{form.entity.path}/label").text = values.get(LABEL, "")
    env = Env(root=root, instances=form.instances)
    out = dict(values)
    for path, name in steps:
        node = module._node(root, nodes, path)
        node.text = module._value(fields[path], node, env)
        if name is not None and (name in values or name == LABEL):
            out[name] = node.text
    return out


def test_h6_the_tree_of_what_the_calculates_read_derives_what_every_property_derived():
    base = {
        **INDICATORS, "income_per_person": "1000000", "area": "rural", "hh_size": "5",
        "assessment_date": "2026-11-21", "head_name": "Lò Văn Minh", "head_birth_year": "1980",
        "ethnicity": "thai", LABEL: "x",
    }  # fmt: skip
    cases = [
        base,
        {**base, "income_per_person": "3000000", "area": "urban", "water": "0", "latrine": "0"},
        {k: v for k, v in base.items() if k not in ("area", LABEL, "head_birth_year")},
        {**base, "income_per_person": "", "assessment_date": "2020-01-01"},
    ]
    for form in (registration_form(), visit_form()):
        names = frozenset(name for _, name in plan(form) if name)
        for values in cases:
            for only in (None, names, frozenset({"poverty_status"}), frozenset({LABEL})):
                expected = _derived_over_every_property(form, values, only)
                assert derive(form, values, only) == expected, (only, values)
