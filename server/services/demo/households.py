"""Submissions for the shipped household forms, written as ODK Collect would write them.

The demo seed sends generated registrations through ingest so that its
households come from stored submissions like any others; tests and
benchmarks build registrations and visits the same way. Names follow the
peoples of the demo area (Thái, Hmông and Kinh families); every answer
satisfies the forms' constraints (the CCCD's century, sex and birth-year
digits agree with the head's answers).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field, replace

from forms.answers import answers_from_values
from forms.instance import from_answers, to_xml
from forms.model import FormModel
from server.dedup.names import strip_accents

FAMILIES = {
    "thai": ["Lò", "Quàng", "Lường", "Cà", "Tòng", "Lự"],
    "hmong": ["Giàng", "Thào", "Vàng", "Sùng", "Mùa", "Lầu"],
    "kinh": ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"],
}
MIDDLE = {
    ("thai", "male"): "Văn",
    ("thai", "female"): "Thị",
    ("hmong", "male"): "A",
    ("hmong", "female"): "Thị",
    ("kinh", "male"): "Văn",
    ("kinh", "female"): "Thị",
}
GIVEN = {
    "male": ["Hùng", "Páo", "Dình", "Sử", "Thắng", "Chính", "Dế", "Tủa", "Minh", "Phong"],
    "female": ["Mai", "Dung", "Xua", "Pằng", "Lan", "Hoa", "Sim", "Chở", "Thu", "Ngọc"],
}
_MEMBER_RELATIONS = ["spouse", "child", "child", "parent", "grandchild"]


@dataclass
class Member:
    name: str
    sex: str
    birth_year: int
    relation: str


@dataclass
class DemoHousehold:
    """One household as its registration describes it."""

    id: str
    village: str  # form code: commune code + "_" + village code ("03325_01")
    commune: str
    province: str
    head_name: str
    head_sex: str
    head_birth_year: int
    ethnicity: str
    income: int
    members: list[Member] = field(default_factory=list)
    phone: str = ""
    area: str = "rural"
    # A second registration of that household by another cadre, spelt differently and
    # without CCCD or GPS: a possible duplicate for reviewers (sync contract D2).
    twin_of: str | None = None


def person_name(rng: random.Random, people: str, sex: str, family: str | None = None) -> str:
    """A full name the way it is written in the demo area."""
    family = family or rng.choice(FAMILIES[people])
    return f"{family} {MIDDLE[(people, sex)]} {rng.choice(GIVEN[sex])}"


def cccd(rng: random.Random, province: str, sex: str, birth_year: int) -> str:
    """A 12-digit citizen ID whose digits agree with sex and birth year (Circular 59/2021)."""
    century_sex = 2 * (birth_year // 100 - 19) + (1 if sex == "female" else 0)
    serial = rng.randrange(10**6)
    return f"{int(province):03d}{century_sex}{birth_year % 100:02d}{serial:06d}"


def generate(
    rng: random.Random, villages: list[tuple[str, str, str]], count: int
) -> list[DemoHousehold]:
    """`count` households spread over `villages` ((province, commune, village form code))."""
    peoples = {"thai": "thai", "hmong": "hmong", "kinh": "kinh"}
    found = []
    for _ in range(count):
        province, commune, village = rng.choice(villages)
        people = rng.choice(list(peoples))
        sex = rng.choice(["male", "male", "female"])
        family = rng.choice(FAMILIES[people])
        head_year = rng.randrange(1950, 2000)
        members = [
            Member(
                person_name(rng, people, member_sex, family if relation != "spouse" else None),
                member_sex,
                _birth_year(rng, head_year, relation),
                relation,
            )
            for relation in rng.sample(_MEMBER_RELATIONS, rng.randrange(1, 5))
            for member_sex in [rng.choice(["male", "female"])]
        ]
        if found and len(found) % DUPLICATE_EVERY == 0:
            found.append(registered_again(rng, rng.choice([h for h in found if not h.twin_of])))
            continue
        found.append(
            DemoHousehold(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                village=village,
                commune=commune,
                province=province,
                head_name=person_name(rng, people, sex, family),
                head_sex=sex,
                head_birth_year=head_year,
                ethnicity=peoples[people],
                income=rng.randrange(600, 2600) * 1000,
                members=members,
                phone=f"09{rng.randrange(10**8):08d}" if rng.random() < 0.6 else "",
            )
        )
    return found


#: One demo household in this many is a second registration of an earlier one.
DUPLICATE_EVERY = 12
#: Regional spellings of one family name (domain.md).
_REGIONAL = {"Hoàng": "Huỳnh", "Vũ": "Võ"}


def registered_again(rng: random.Random, household: DemoHousehold) -> DemoHousehold:
    """`household` registered a second time, as another cadre would write it: accents left
    out or a regional spelling, new entity id, no CCCD or GPS recorded."""
    family, rest = household.head_name.split(" ", 1)
    name = f"{_REGIONAL.get(family, family)} {rest}"
    if name == household.head_name or rng.random() < 0.5:
        name = strip_accents(name)
    return replace(
        household,
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        head_name=name,
        twin_of=household.id,
    )


def _birth_year(rng: random.Random, head_year: int, relation: str) -> int:
    """A birth year that fits the member's relation to a head born in `head_year`."""
    low, high = {
        "spouse": (head_year - 5, head_year + 6),
        "child": (head_year + 18, head_year + 41),
        "grandchild": (head_year + 40, head_year + 66),
        "parent": (head_year - 30, head_year - 17),
    }[relation]
    return min(rng.randrange(low, high), 2024)


