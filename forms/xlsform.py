"""XLSForm in, XForm out: the one module that talks to pyxform.

pyxform is the reference XLSForm converter, so we call it rather than parse
spreadsheets ourselves. Two things it does not give through its public API:
where each question sits in the spreadsheet (needed to report an expression
problem found later in the XForm at the author's sheet, row and column), and a
structured location for its own errors. Both come from pyxform's private
reader (`get_xlsform`, `process_header`), which is why every private import is
kept here and pinned by the `pyxform>=4.5,<5` range in pyproject.toml.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, fields
from io import BytesIO
from pathlib import PurePath
from types import SimpleNamespace
from typing import TYPE_CHECKING

from forms.errors import FormError, FormProblem, form_problem

if TYPE_CHECKING:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import DefinitionData

XLSFORM_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv", ".md")

_ROW_RE = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET_RE = re.compile(r"On the '([^']+)' sheet")
_COLUMN_RE = re.compile(r"the '([^']+)' value\b")
_QUOTED_RE = re.compile(r"'([^']+)'")
#: pyxform's sheet names (`pyxform.constants`), which `SourceMap` cells carry.
SURVEY, ENTITIES, SETTINGS = "survey", "entities", "settings"


@functools.cache
def _pyxform() -> SimpleNamespace:
    """pyxform's parts, imported on first use rather than with this module: with openpyxl,
    numpy, lark and xlrd it is 25 MiB that a server process holds only once it converts
    an XLSForm (an upload), not for reading XForms (issue 19: worker memory)."""
    from pyxform import aliases, constants
    from pyxform.errors import PyXFormError
    from pyxform.parsing.sheet_headers import process_header
    from pyxform.question import MultipleChoiceQuestion, Option
    from pyxform.xls2json_backends import DefinitionData, get_xlsform
    from pyxform.xls2xform import convert

    return SimpleNamespace(
        aliases=aliases,
        constants=constants,
        PyXFormError=PyXFormError,
        process_header=process_header,
        Option=Option,
        DefinitionData=DefinitionData,
        get_xlsform=get_xlsform,
        convert=convert,
        survey_columns=set(MultipleChoiceQuestion.get_slot_names()),
        entity_columns={c.value for c in constants.EntityColumns},
    )


@dataclass(frozen=True, slots=True)
class Cell:
    """A place in the spreadsheet: sheet, 1-based row as pyxform counts it, column header."""

    sheet: str
    row: int | None = None
    column: str | None = None


@dataclass(slots=True)
class SourceMap:
    """Where fields, choices, entity and settings columns are in the XLSForm.

    Field paths are kept relative to the form root ("grp/q") because the root
    name is chosen later by pyxform; bare names are kept too, when unique, for
    rows pyxform expands (loops). Column maps go from the XForm attribute name
    (relevant, calculate, jr:count, choice_filter...) to the header the author
    wrote (relevance, calculation, repeat_count...).
    """

    rows: dict[str, int] = field(default_factory=dict)
    names: dict[str, int | None] = field(default_factory=dict)
    types: list[tuple[int, str, str]] = field(default_factory=list)
    survey_columns: dict[str, str] = field(default_factory=dict)
    choice_rows: dict[str, list[int]] = field(default_factory=dict)
    entity_rows: dict[str, int] = field(default_factory=dict)
    entity_columns: dict[str, str] = field(default_factory=dict)
    settings_columns: dict[str, str] = field(default_factory=dict)
    cells: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)

    def field_cell(self, path: str, attribute: str | None = None) -> Cell | None:
        """The survey cell of `attribute` for the field at absolute `path` (/data/grp/q)."""
        relative = path.strip("/").partition("/")[2]
        row = self.rows.get(relative)
        if row is None:
            row = self.names.get(relative.rpartition("/")[2])
        if row is None:
            return None
        return Cell(SURVEY, row, self.survey_columns.get(attribute or "", attribute))

    def entity_cell(self, dataset: str, attribute: str | None = None) -> Cell | None:
        row = self.entity_rows.get(dataset)
        if row is None:
            return None
        return Cell(ENTITIES, row, self.entity_columns.get(attribute or "", attribute))

    def settings_cell(self, attribute: str) -> Cell:
        return Cell(SETTINGS, 2, self.settings_columns.get(attribute, attribute))

    def cell_text(self, sheet: str, row: int, key: str) -> str | None:
        """What the author typed in the `key` column (canonical name) of `sheet` at `row`."""
        return self.cells.get((sheet, row), {}).get(key)

    def find_row(self, value: str) -> int | None:
        """The first survey row whose type or name is `value` (for pyxform errors without row)."""
        for row, type_, name in self.types:
            if value in (type_, name):
                return row
        return None


@dataclass(slots=True)
class XLSFormResult:
    """pyxform's output: the XForm bytes, its warnings, the source map and external itemsets."""

    xform: bytes
    warnings: list[str]
    source_map: SourceMap
    itemsets: str | None = None


