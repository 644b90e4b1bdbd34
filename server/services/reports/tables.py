"""The one shape of a table the reports show and the exports write.

A report is a list of `Table`s; the site renders them, the API returns them as JSON, and
the exports write each as a CSV file or an XLSX sheet, so a figure reads the same wherever
it is seen. A cell may carry a link to the records behind it (`Cell.href`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

#: How a column's values are written: text, a whole count, money in VND, a quantity
#: (decimal), a share (0..1, shown as a percentage), a date.
ColumnKind = Literal["text", "count", "vnd", "quantity", "share", "date"]


@dataclass(frozen=True)
class Column:
    key: str
    label_vi: str
    label_en: str
    kind: ColumnKind = "text"

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class Cell:
    """A value with the link to the records behind it."""

    value: Any
    href: str | None = None


@dataclass
class Table:
    """`rows` hold plain values or `Cell`s, one per column, in column order."""

    key: str
    title_vi: str
    title_en: str
    columns: list[Column]
    rows: Iterable[list[Any]] = field(default_factory=list)

    def title(self, lang: str = "vi") -> str:
        return self.title_vi if lang == "vi" else self.title_en

    def values(self) -> Iterator[list[Any]]:
        """The rows as plain values (links dropped), for files."""
        for row in self.rows:
            yield [c.value if isinstance(c, Cell) else c for c in row]

    def as_dict(self, lang: str = "vi") -> dict[str, Any]:
        """The JSON shape of `/api/v1/reports`: columns, then rows of {value, href}."""
        return {
            "key": self.key,
            "title": self.title(lang),
            "columns": [
                {"key": c.key, "label": c.label(lang), "kind": c.kind} for c in self.columns
            ],
            "rows": [
                [
                    {"value": c.value, "href": c.href} if isinstance(c, Cell) else {"value": c}
                    for c in row
                ]
                for row in self.rows
            ],
        }