def _assessment(rng: random.Random, household: DemoHousehold) -> dict[str, str]:
    """Answers to the deprivation questions: poorer households lack more."""
    poor = household.income < 1_500_000
    lacks = lambda p: rng.random() < (p if poor else p / 3)  # noqa: E731 - a local shorthand
    return {
        "area": household.area,
        "income_per_person": str(household.income),
        "q_unemployed": "yes" if lacks(0.4) else "no",
        "dependants_count": "0",
        "q_child_malnourished": "yes" if lacks(0.3) else "no",
        "q_no_health_insurance": "yes" if lacks(0.3) else "no",
        "q_adult_undereducated": "yes" if lacks(0.5) else "no",
        "q_child_out_of_school": "yes" if lacks(0.2) else "no",
        "q_non_durable": "walls roof" if lacks(0.5) else "none",
        "floor_area_m2": str(rng.choice([18, 24, 30, 40, 60, 80])),
        "q_water_source": "unprotected_spring" if lacks(0.5) else "piped",
        "q_latrine": "simple_pit" if lacks(0.6) else "septic",
        "q_telecom": "no" if lacks(0.3) else "yes",
        "q_devices": "none" if lacks(0.4) else "tv smartphone",
        # Asked only under the 2016-2020 or 2027-2030 standard; the demo assesses in 2026.
        "q_no_health_care": "",
        "q_no_information_assets": "",
        "q_no_waste_collection": "",
        "q_no_digital_services": "",
    }


def registration_answers(
    model: FormModel,
    household: DemoHousehold,
    *,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    username: str = "",
    when: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> dict:
    """The JSON answers of a registration of `household` (the shape of `forms.instance`);
    with `deprecated_id`, an edit of the registration that instance ID names."""
    rng = rng or random.Random(household.id)
    when = when or dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    values = {
        **_meta(username, when),
        "province": household.province,
        "commune": household.commune,
        "village": household.village,
        "address": f"Nhà số {rng.randrange(1, 80)}",
        "head_name": household.head_name,
        "head_sex": household.head_sex,
        "head_birth_year": str(household.head_birth_year),
        "head_cccd": cccd(rng, household.province, household.head_sex, household.head_birth_year),
        "ethnicity": household.ethnicity,
        "phone": household.phone,
        "member": [
            {
                "member_name": m.name,
                "member_sex": m.sex,
                "member_birth_year": str(m.birth_year),
                "member_relation": m.relation,
            }
            for m in household.members
        ],
        "house_location": f"{21.3 + rng.random() / 10:.5f} {103.0 + rng.random() / 10:.5f} 900 5",
        "instanceID": instance_id or f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        **_assessment(rng, household),
    }
    if household.twin_of:
        values["head_cccd"] = values["house_location"] = ""
    answers = _with_entity(model, answers_from_values(model.root, values), {"@id": household.id})
    return _with_edit(answers, deprecated_id)


def visit_answers(
    model: FormModel,
    household_id: str,
    base_version: int,
    *,
    income: int,
    hh_size: int = 4,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    username: str = "",
    when: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> dict:
    """The JSON answers of a visit that updates household `household_id` from `base_version`."""
    rng = rng or random.Random(f"{household_id}:{base_version}:{income}")
    when = when or dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    household = DemoHousehold(household_id, "", "", "", "", "male", 1980, "thai", income)
    values = {
        **_meta(username, when),
        "household": household_id,
        "hh_size": str(hh_size),
        "support_given": "no",
        "exit_claimed": "no",
        "poverty_causes": "lack_capital lack_skills",
        "plan_agreed": "Nuôi 2 con bò sinh sản, trồng thêm ngô.",
        "instanceID": instance_id or f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        **_assessment(rng, household),
    }
    entity = {
        "@id": household_id,
        "@baseVersion": str(base_version),
        "@trunkVersion": str(base_version),
        "@branchId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
    answers = _with_entity(model, answers_from_values(model.root, values), entity)
    return _with_edit(answers, deprecated_id)


def to_submission_xml(model: FormModel, answers: dict) -> bytes:
    """The answers as the submission XML Collect would POST."""
    return to_xml(from_answers(answers, model))


def _with_entity(model: FormModel, answers: dict, attrs: dict[str, str]) -> dict:
    """Set the `meta/entity` attributes: the form's template ones, then `attrs`.

    The visit form declares its entity attributes only in the template, not as
    fields, so `fill` cannot find them.
    """
    template = model.template.find("meta/entity")
    meta = answers.setdefault("meta", {})
    entity = meta.get("entity") if isinstance(meta.get("entity"), dict) else {}
    defaults = {f"@{k}": v for k, v in (template.attrs if template is not None else {}).items()}
    meta["entity"] = {**defaults, **entity, **attrs}
    return answers


def _with_edit(answers: dict, deprecated_id: str | None) -> dict:
    """Mark the answers as an edit of `deprecated_id` (`meta/deprecatedID`, which forms do
    not declare: Collect adds it when a sent form is edited)."""
    if deprecated_id:
        answers.setdefault("meta", {})["deprecatedID"] = deprecated_id
    return answers


def _meta(username: str, when: dt.datetime) -> dict[str, str]:
    return {
        "start": when.isoformat(timespec="milliseconds"),
        "end": (when + dt.timedelta(minutes=35)).isoformat(timespec="milliseconds"),
        "today": when.date().isoformat(),
        "deviceid": "collect:giupho-demo",
        "username": username,
    }