def convert_xlsform(
    source: bytes | str | PurePath,
    filename: str | None = None,
    *,
    default_language: str | None = None,
) -> XLSFormResult:
    """Convert an XLSForm (a path, or bytes/text with `filename` naming the type) to an XForm.

    Raises `FormError` with pyxform's message and the sheet and row it names.
    """
    px = _pyxform()
    data, name = _read_source(source, filename)
    suffix = PurePath(name).suffix.lower() if name else ""
    file_type = suffix if suffix in XLSFORM_EXTENSIONS else None
    try:
        workbook = px.get_xlsform(xlsform=BytesIO(data), file_type=file_type)
    except px.PyXFormError as err:
        raise FormError([form_problem("xlsform.unreadable", detail=str(err))]) from err
    source_map = build_source_map(workbook)
    # A plain dict lets pyxform rebuild its reader result; we add the file stem that
    # pyxform would have taken from a path, so the form id defaults the same way.
    as_dict = {f.name: getattr(workbook, f.name) for f in fields(px.DefinitionData)}
    as_dict["fallback_form_name"] = PurePath(name).stem if name else None
    warnings: list[str] = []
    try:
        result = px.convert(
            xlsform=as_dict, warnings=warnings, validate=False, default_language=default_language
        )
    except px.PyXFormError as err:
        raise FormError([pyxform_problem(err, source_map)]) from err
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        # pyxform sometimes fails on malformed sheets with a plain Python error; the
        # author still deserves a refusal rather than a server error.
        detail = f"{type(err).__name__}: {err}"
        raise FormError([form_problem("xlsform.invalid", detail=detail)]) from err
    return XLSFormResult(result.xform.encode("utf-8"), warnings, source_map, result.itemsets)


def _read_source(source: bytes | str | PurePath, filename: str | None) -> tuple[bytes, str | None]:
    if isinstance(source, bytes):
        return source, filename
    if isinstance(source, str) and "\n" in source:  # form text, not a path
        return source.encode("utf-8"), filename
    path = PurePath(source)
    with open(path, "rb") as fh:
        return fh.read(), filename or path.name


def build_source_map(workbook: DefinitionData) -> SourceMap:
    """Index the survey, choices, entities and settings sheets by name and row."""
    px = _pyxform()
    aliases, constants = px.aliases, px.constants
    smap = SourceMap()
    survey_keys = _header_keys(workbook.survey_header, aliases.survey_header, px.survey_columns)
    smap.survey_columns = _first_header_per_key(survey_keys)
    _index_survey(smap, workbook.survey or [], survey_keys)
    _keep_cells(smap, SURVEY, workbook.survey, survey_keys)
    choice_keys = _header_keys(
        workbook.choices_header, aliases.list_header, set(px.Option.get_slot_names())
    )
    for row_number, row in enumerate(workbook.choices or [], start=2):
        list_name = _value(row, choice_keys, constants.LIST_NAME_S, constants.LIST_NAME_U)
        if list_name:
            smap.choice_rows.setdefault(list_name, []).append(row_number)
    entity_keys = _header_keys(workbook.entities_header, aliases.entities_header, px.entity_columns)
    smap.entity_columns = _first_header_per_key(entity_keys)
    for row_number, row in enumerate(workbook.entities or [], start=2):
        dataset = _value(row, entity_keys, constants.EntityColumns.DATASET.value)
        if dataset:
            smap.entity_rows.setdefault(dataset, row_number)
    _keep_cells(smap, ENTITIES, workbook.entities, entity_keys)
    settings_keys = _header_keys(workbook.settings_header, aliases.settings_header, set())
    smap.settings_columns = _first_header_per_key(settings_keys)
    _keep_cells(smap, SETTINGS, workbook.settings, settings_keys)
    return smap


