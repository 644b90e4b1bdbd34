"""A submission's answers laid out for reading: the form's labels in the chosen language,
groups and repeats in form order, choice labels instead of codes, files, GPS, and the
validation issues next to the answer they are about.

Pure: it reads a `FormModel` and the stored JSON answers (`forms.instance.to_answers`
shape) and touches no database.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from forms.library import SHIPPED_FORMS
from forms.load import load_form
from forms.model import Field, FormModel
from forms.poverty import load_standards
from forms.poverty.standards import Label
from server.i18n import N_
from server.web.i18n import _, format_money, language

#: A date answer (YYYY-MM-DD), shown as officials write it (dd/mm/yyyy).
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# Questions whose answer a reviewer may correct
# (mirrors `server.services.review.decisions.CORRECTABLE`).
TEXT_TYPES = frozenset(
    {"string", "int", "decimal", "date", "time", "dateTime", "select_one", "select_multiple",
     "geopoint", "barcode", "boolean"}
)  # fmt: skip


@dataclass
class Row:
    """One line of the answers: a group or repeat heading, or a question and its answer."""

    kind: str  # group | item | question
    depth: int
    label: str
    path: str = ""  # indexed path (`/data/member[2]/member_name`), as issues name it
    value: str = ""  # as stored
    shown: str = ""  # for reading: choice labels, formatted location
    datatype: str = ""
    issues: list[dict] = field(default_factory=list)
    file: str | None = None
    geo: tuple[float, float, float | None] | None = None
    correctable: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)


def layout(model: FormModel, answers: dict, issues: list[dict], lang: str) -> list[Row]:
    """The rows of `answers` in form order; issues attached to the row of their path."""
    by_path: dict[str, list[dict]] = {}
    for issue in issues or []:
        by_path.setdefault(issue.get("path", ""), []).append(issue)
    rows: list[Row] = []
    key = language_key(model, lang)
    _walk(model.root, answers or {}, f"/{model.root_name}", 0, rows, by_path, key)
    return rows


def language_key(model: FormModel, lang: str) -> str:
    """The form's name for language `lang` ("vi" -> "Tiếng Việt (vi)", as XLSForm writes it)."""
    for key in model.languages:
        if key == lang or key.endswith(f"({lang})"):
            return key
    return model.default_language or lang


def _label(f: Field, lang: str) -> str:
    return f.label.get(lang) or f.name


def _walk(parent: Field, obj, path: str, depth: int, rows, by_path, lang) -> None:
    obj = obj if isinstance(obj, dict) else {}
    for child in parent.children:
        if child.kind in ("meta", "attribute", "calculate") or child.name == "meta":
            continue
        here = f"{path}/{child.name}"
        if child.kind == "group":
            rows.append(Row("group", depth, _label(child, lang), here))
            _walk(child, obj.get(child.name), here, depth + 1, rows, by_path, lang)
        elif child.kind == "repeat":
            items = obj.get(child.name) or []
            items = items if isinstance(items, list) else [items]
            for n, item in enumerate(items, start=1):
                rows.append(Row("item", depth, f"{_label(child, lang)} #{n}", f"{here}[{n}]"))
                _walk(child, item, f"{here}[{n}]", depth + 1, rows, by_path, lang)
        else:
            row = _question(child, obj.get(child.name), here, depth, lang)
            if row is not None:
                row.issues = by_path.get(here, [])
                rows.append(row)


def _question(f: Field, raw, path: str, depth: int, lang: str) -> Row | None:
    value = raw.get("#text", "") if isinstance(raw, dict) else (raw or "")
    if not isinstance(value, str):
        value = str(value)
    if not value and f.readonly is not None and f.datatype == "string":
        return None  # a note: text for the cadre, no answer
    row = Row("question", depth, _label(f, lang), path, value, value, f.datatype)
    options = _options(f, lang)
    if f.datatype == "select_one":
        row.shown = options.get(value, value)
    elif f.datatype == "select_multiple":
        row.shown = ", ".join(options.get(v, v) for v in value.split())
    elif f.datatype == "binary" and value:
        row.file = value
    elif f.datatype == "geopoint" and value:
        row.geo = _point(value)
    row.correctable = f.datatype in TEXT_TYPES and f.readonly is None
    if f.datatype == "select_one" and options and not (f.choices and f.choices.filtered):
        row.choices = list(options.items())
    return row


def _options(f: Field, lang: str) -> dict[str, str]:
    if f.choices is None:
        return {}
    return {c.name: c.label.get(lang) or c.name for c in f.choices.items}


def _point(value: str) -> tuple[float, float, float | None] | None:
    """`lat lon [altitude [accuracy]]` as (lat, lon, accuracy)."""
    parts = value.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
        accuracy = float(parts[3]) if len(parts) > 3 else None
    except (IndexError, ValueError):
        return None
    return lat, lon, accuracy


