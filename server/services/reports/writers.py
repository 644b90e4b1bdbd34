"""Files out: CSV (one file, or a zip of several) and XLSX, written row by row in constant memory.

Every export (submissions, households, the ledger, report tables) is a set of tables, each
filled from an iterator of rows, and written through a `Sink`: `table()` opens a table with
its columns (`server.services.reports.tables.Column`) and `append()` adds one row. Tables may
be filled side by side (a submission's row goes to the main table, its repeats to theirs),
so each table is written to its own file on disk as it comes; nothing is held in memory.

* CSV is UTF-8 with a byte-order mark, so Excel opens Vietnamese intact; values are written
  as they are (numbers without separators, dates in ISO), so the file reads back exactly.
  Several tables become a zip of CSV files, the shape of ODK Central's `submissions.csv.zip`.
* XLSX is written with openpyxl's write-only mode (rows go to a temporary file per sheet, not
  a tree in memory), one sheet per table, with proper cell types: counts and quantities as
  numbers, VND with a `#,##0` format, shares as percentages, dates as dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from server.services.reports.tables import Column

#: Excel's number formats by column kind (Vietnamese readers: day before month).
NUMBER_FORMATS = {
    "vnd": "#,##0",
    "quantity": "#,##0.###",
    "share": "0.0%",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm:ss",
}
#: Characters Excel refuses in a sheet's title, and its longest title.
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31


def csv_text(value: Any) -> str:
    """A value as a CSV field: numbers as written by Python (a whole float without ".0"),
    dates and times in ISO 8601, nothing as an empty field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Sink:
    """Where an export's tables go. `close()` finishes the file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0  # data rows written, every table together

    def table(self, key: str, title: str, columns: list[Column]) -> Callable[[list[Any]], None]:
        """Open a table; returns the function that appends one row (values in column order)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        """Drop what was written (the export failed)."""
        self.path.unlink(missing_ok=True)


