"""A form's submissions as tables, the shape of ODK Central's `submissions.csv.zip`.

The main table has one row per submission: `SubmissionDate`, the form's fields in form order
(a field inside groups is named by its group path joined with "-", as `grp-question`; a
geopoint becomes its `-Latitude`, `-Longitude`, `-Altitude` and `-Accuracy` columns), then
`KEY` (the instance id) and the submission's metadata (`SubmitterID`, `SubmitterName`,
`AttachmentsPresent`, `AttachmentsExpected`, `Status`, `ReviewState`, `DeviceID`, `Edits`,
`FormVersion`). Each repeat has its own table, `<form_id>-<repeat name>` (a second repeat of
the same name: `~2`), with its fields, then `PARENT_KEY` and `KEY`, where a key reads like
ODK's `uuid:.../group/repeat[1]`, so a repeat row joins its parent row, at any depth.

Choices are written as their codes, or (`labels="vi"`/`"en"`) as their labels; the labels of
a multiple choice are joined with "; " since labels hold spaces.

Pure: reads a `FormModel` and a submission's JSON answers (`forms.answers`), no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.answers import TEXT_KEY
from forms.model import Field, FormModel
from server.services.reports.tables import Column

#: Metadata columns after a main-table row's fields, as ODK Central writes them.
META_COLUMNS = (
    Column("KEY", "KEY", "KEY"),
    Column("SubmitterID", "SubmitterID", "SubmitterID", "count"),
    Column("SubmitterName", "SubmitterName", "SubmitterName"),
    Column("AttachmentsPresent", "AttachmentsPresent", "AttachmentsPresent", "count"),
    Column("AttachmentsExpected", "AttachmentsExpected", "AttachmentsExpected", "count"),
    Column("Status", "Status", "Status"),
    Column("ReviewState", "ReviewState", "ReviewState"),
    Column("DeviceID", "DeviceID", "DeviceID"),
    Column("Edits", "Edits", "Edits", "count"),
    Column("FormVersion", "FormVersion", "FormVersion"),
)
SUBMISSION_DATE = Column("SubmissionDate", "SubmissionDate", "SubmissionDate", "date")
_GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
#: Form datatypes written as numbers and dates in XLSX (CSV keeps the text as sent).
_KINDS = {"int": "count", "decimal": "quantity", "date": "date"}
#: The languages a person asks labels in, and how forms name them.
_LANGUAGE_NAMES = {"vi": ("vi", "vietnamese", "tiếng việt"), "en": ("en", "english")}


@dataclass
class Leaf:
    """A field whose value goes in a table: `names` lead from the table's object to it."""

    field: Field
    names: tuple[str, ...]
    to_text: Callable[[str], str] | None = None  # codes to labels, when asked
    masked: bool = False


@dataclass
class TableLayout:
    """One table: the main one (`repeat` None) or a repeat's."""

    key: str
    repeat: Field | None
    names: tuple[str, ...] = ()  # from the parent table's object to the repeat's list
    leaves: list[Leaf] = field(default_factory=list)
    # The repeats' tables. Not `children`: a layout is no `forms.tree.Node` (no name index).
    repeats: list[TableLayout] = field(default_factory=list)

    def columns(self) -> list[Column]:
        out = [SUBMISSION_DATE] if self.repeat is None else []
        for leaf in self.leaves:
            name = "-".join(leaf.names)
            kind = _KINDS.get(leaf.field.datatype, "text")
            if leaf.field.datatype == "geopoint":
                out += [Column(f"{name}-{p}", f"{name}-{p}", f"{name}-{p}", "quantity")
                        for p in _GEO_PARTS]  # fmt: skip
            else:
                out.append(Column(name, name, name, kind))
        if self.repeat is None:
            return out + list(META_COLUMNS)
        return out + [Column(k, k, k) for k in ("PARENT_KEY", "KEY")]

    def walk(self) -> Iterator[TableLayout]:
        yield self
        for child in self.repeats:
            yield from child.walk()


def layout(
    form: FormModel, labels: str | None = None, masked: Callable[[Field], bool] | None = None
) -> TableLayout:
    """The tables of `form`'s submissions (the main table, its repeats below it)."""
    language = _form_language(form, labels) if labels else None
    root = TableLayout(form.form_id, None)
    taken: dict[str, int] = {}
    _fill(root, form.root, (), form, language, masked, taken)
    return root


