"""Submissions of the shipped forms, built as a tablet would fill them.

Answers are written as the sync API's JSON documents, turned into the
answer tree with `forms.instance.from_answers`, and completed with the
form's calculates (`forms.validation.compute`), so every submission here is
valid unless a test breaks it on purpose. Protocol drivers then send the tree
as OpenRosa XML (`to_xml`) or as JSON answers (`to_answers`).
"""

from __future__ import annotations

import copy
import functools
import uuid

from forms.instance import from_answers
from forms.library import REGISTRATION_XLSX, VISIT_XLSX
from forms.load import load_form
from forms.model import FormModel
from forms.tree import Node
from forms.validation import compute, validate


@functools.cache
def registration_form() -> FormModel:
    return load_form(REGISTRATION_XLSX.read_bytes(), REGISTRATION_XLSX.name)


@functools.cache
def visit_form() -> FormModel:
    return load_form(VISIT_XLSX.read_bytes(), VISIT_XLSX.name)


def new_id() -> str:
    """A fresh `uuid:` instance id, as Collect writes it."""
    return f"uuid:{uuid.uuid4()}"


_WHEN = {
    "start": "2026-03-01T08:00:00.000+07:00",
    "end": "2026-03-01T08:40:00.000+07:00",
    "today": "2026-03-01",
    "deviceid": "collect:giupho-test-01",
    "username": "cadre_a",
}
_DIMENSIONS = {
    "income": {"income_per_person": "1200000"},
    "dim_employment": {"q_unemployed": "no", "dependants_count": "0"},
    "dim_health": {"q_child_malnourished": "no", "q_no_health_insurance": "no"},
    "dim_education": {"q_adult_undereducated": "no", "q_child_out_of_school": "no"},
    "dim_housing": {"q_non_durable": "none", "floor_area_m2": "40"},
    "dim_water": {"q_water_source": "piped", "q_latrine": "septic"},
    "dim_information": {"q_telecom": "yes", "q_devices": "tv smartphone"},
}


def _build(form: FormModel, answers: dict, changes: dict[str, str]) -> Node:
    """The computed answer tree of `answers` with `changes` ("group/name" -> value) applied."""
    for path, value in changes.items():
        *groups, name = path.split("/")
        target = answers
        for group in groups:
            target = target.setdefault(group, {})
        target[name] = value
    return compute(form, from_answers(answers, form))


def registration(
    *,
    household_id: str | None = None,
    instance_id: str | None = None,
    head_name: str = "Lò Văn Minh",
    village: str = "03325_01",
    **changes: str,
) -> Node:
    """A household registration (creates the `households` entity `household_id`).

    Keyword `changes` set further answers by path with `__` for `/`, e.g.
    `income__income_per_person="900000"`.
    """
    answers = copy.deepcopy(_WHEN) | copy.deepcopy(_DIMENSIONS)
    answers |= {
        "place": {"province": "11", "commune": village.split("_")[0], "village": village,
                  "area": "rural", "address": "Nhà số 3"},
        "head": {"head_name": head_name, "head_sex": "male", "head_birth_year": "1980",
                 "ethnicity": "thai", "phone": "0912345678"},
        "member": [{"member_name": "Lò Thị Hoa", "member_sex": "female",
                    "member_birth_year": "1982", "member_relation": "spouse"}],
        "meta": {"instanceID": instance_id or new_id(),
                 "entity": {"@dataset": "households", "@create": "1",
                            "@id": household_id or str(uuid.uuid4())}},
    }  # fmt: skip
    return _build(registration_form(), answers, _paths(changes))


def visit(
    household_id: str,
    *,
    base_version: int = 1,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    support: list[dict[str, str]] | None = None,
    **changes: str,
) -> Node:
    """A household visit updating `household_id` from `base_version`; `support`: the
    instances of its support repeat (answers by field name), none by default."""
    answers = copy.deepcopy(_WHEN) | copy.deepcopy(_DIMENSIONS)
    meta = {
        "instanceID": instance_id or new_id(),
        "entity": {"@dataset": "households", "@update": "1", "@id": household_id,
                   "@baseVersion": str(base_version)},
    }  # fmt: skip
    if deprecated_id is not None:
        meta["deprecatedID"] = deprecated_id
    answers |= {
        "visited": {"household": household_id, "area": "rural", "hh_size": "3"},
        "plan": {"poverty_causes": "lack_capital", "plan_agreed": "Nuôi thêm 2 con lợn"},
        "support_given": "yes" if support else "no",
        "exit": {"exit_claimed": "no"},
        "meta": meta,
    }
    if support:
        answers["support"] = copy.deepcopy(support)
    return _build(visit_form(), answers, _paths(changes))


def edit_of(original: Node, **changes: str) -> Node:
    """An edit of `original` (Collect's "edit saved form"): new instanceID, deprecatedID = old."""
    edited = original.copy()
    meta = edited.child("meta")
    old = meta.child("instanceID").text
    deprecated = meta.child("deprecatedID")
    if deprecated is None:
        deprecated = meta.insert(0, Node("deprecatedID"))
    deprecated.text = old
    meta.child("instanceID").text = new_id()
    for path, value in _paths(changes).items():
        edited.find(path).text = value
    return edited


def with_answer(root: Node, path: str, value: str) -> Node:
    """A copy of `root` with the answer at `path` ("head/head_name") replaced."""
    changed = root.copy()
    changed.find(path).text = value
    return changed


def instance_id(root: Node) -> str:
    return root.child("meta").child("instanceID").text


def household_id(root: Node) -> str:
    """The household (entity) a registration creates or a visit updates."""
    return root.child("meta").child("entity").attrs["id"]


def issues(form: FormModel, root: Node) -> list:
    """The validation issues the server will find (so a test can state its premise)."""
    return validate(form, root).issues


def _paths(changes: dict[str, str]) -> dict[str, str]:
    return {key.replace("__", "/"): value for key, value in changes.items()}
