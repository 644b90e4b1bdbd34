"""Build the XLSForms giupho ships: household registration and household visit.

The rows live in `survey_rows.py`, `assessment_rows.py` and `choice_lists.py`
(tables, written once and shared by both forms); this module assembles them
into the four XLSForm sheets and writes the `.xlsx` files committed beside it.
A test checks that the committed files equal what this script produces.

    python -m forms.library.build            # rewrite forms/library/*.xlsx
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from forms.library import REGISTRATION_VERSION, VISIT_VERSION
from forms.library.assessment_rows import ASSESSMENT
from forms.library.choice_lists import (
    CHOICES,
    SUPPORT_KIND_COLUMNS,
    place_choices,
    support_kind_choices,
)
from forms.library.survey_rows import (
    AUDIT,
    FOLLOW_UP,
    HEAD,
    HOUSE_LOCATION,
    HOUSEHOLD_CHOICE,
    MEMBERS,
    METADATA,
    PLACE,
    REQUIRED_EN,
    REQUIRED_VI,
)

HERE = Path(__file__).parent
VI = "Tiếng Việt (vi)"
EN = "English (en)"

# Row keys used in the tables -> XLSForm column headers, in sheet order.
COLUMNS = {
    "type": "type",
    "name": "name",
    "vi": f"label::{VI}",
    "en": f"label::{EN}",
    "hint_vi": f"hint::{VI}",
    "hint_en": f"hint::{EN}",
    "required": "required",
    "required_vi": f"required_message::{VI}",
    "required_en": f"required_message::{EN}",
    "relevant": "relevant",
    "constraint": "constraint",
    "constraint_vi": f"constraint_message::{VI}",
    "constraint_en": f"constraint_message::{EN}",
    "calculation": "calculation",
    "trigger": "trigger",
    "choice_filter": "choice_filter",
    "appearance": "appearance",
    "parameters": "parameters",
    "save_to": "save_to",
}
CHOICE_COLUMNS = ["list_name", "name", f"label::{VI}", f"label::{EN}", "province", "commune"]


@dataclass(frozen=True)
class FormSpec:
    """One shipped form: its rows and the sheets beside them."""

    form_id: str
    title: str
    filename: str
    survey: list[dict[str, str]]
    choice_lists: tuple[str, ...]
    entities: dict[str, str]
    instance_name: str
    settings: dict[str, str] = field(default_factory=dict)


REGISTRATION = FormSpec(
    form_id="giupho_household_registration",
    title="Đăng ký hộ gia đình (Household registration)",
    filename="household_registration.xlsx",
    survey=[*METADATA, *PLACE, *HEAD, *MEMBERS, *ASSESSMENT, *HOUSE_LOCATION],
    choice_lists=(
        "province",
        "commune",
        "village",
        "area",
        "sex",
        "ethnicity",
        "relation",
        "yes_no",
        "house_part",
        "water_source",
        "latrine_type",
        "device",
    ),
    entities={
        "list_name": "households",
        "label": "concat(${head_name}, ' (', ${head_birth_year}, ')')",
    },
    instance_name="concat('Đăng ký: ', ${head_name}, ' (', ${head_birth_year}, ')')",
    settings={"version": REGISTRATION_VERSION},
)

VISIT = FormSpec(
    form_id="giupho_household_visit",
    title="Thăm hộ gia đình (Household visit)",
    filename="household_visit.xlsx",
    survey=[*METADATA, *AUDIT, *HOUSEHOLD_CHOICE, *ASSESSMENT, *FOLLOW_UP],
    choice_lists=(
        "area",
        "yes_no",
        "house_part",
        "water_source",
        "latrine_type",
        "device",
        "poverty_cause",
        "support_kind",
        "support_source",
        "unit",
    ),
    entities={"list_name": "households", "entity_id": "${household}"},
    instance_name="concat('Thăm hộ: ', "
    "instance('households')/root/item[name = ${household}]/label, ' ', ${today})",
    settings={"version": VISIT_VERSION},
)

FORMS = (REGISTRATION, VISIT)


def survey_sheet(spec: FormSpec) -> list[list[str | None]]:
    """Header plus one row per survey row; required rows get the bilingual required message."""
    rows: list[list[str | None]] = [list(COLUMNS.values())]
    for row in spec.survey:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"{spec.form_id}: unknown keys {sorted(unknown)} in row {row}")
        if row.get("required") == "yes":
            row = {"required_vi": REQUIRED_VI, "required_en": REQUIRED_EN, **row}
        rows.append([row.get(key) or None for key in COLUMNS])
    return rows


def choices_sheet(spec: FormSpec) -> list[list[str | None]]:
    # The support kinds' extra columns only where the list is (the registration form's
    # sheet stays as it was, so its version need not change).
    columns = CHOICE_COLUMNS[4:]
    if "support_kind" in spec.choice_lists:
        columns = [*columns, *SUPPORT_KIND_COLUMNS]
    rows: list[list[str | None]] = [[*CHOICE_COLUMNS[:4], *columns]]
    extra = {**place_choices(), "support_kind": support_kind_choices()}
    for list_name in spec.choice_lists:
        if list_name in extra:
            rows.extend(
                [list_name, name, vi, en, *(given.get(c) for c in columns)]
                for name, vi, en, given in extra[list_name]
            )
        else:
            rows.extend(
                [list_name, name, vi, en, *([None] * len(columns))]
                for name, vi, en in CHOICES[list_name]
            )
    return rows


def settings_sheet(spec: FormSpec) -> list[list[str | None]]:
    settings = {
        "form_title": spec.title,
        "form_id": spec.form_id,
        "version": spec.settings["version"],
        "default_language": VI,
        "instance_name": spec.instance_name,
        **spec.settings,
    }
    return [list(settings), list(settings.values())]


def entities_sheet(spec: FormSpec) -> list[list[str | None]]:
    return [list(spec.entities), list(spec.entities.values())]


def sheets(spec: FormSpec) -> dict[str, list[list[str | None]]]:
    """Every sheet of the form as a table of cell values (what the .xlsx must contain)."""
    return {
        "survey": survey_sheet(spec),
        "choices": choices_sheet(spec),
        "settings": settings_sheet(spec),
        "entities": entities_sheet(spec),
    }


def write(spec: FormSpec, path: Path) -> Path:
    """Write the form's .xlsx to `path`."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets(spec).items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    out_dir = Path(argv[0]) if argv else HERE
    for spec in FORMS:
        print(write(spec, out_dir / spec.filename))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