def _keep_cells(smap: SourceMap, sheet: str, rows, keys: dict[str, str]) -> None:
    """Cell texts by canonical key, so an error can quote what the author typed."""
    for row_number, row in enumerate(rows or [], start=2):
        cells = smap.cells.setdefault((sheet, row_number), {})
        for header, value in row.items():
            if isinstance(value, str):
                cells.setdefault(keys.get(header, header), value)
        if "choice_filter" in cells:
            cells.setdefault("itemset", cells["choice_filter"])


def _header_keys(header_rows, header_aliases, columns) -> dict[str, str]:
    """Map each header as written to its canonical key, the way pyxform de-aliases it.

    `("bind", "relevant")` and `("control", "jr:count")` become "relevant" and
    "jr:count" (the XForm attribute); `("label", "English (en)")` becomes "label".
    """
    if not header_rows:
        return {}
    headers = [h for h in header_rows[0] if isinstance(h, str)]
    double_colon = any("::" in h for h in headers)
    keys = {}
    for header in headers:
        _, tokens = _pyxform().process_header(header, double_colon, header_aliases, columns)
        nested = tokens[0] in ("bind", "control") and len(tokens) > 1
        keys[header] = tokens[1] if nested else tokens[0]
    return keys


def _first_header_per_key(keys: dict[str, str]) -> dict[str, str]:
    first: dict[str, str] = {}
    for header, key in keys.items():
        first.setdefault(key, header)
    # The itemset of a select is where a choice_filter ends up in the XForm.
    if "choice_filter" in first:
        first.setdefault("itemset", first["choice_filter"])
    return first


def _value(row: dict, keys: dict[str, str], *wanted: str) -> str:
    for header, value in row.items():
        if keys.get(header, header) in wanted and value is not None:
            return str(value).strip()
    return ""


_BEGIN = ("begin group", "begin repeat", "begin loop")
_END = ("end group", "end repeat", "end loop")


def _index_survey(smap: SourceMap, rows, keys: dict[str, str]) -> None:
    """Record each named row under its path, following begin/end group and repeat."""
    constants = _pyxform().constants
    stack: list[str] = []
    for row_number, row in enumerate(rows, start=2):
        raw_type = _value(row, keys, constants.TYPE)
        name = _value(row, keys, constants.NAME)
        kind = " ".join(raw_type.replace("_", " ").split()).lower()
        smap.types.append((row_number, raw_type, name))
        if kind.startswith(_END):
            if stack:
                stack.pop()
            continue
        if name:
            path = "/".join([*stack, name])
            smap.rows.setdefault(path, row_number)
            smap.names[name] = None if name in smap.names else row_number
        if kind.startswith(_BEGIN):
            stack.append(name)


def pyxform_problem(err: PyXFormError, source_map: SourceMap | None = None) -> FormProblem:
    """pyxform's error as a FormProblem carrying its message, sheet, row and column."""
    message = str(err)
    context = getattr(err, "context", None) or {}
    row = context.get("row")
    if row is None and (match := _ROW_RE.search(message)):
        row = int(match.group(1))
    sheet = context.get("sheet")
    if sheet is None and (match := _SHEET_RE.search(message)):
        sheet = match.group(1)
    column = context.get("column")
    if column is None and (match := _COLUMN_RE.search(message)):
        column = match.group(1)
    if row is None and source_map is not None:
        # Some pyxform messages quote the offending type or name but give no row
        # ("Unknown question type 'txet'."): find the row ourselves.
        for quoted in _QUOTED_RE.findall(message):
            row = source_map.find_row(quoted)
            if row is not None:
                sheet = sheet or SURVEY
                break
    if row is not None and sheet is None:
        sheet = SURVEY
    return form_problem(
        "xlsform.invalid", sheet=sheet, row=int(row) if row else None, column=column, detail=message
    )