def _fill(table, node: Field, names, form, language, masked, taken) -> None:
    for child in node.children:
        if child.kind == "attribute":
            continue
        here = (*names, child.name)
        if child.kind == "repeat":
            taken[child.name] = taken.get(child.name, 0) + 1
            suffix = f"~{taken[child.name]}" if taken[child.name] > 1 else ""
            sub = TableLayout(f"{form.form_id}-{child.name}{suffix}", child, here)
            table.repeats.append(sub)
            _fill(sub, child, (), form, language, masked, taken)
        elif child.children:
            _fill(table, child, here, form, language, masked, taken)
        elif child.kind != "group":
            leaf = Leaf(child, here, masked=bool(masked and masked(child)))
            if language is not None and child.choices is not None and child.choices.items:
                leaf.to_text = _labeller(child, language)
            table.leaves.append(leaf)


def _form_language(form: FormModel, lang: str) -> str | None:
    """The form's name for language `lang` (forms say "vi", "Vietnamese (vi)"...), else None
    (labels in the form's only or default language)."""
    wanted = _LANGUAGE_NAMES.get(lang, (lang,))
    for name in form.languages:
        low = name.lower()
        if any(low == w or f"({w})" in low or low.startswith(w) for w in wanted):
            return name
    return form.default_language or ""


def _labeller(f: Field, language: str) -> Callable[[str], str]:
    labels = {c.name: c.label.get(language, "") or c.name for c in f.choices.items}
    if f.datatype == "select_multiple":
        return lambda value: "; ".join(labels.get(v, v) for v in value.split())
    return lambda value: labels.get(value, value)


def mask(value: str) -> str:
    """A personal number with all but its last three characters hidden."""
    return "*" * max(len(value) - 3, 0) + value[-3:] if value else value


def _leaf_value(obj: Any, names: tuple[str, ...]) -> Any:
    # Answers are plain dicts and lists (orjson): exact type checks, not the ABCs, since this
    # runs for every field of every row.
    for name in names:
        if type(obj) is list:  # repeated siblings where the form has one: the first
            obj = obj[0] if obj else None
        if type(obj) is not dict:
            return None
        obj = obj.get(name)
    if type(obj) is list:
        obj = obj[0] if obj else None
    if type(obj) is dict:
        return obj.get(TEXT_KEY)
    return obj


def _values(table: TableLayout, obj: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for leaf in table.leaves:
        value = _leaf_value(obj, leaf.names)
        if leaf.field.datatype == "geopoint":
            parts = value.split() if isinstance(value, str) else []
            out += (parts + [None] * 4)[:4]
            continue
        if value and leaf.to_text is not None:
            value = leaf.to_text(value)
        elif value and leaf.masked:
            value = mask(value)
        out.append(value)
    return out


def _instances(obj: Any, names: tuple[str, ...]) -> list[Any]:
    for name in names[:-1]:
        obj = obj.get(name) if type(obj) is dict else None
        if type(obj) is list:
            obj = obj[0] if obj else None
    found = obj.get(names[-1]) if type(obj) is dict else None
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def rows(
    table: TableLayout, answers: Mapping[str, Any], key: str, meta: list[Any]
) -> Iterator[tuple[TableLayout, list[Any]]]:
    """The rows one submission gives: (table, values) for the main table, then its repeats'.

    `meta` holds the main row's values before and after the fields: [SubmissionDate, KEY,
    SubmitterID, ...] in the order of `SUBMISSION_DATE` and `META_COLUMNS`.
    """
    yield table, [meta[0], *_values(table, answers), *meta[1:]]
    yield from _repeat_rows(table, answers, key)


def _repeat_rows(table: TableLayout, obj: Mapping[str, Any], parent_key: str):
    for child in table.repeats:
        path = "/".join(child.names)
        for i, instance in enumerate(_instances(obj, child.names), start=1):
            if type(instance) is not dict:
                continue
            key = f"{parent_key}/{path}[{i}]"
            yield child, [*_values(child, instance), parent_key, key]
            yield from _repeat_rows(child, instance, key)
