"""Spreadsheets in: the one way an XLSX or CSV file a person uploads becomes rows, and the
one shape of the errors sent back about it (a row number and a column the person can find).

Used by every bulk import (users, villages, pairs...): an import first reads and checks every
row, reports each bad row with what to fix, and changes nothing unless the whole file is
good, so a file can be corrected and sent again without creating anything twice.

openpyxl reads XLSX (read-only, values only: formulas give their cached results); CSV is read
with the standard library, as UTF-8 with or without the BOM Excel writes, separated by commas
or semicolons (Excel's choice under a Vietnamese locale).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from server import i18n
from server.i18n import N_, Words
from server.problems import Problem

#: The most data rows one file may hold: an import is one transaction.
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Row:
    """One data row: `number` as the spreadsheet shows it (the header is row 1)."""

    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row (or the whole file when `row` is 0), and in which column.

    `message` is an English message id marked with `N_` and formatted with `params`; `text`
    gives it in the reader's language (row errors are read by the person who fixes the file).
    """

    row: int
    column: str
    message: Words
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "vi") -> str:
        return i18n.gettext(self.message, lang) % self.params

    def as_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.text(lang)}


@dataclass
class ImportReport:
    """What an import did: the records it created or changed, or why it did nothing."""

    created: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number: 3325.0 -> "3325"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return str(value).strip()


def _header(cells: list[Any]) -> list[str]:
    return [_text(c).lower() for c in cells]


def read_rows(data: bytes, filename: str) -> list[Row]:
    """The data rows of an XLSX (first sheet) or CSV file, keyed by the lower-cased header.

    Entirely blank rows are skipped. Problem 400.3 (field "file") when the file cannot be
    read as either, or holds more than MAX_ROWS rows.
    """
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise Problem("400.3", field="file", reason=f"{filename}: send an .xlsx or .csv file")
    if not rows:
        return []
    header, found = _header(rows[0]), []
    for number, cells in enumerate(rows[1:], start=2):
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        found.append(Row(number, {h: v for h, v in zip(header, texts, strict=False) if h}))
        if len(found) > MAX_ROWS:
            raise Problem("400.3", field="file", reason=f"more than {MAX_ROWS} rows")
    return found


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook  # only imports pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise Problem("400.3", field="file", reason=f"not an XLSX workbook ({error})") from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(
            "400.3", field="file", reason="the CSV is not UTF-8: save it as 'CSV UTF-8'"
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def require(row: Row, column: str, errors: list[RowError]) -> str:
    """`row`'s value in `column`, or "" after adding a row error that names the column."""
    value = row.get(column)
    if not value:
        errors.append(RowError(row.number, column, N_("'%(column)s' is empty"), {"column": column}))
    return value
