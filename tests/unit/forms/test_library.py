"""The forms giupho ships: they build, convert, load, speak both languages, declare the
household entity, refuse bad CCCDs, and compute the same classification as the
Python classifier on every row of the domain table."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import cache

import pytest
from lxml import etree
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from forms.answers import answers_from_values
from forms.instance import from_answers
from forms.library import (
    REGISTRATION_VERSION,
    REGISTRATION_XLSX,
    SHIPPED_FORMS,
    VISIT_VERSION,
    VISIT_XLSX,
    build,
)
from forms.load import load_form
from forms.poverty import classify, classify_household, load_standards, status_label
from forms.poverty import media as poverty_media
from forms.validation import compute, validate
from tests.unit.forms.poverty_cases import ALL_12, CASES

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=timezone(timedelta(hours=7)))
VI = "Tiếng Việt (vi)"
EN = "English (en)"
XF = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
HOUSEHOLD_ID = "4b0c6f0e-3a52-4c1e-9a55-2f7f1d6b8e21"

ASSESSED = {
    "area",
    "hh_size",
    "income_per_person",
    *ALL_12,  # the twelve deprivation indicators
    "health_access",  # asked when the 2016-2020 standard is in force
    "information_assets",
    "waste",  # asked when the 2027-2030 standard is in force
    "digital_services",
    "assessment_date",  # the standard in force that day classifies the household
    "deprivation_count",
    "poverty_status",
    "poverty_standard",
}
REGISTRATION_PROPERTIES = ASSESSED | {
    "province",
    "commune",
    "village",
    "address",
    "household_code",
    "head_name",
    "head_sex",
    "head_birth_year",
    "head_cccd",
    "ethnicity",
    "ethnicity_other",
    "ethnic_minority",
    "phone",
    "geometry",
}
VISIT_PROPERTIES = ASSESSED | {"exit_claimed", "last_visit_date"}


@cache
def form(path):
    """The shipped form with the poverty lines the server sends with it (`poverty_lines.csv`)."""
    model = load_form(path)
    poverty_media.attach(model, load_standards())
    return model


def trimmed(rows):
    """Rows of cell values without trailing empty cells (how a sheet reads back)."""
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    return out


# ----------------------------------------------------------------- building answers


def assessment(case, index: int) -> dict:
    """Answers to the assessment questions that deprive the household of exactly case.deprived.

    The non-deprived and deprived answers rotate through the choices so that every
    option the form's calculation looks at is exercised somewhere in the table.
    """
    deprived = case.deprived

    def pick(indicator: str, bad: tuple[str, ...], good: tuple[str, ...]) -> str:
        options = bad if indicator in deprived else good
        return options[index % len(options)]

    return {
        "area": case.area,
        "income_per_person": str(case.income),
        "q_unemployed": pick("employment", ("yes",), ("no",)),
        # 4 members: 3 dependants is more than half, 2 is exactly half (not deprived).
        "dependants_count": pick("dependants", ("3", "4"), ("2", "0", "1")),
        "q_child_malnourished": pick("nutrition", ("yes",), ("no",)),
        "q_no_health_insurance": pick("health_insurance", ("yes",), ("no",)),
        "q_adult_undereducated": pick("adult_education", ("yes",), ("no",)),
        "q_child_out_of_school": pick("child_schooling", ("yes",), ("no",)),
        "q_non_durable": pick(
            "housing_quality",
            ("walls roof", "walls columns roof", "columns roof"),
            ("none", "roof", "walls"),
        ),
        # 8 m² per person for 4 members is 32 m²: exactly 32 is not deprived.
        "floor_area_m2": pick("floor_area", ("31.5", "0", "12"), ("32", "60", "45.5")),
        "q_water_source": pick(
            "water",
            ("unprotected_well", "unprotected_spring", "surface", "other"),
            ("piped", "drilled_well", "protected_well", "protected_spring", "rainwater", "bottled"),
        ),
        "q_latrine": pick(
            "latrine",
            ("simple_pit", "over_water", "none", "other"),
            ("septic", "pour_flush", "double_vault", "ventilated_pit"),
        ),
        "q_telecom": pick("telecom", ("no",), ("yes",)),
        "q_devices": pick(
            "information_devices", ("none",), ("tv", "radio smartphone", "computer tablet")
        ),
    }


META = {
    "start": "2026-11-21T08:40:00.000+07:00",
    "end": "2026-11-21T09:25:00.000+07:00",
    "today": "2026-11-21",
    "deviceid": "collect:r4Nd0mDev1ce",
    "username": "canbo.bacha",
    "instanceID": "uuid:6f1e8a52-8a3e-4c55-9d6e-0b7c1e3f2a90",
}

MEMBERS = [
    {
        "member_name": "Vàng Thị Mai",
        "member_sex": "female",
        "member_birth_year": "1988",
        "member_relation": "spouse",
        "member_cccd": "015188004321",
    },
    {
        "member_name": "Giàng A Sử",
        "member_sex": "male",
        "member_birth_year": "2010",
        "member_relation": "child",
        "member_cccd": "",
    },
    {
        "member_name": "Giàng Thị Dung",
        "member_sex": "female",
        "member_birth_year": "2005",
        "member_relation": "child",
        "member_cccd": "015305001122",
    },
]


def registration_values(case, index: int = 0) -> dict:
    return {
        **META,
        "province": "11",
        "commune": "03325",
        "village": "03325_02",
        "address": "Xóm Trên",
        "household_code": "LC-BH-0042",
        "head_name": "Giàng A Páo",
        "head_sex": "male",
        "head_birth_year": "1985",
        "head_cccd": "015085001234",
        "ethnicity": "hmong",
        "phone": "0912345678",
        "member": [dict(m) for m in MEMBERS],
        "house_location": "22.5246 104.307 900 5",
        "house_photo": "house-1732150000.jpg",
        "@id": HOUSEHOLD_ID,
        **assessment(case, index),
    }


def visit_values(case, index: int = 0) -> dict:
    return {
        **META,
        "household": HOUSEHOLD_ID,
        "hh_size": "4",
        "visit_location": "22.5247 104.3071 905 4",
        "visit_photo": "visit-1732150000.jpg",
        "poverty_causes": "lack_capital lack_skills",
        "plan_agreed": "Nuôi 2 con bò sinh sản.",
        "support_given": "yes",
        "support": [
            {
                "support_kind": "cattle",
                "support_quantity": "1",
                "support_value": "15000000",
                "support_source": "organisation",
                "support_giver": "Hội Nông dân xã",
            },
            {
                "support_kind": "rice",
                "support_quantity": "10",
                "support_value": "200000",
                "support_source": "cadre",
                "support_giver": "",
            },
        ],
        "exit_claimed": "no",
        "@id": HOUSEHOLD_ID,
        "@baseVersion": "3",
        **assessment(case, index),
    }


def submission(path, values: dict):
    model = form(path)
    return from_answers(answers_from_values(model.root, values, keep_empty=True), model)


def value_at(root, name: str) -> str:
    found = [n for n in root.iter() if n.name == name]
    assert len(found) == 1, f"{name}: {len(found)} nodes"
    return found[0].text


def errors(result) -> list:
    return [i for i in result.issues if i.severity == "error"]


# ----------------------------------------------------------------- the files


@pytest.mark.parametrize("spec", build.FORMS, ids=lambda s: s.form_id)
def test_committed_xlsx_is_what_build_py_produces(spec):
    workbook = load_workbook(build.HERE / spec.filename, read_only=True)
    expected = build.sheets(spec)
    assert workbook.sheetnames == list(expected)
    for name, rows in expected.items():
        committed = trimmed(workbook[name].iter_rows(values_only=True))
        assert committed == trimmed(rows), f"{spec.filename} sheet {name} differs: rerun build.py"


@pytest.mark.parametrize("path", SHIPPED_FORMS.values(), ids=SHIPPED_FORMS.keys())
def test_pyxform_converts_without_errors_or_warnings(path):
    result = convert(str(path), validate=False)
    assert result.warnings == []
    assert 'entities:entities-version="2024.1.0"' in result.xform


def test_visit_reads_the_household_list_as_odk_collect_expects():
    xform = convert(str(VISIT_XLSX), validate=False).xform
    assert '<instance id="households" src="jr://file-csv/households.csv"/>' in xform
    assert "instance('households')/root/item[name= /data/visited/household ]/__version" in xform


@pytest.mark.parametrize("path", SHIPPED_FORMS.values(), ids=SHIPPED_FORMS.keys())
def test_every_text_is_in_vietnamese_and_english(path):
    doc = etree.fromstring(convert(str(path), validate=False).xform.encode())
    translations = {
        t.get("lang"): {
            x.get("id"): "".join(x.itertext()).strip() for x in t.findall("xf:text", XF)
        }
        for t in doc.iterfind(".//xf:itext/xf:translation", XF)
    }
    assert set(translations) == {VI, EN}
    default = doc.find(".//xf:itext/xf:translation[@default='true()']", XF)
    assert default.get("lang") == VI
    assert translations[VI].keys() == translations[EN].keys()
    for lang, texts in translations.items():
        # pyxform writes "-" where a row lacks the language's column.
        missing = [k for k, v in texts.items() if v in ("", "-")]
        assert missing == [], f"{lang} text missing for {missing}"
    body = doc.find("h:body", XF)
    plain = [
        el
        for el in body.iter(f"{{{XF['xf']}}}label", f"{{{XF['xf']}}}hint")
        if el.get("ref") is None and el.getparent().tag != f"{{{XF['xf']}}}itemset"
    ]
    assert plain == [], "labels and hints must be translated (jr:itext)"


def translated(text) -> bool:
    """Both languages present; pyxform fills a missing one with "-"."""
    return all(text.by_lang.get(lang) not in (None, "", "-") for lang in (VI, EN))


@pytest.mark.parametrize("path", SHIPPED_FORMS.values(), ids=SHIPPED_FORMS.keys())
def test_loaded_form_has_both_languages_on_every_label(path):
    model = form(path)
    assert model.default_language == VI
    assert set(model.languages) == {VI, EN}
    for field in model.root.walk():
        for text in (field.label, field.hint, field.constraint_message, field.required_message):
            if text:
                assert translated(text), f"{field.path}: {text}"
        if field.choices is not None and not field.choices.external:
            for choice in field.choices.items:
                assert translated(choice.label), choice


def test_demo_places_cascade_province_commune_village():
    choices = {row[0]: [] for row in build.choices_sheet(build.REGISTRATION)[1:]}
    for row in build.choices_sheet(build.REGISTRATION)[1:]:
        choices[row[0]].append(row)
    provinces = {row[1] for row in choices["province"]}
    communes = {row[1]: row for row in choices["commune"]}
    assert provinces == {"11"} and set(communes) == {"03316", "03325", "03334"}
    assert communes["03325"][2] == "Xã Mường Phăng" and communes["03334"][2] == "Phường Mường Thanh"
    assert all(row[4] in provinces for row in communes.values())
    villages = choices["village"]
    assert len(villages) >= 4 and all(row[5] in communes for row in villages)
    assert len({row[1] for row in villages}) == len(villages)


def test_form_ids_and_version():
    assert form(REGISTRATION_XLSX).form_id == "giupho_household_registration"
    assert form(VISIT_XLSX).form_id == "giupho_household_visit"
    assert form(REGISTRATION_XLSX).version == REGISTRATION_VERSION
    assert form(VISIT_XLSX).version == VISIT_VERSION
    assert form(REGISTRATION_XLSX).warnings == form(VISIT_XLSX).warnings == []


def test_registration_creates_the_household_entity_with_every_property():
    entity = form(REGISTRATION_XLSX).entity
    assert entity.dataset == "households"
    assert entity.static_create and not entity.static_update
    assert set(entity.properties) == REGISTRATION_PROPERTIES
    assert entity.label is not None and "head_name" in entity.label.source


def test_visit_updates_the_household_chosen_from_the_list():
    model = form(VISIT_XLSX)
    entity = model.entity
    assert entity.dataset == "households"
    assert entity.static_update and not entity.static_create
    assert entity.entity_id.source.strip() == "/data/visited/household"
    assert entity.base_version is not None
    assert set(entity.properties) == VISIT_PROPERTIES
    chooser = model.field("/data/visited/household")
    assert chooser.choices.external and chooser.choices.instance_id == "households"


# ----------------------------------------------------------------- the agreement


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("path", SHIPPED_FORMS.values(), ids=["registration", "visit"])
def test_form_and_classifier_agree_on_the_domain_table(path, case):
    index = CASES.index(case)
    values = (registration_values if path == REGISTRATION_XLSX else visit_values)(case, index)
    root = submission(path, values)
    result = validate(form(path), root, now=NOW)
    assert errors(result) == [], "the case's answers must be a valid submission"
    computed = compute(form(path), root, now=NOW)
    python = classify(case.income, case.area, set(case.deprived), date(2026, 11, 21))
    assert python.status == case.expected
    assert value_at(computed, "poverty_status") == case.expected
    assert int(value_at(computed, "deprivation_count")) == len(case.deprived)
    assert value_at(computed, "poverty_standard") == python.standard_id
    assert value_at(computed, "status_vi") == status_label(case.expected, "vi")
    assert value_at(computed, "status_en") == status_label(case.expected, "en")
    for indicator in python.deprived:
        assert value_at(computed, indicator) == "1"
    # What the form saves to the household is enough to reclassify it after a merge (H6).
    saved = {
        prop: computed.find(field_path.split("/", 2)[2]).text
        for prop, field_path in form(path).entity.properties.items()
    }
    again = classify_household(saved, date(2026, 11, 21))
    assert (again.status, again.deprivation_count) == (case.expected, len(case.deprived))


# ----------------------------------------------------------------- constraints


def issues_at(path, values: dict, field_path: str) -> list[str]:
    result = validate(form(path), submission(path, values), now=NOW)
    return [i.code for i in errors(result) if i.path == field_path]


def test_a_valid_registration_has_no_errors():
    result = validate(
        form(REGISTRATION_XLSX),
        submission(REGISTRATION_XLSX, registration_values(CASES[0])),
        now=NOW,
    )
    assert errors(result) == []


@pytest.mark.parametrize(
    ("sex", "year", "cccd", "accepted"),
    [
        ("male", "1985", "015085001234", True),
        ("female", "1985", "015185001234", True),
        ("female", "2005", "001305009999", True),
        ("male", "2000", "079200000001", True),
        ("male", "1985", "015185001234", False),  # digit 4 says female
        ("female", "1985", "015085001234", False),  # digit 4 says male
        ("male", "1985", "015086001234", False),  # digits 5-6 say 1986
        ("male", "2005", "015005001234", False),  # digit 4 says 1900s
        ("male", "1985", "01508500123", False),  # 11 digits
        ("male", "1985", "0150850012345", False),  # 13 digits
        ("male", "1985", "01508500123A", False),  # not all digits
    ],
)
def test_head_cccd_must_agree_with_sex_and_birth_year(sex, year, cccd, accepted):
    values = {
        **registration_values(CASES[0]),
        "head_sex": sex,
        "head_birth_year": year,
        "head_cccd": cccd,
    }
    codes = issues_at(REGISTRATION_XLSX, values, "/data/head/head_cccd")
    assert (codes == []) is accepted, codes
    if not accepted:
        assert codes == ["constraint"]


def test_a_member_cccd_that_disagrees_is_refused_at_its_repeat_position():
    values = registration_values(CASES[0])
    values["member"][2]["member_cccd"] = "015205001122"  # a woman born 2005 needs digit 4 = 3
    result = validate(form(REGISTRATION_XLSX), submission(REGISTRATION_XLSX, values), now=NOW)
    problems = errors(result)
    assert [(i.path, i.code) for i in problems] == [("/data/member[3]/member_cccd", "constraint")]
    assert "CCCD" in problems[0].message and "CCCD" in problems[0].message_vi


def test_a_village_of_another_commune_is_refused_by_the_cascade():
    values = {**registration_values(CASES[0]), "commune": "03325", "village": "03316_01"}
    assert issues_at(REGISTRATION_XLSX, values, "/data/place/village") != []
    values["commune"] = "03316"
    assert issues_at(REGISTRATION_XLSX, values, "/data/place/village") == []


def test_more_dependants_than_members_is_refused():
    values = {**visit_values(CASES[0]), "hh_size": "2", "dependants_count": "3"}
    codes = issues_at(VISIT_XLSX, values, "/data/dim_employment/dependants_count")
    assert codes == ["constraint"]


def test_none_cannot_be_chosen_with_a_device():
    values = {**visit_values(CASES[0]), "q_devices": "none tv"}
    codes = issues_at(VISIT_XLSX, values, "/data/dim_information/q_devices")
    assert codes == ["constraint"]