class CsvSink(Sink):
    """One CSV file, or (`zipped`) a zip holding one `<key>.csv` per table."""

    def __init__(self, path: Path, zipped: bool) -> None:
        super().__init__(path)
        self.zipped = zipped
        self._dir = Path(tempfile.mkdtemp(prefix="giupho-export-", dir=path.parent))
        self._files: list[tuple[str, Any]] = []

    def table(self, key: str, title: str, columns: list[Column]) -> Callable[[list[Any]], None]:
        if self._files and not self.zipped:
            raise ValueError("a single CSV file holds one table")
        name = _unique(f"{key}.csv", {n for n, _f in self._files})
        # "utf-8-sig" writes the byte-order mark Excel needs to read UTF-8.
        handle = open(self._dir / name, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self._files.append((name, handle))
        writer = csv.writer(handle)
        writer.writerow([c.key for c in columns])
        write = writer.writerow

        def append(values: list[Any]) -> None:
            write([v if v.__class__ is str else csv_text(v) for v in values])
            self.rows += 1

        return append

    def close(self) -> None:
        for _name, handle in self._files:
            handle.close()
        try:
            if self.zipped:
                with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                    for name, _handle in self._files:
                        zf.write(self._dir / name, arcname=name)
            elif self._files:
                shutil.move(self._dir / self._files[0][0], self.path)
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def discard(self) -> None:
        for _name, handle in self._files:
            handle.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        super().discard()


class XlsxSink(Sink):
    """An XLSX workbook, one sheet per table (openpyxl write-only: constant memory)."""

    def __init__(self, path: Path, lang: str = "vi", zone: str | None = None) -> None:
        super().__init__(path)
        self.lang = lang
        self.zone = ZoneInfo(zone) if zone else dt.UTC
        from openpyxl import Workbook  # imported on first use: see `_clean`

        self.book = Workbook(write_only=True)
        self._titles: set[str] = set()

    def table(self, key: str, title: str, columns: list[Column]) -> Callable[[list[Any]], None]:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        sheet = self.book.create_sheet(self._title(title or key))
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=_clean(column.label(self.lang)))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        convert = [self._converter(sheet, c.kind) for c in columns]
        append_row = sheet.append

        def append(values: list[Any]) -> None:
            append_row([f(v) for f, v in zip(convert, values, strict=True)])
            self.rows += 1

        return append

    def close(self) -> None:
        if not self.book.worksheets:
            self.book.create_sheet("-")
        self.book.save(self.path)

    def _title(self, title: str) -> str:
        base = _SHEET_TITLE_BAD.sub("-", _clean(title)).strip("'") or "-"
        name, n = base[:_SHEET_TITLE_MAX], 1
        while name.lower() in self._titles:
            n += 1
            suffix = f"~{n}"
            name = base[: _SHEET_TITLE_MAX - len(suffix)] + suffix
        self._titles.add(name.lower())
        return name

    def _converter(self, sheet, kind: str) -> Callable[[Any], Any]:
        """The function turning a value of a `kind` column into what the sheet stores."""
        from openpyxl.cell import WriteOnlyCell

        zone = self.zone

        def formatted(value: Any, fmt: str) -> WriteOnlyCell:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = fmt
            return cell

        def text(value: Any) -> Any:
            if value is None or value == "":
                return None
            if isinstance(value, dt.datetime):
                local = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
                return formatted(local, NUMBER_FORMATS["datetime"])
            if isinstance(value, dt.date):
                return formatted(value, NUMBER_FORMATS["date"])
            if isinstance(value, bool | int | float):
                return value
            value = _clean(str(value))
            if value.startswith("="):  # data, never a formula Excel would run
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                return cell
            return value

        def number(parse: Callable[[str], Any], fmt: str | None) -> Callable[[Any], Any]:
            def convert(value: Any) -> Any:
                if isinstance(value, str):
                    try:
                        value = parse(value.strip())
                    except ValueError:
                        return text(value)  # not a number after all: kept as it was sent
                if not isinstance(value, int | float) or isinstance(value, bool):
                    return text(value)
                return formatted(value, fmt) if fmt else value

            return convert

        def date(value: Any) -> Any:
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value.strip())
                except ValueError:
                    return text(value)
            return text(value)

        if kind == "count":
            return number(int, None)
        if kind == "vnd":
            return number(lambda s: round(float(s)), NUMBER_FORMATS[kind])
        if kind in ("quantity", "share"):
            return number(float, NUMBER_FORMATS[kind])
        if kind == "date":
            return date
        return text


def open_sink(fmt: str, path: Path, *, zipped: bool, lang: str = "vi", zone: str | None = None):
    """The sink writing format `fmt` (csv | xlsx) to `path`."""
    if fmt == "xlsx":
        return XlsxSink(path, lang, zone)
    return CsvSink(path, zipped)


def file_suffix(fmt: str, zipped: bool) -> str:
    """The file name ending of an export: .xlsx, .csv, or .csv.zip."""
    if fmt == "xlsx":
        return ".xlsx"
    return ".csv.zip" if zipped else ".csv"


MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".csv.zip": "application/zip",
}


def _clean(text: str) -> str:
    """`text` without the control characters an XLSX file cannot hold.

    openpyxl is imported by the XLSX sink when it is first used, not with this module:
    it and numpy, which it loads, are 19 MiB that a web worker that never writes a
    workbook does not need to hold (issue 19: worker memory).
    """
    if not _ILLEGAL:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        _ILLEGAL.append(ILLEGAL_CHARACTERS_RE)
    return _ILLEGAL[0].sub("", text)


_ILLEGAL: list[re.Pattern] = []  # openpyxl's pattern, once it is imported


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name` with ~2, ~3... before its extension when already taken (as ODK
    Central names two repeats of one name)."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    n = 2
    while f"{stem}~{n}{dot}{ext}" in taken:
        n += 1
    return f"{stem}~{n}{dot}{ext}"