def property_labels(model: FormModel, lang: str) -> dict[str, str]:
    """The label of each household property the form saves (`save_to`), by property name.

    A calculated property has no label in the form: a deprivation indicator is named as
    the poverty standard names it, the classification properties by the site's words;
    any other is shown by its name.
    """
    key = language_key(model, lang)
    calculated = {
        "deprivation_count": _("Number of deprivations"),
        "poverty_status": _("Poverty classification"),
        "poverty_standard": _("Poverty standard"),
        "ethnic_minority": _("Ethnic minority household"),
        "assessment_date": _("Assessment date"),
    }
    found = {}
    for f in model.root.walk():
        if f.saveto and f.saveto not in found:
            label = f.label.get(key)
            if label:
                found[f.saveto] = label
            elif f.saveto in _indicator_names():
                found[f.saveto] = getattr(_indicator_names()[f.saveto], lang, f.saveto)
            elif f.saveto in calculated:
                found[f.saveto] = calculated[f.saveto]
    return found


@functools.cache
def _indicator_names() -> dict[str, Label]:
    """Deprivation indicator id -> its name in vi/en, from every poverty standard."""
    return {i.id: i.name for s in load_standards().standards for i in s.indicators}


def choice_label(model: FormModel, path: str, value: str, lang: str) -> str:
    """The label of choice `value` of the question at `path` (the value when unknown)."""
    f = model.field(path)
    if f is None or not value:
        return value or ""
    options = _options(f, language_key(model, lang))
    return ", ".join(options.get(v, v) for v in value.split())


def property_choices(model: FormModel, lang: str) -> dict[str, dict[str, str]]:
    """For each household property saved from a choice question, its choices' labels; and
    the choice questions about members (`member_relation`, ...), which the household page's
    members table reads from the registration, by their names."""
    key = language_key(model, lang)
    found: dict[str, dict[str, str]] = {}
    for f in model.root.walk():
        name = f.saveto or (f.name if f.name.startswith("member_") else None)
        if name and f.choices is not None and name not in found:
            found[name] = _options(f, key)
    return found


@functools.cache
def _shipped_models() -> tuple[FormModel, ...]:
    """The shipped forms (registration, visit), read once: their labels name every property
    the programme's households carry, whichever form a household was written with."""
    return tuple(load_form(path) for path in SHIPPED_FORMS.values())


def household_words(model: FormModel | None, lang: str) -> tuple[dict, dict]:
    """(labels, choices) of a household's properties: the labels form's first, then the
    shipped forms' for what it does not name (a visit saves `exit_claimed`, a registration
    `member_relation`)."""
    labels: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}
    for m in ([model] if model else []) + list(_shipped_models()):
        for name, label in property_labels(m, lang).items():
            labels.setdefault(name, label)
        for name, options in property_choices(m, lang).items():
            choices.setdefault(name, options)
    return labels, choices


#: The household page's sections of the current record, in order, by property name; what
#: no section names is shown last, under "Other answers".
RECORD_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Head and household"), ("head_name", "head_sex", "head_birth_year", "head_cccd",
                                "ethnicity", "ethnicity_other", "ethnic_minority", "hh_size",
                                "phone", "household_code")),
    (N_("Place"), ("province", "commune", "village", "area", "address", "geometry")),
    (N_("Income and status"), ("income_per_person", "poverty_status", "poverty_standard",
                               "deprivation_count", "assessment_date")),
    (N_("Visits and exit"), ("last_visit_date", "exit_claimed")),
)  # fmt: skip
_MONEY = {"income_per_person", "support_total", "support_value", "value_vnd"}


def record_sections(properties: dict, labels: dict, choices: dict) -> list[tuple[str, list]]:
    """The household's current record for the page: sections of (name, label, value in
    words); living conditions (the deprivation indicators) are left to the checklist."""
    indicators = set(_indicator_names())
    filled = {k: v for k, v in (properties or {}).items() if v not in (None, "")}
    placed: set[str] = set(indicators)
    sections = []
    for title, names in RECORD_SECTIONS:
        rows = [(n, labels.get(n, n), property_words(n, filled[n], choices)) for n in names
                if n in filled]  # fmt: skip
        placed |= set(names)
        if rows:
            sections.append((_(title), rows))
    rest = sorted((labels.get(n, n), n) for n in filled if n not in placed)
    if rest:
        rows = [(n, label, property_words(n, filled[n], choices)) for label, n in rest]
        sections.append((_("Other answers"), rows))
    return sections


def property_words(name: str, value, choices: dict) -> str:
    """A household property's value in words: choices by their labels, yes/no, a
    deprivation indicator as deprived or not, money as 2.500.000 đ, dates as dd/mm/yyyy,
    the poverty status and standard by their titles."""
    text = str(value).strip()
    lang = language()
    standards = load_standards()
    if name in _MONEY:
        return format_money(text)
    if name in _indicator_names() and text in ("0", "1"):
        return _("Deprived") if text == "1" else _("Not deprived")
    if name == "poverty_status" and text in standards.statuses:
        return standards.statuses[text].get(lang)
    if name == "poverty_standard":
        found = next((s for s in standards.standards if s.id == text), None)
        return found.title.get(lang) if found else text
    options = choices.get(name, {})
    if options:
        return ", ".join(options.get(v, v) for v in text.split())
    if text in ("yes", "no"):
        return _("Yes") if text == "yes" else _("No")
    if DAY.fullmatch(text):
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text
