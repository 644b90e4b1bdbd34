"""The poverty lines as the shipped forms read them on the tablet: `poverty_lines.csv`.

The forms look up the lines of the standard in force on the assessment date
and the household's area with `instance('poverty_lines')` (a CSV attachment
the server generates from the standards it classifies with, the province's
lines included), so Collect, Enketo and Web Forms show the result the
server will store. One row per standard and area (a handful of rows: each
lookup scans them all, which costs nothing). Dates are written as numbers
(`20270101`) because XPath 1.0 compares numbers, not dates; the forms turn
the assessment date into the same number with `format-date`.
"""

from __future__ import annotations

import csv
import io

from forms.poverty.standards import AREAS, INCOME_POOR, StandardSet
from forms.tree import Node

FILENAME = "poverty_lines.csv"
INSTANCE = "poverty_lines"
COLUMNS = (
    "name", "label", "standard", "area", "from_day", "to_day", INCOME_POOR, "poor", "near_poor",
    "average", "threshold", "indicators",
)  # fmt: skip


def _day(d) -> str:
    return d.strftime("%Y%m%d")


def rows(standards: StandardSet) -> list[dict[str, str]]:
    """One row per complete standard and area; `indicators` lists the ids it counts."""
    found = []
    for s in standards.standards:
        if not s.complete:
            continue  # an incomplete standard cannot classify: the form shows no result
        for area in AREAS:
            lines = s.income_lines[area]
            found.append({
                "name": f"{s.id}-{area}",
                "label": s.title.vi,
                "standard": s.id,
                "area": area,
                "from_day": _day(s.effective_from),
                "to_day": _day(s.effective_to),
                INCOME_POOR: str(lines.get(INCOME_POOR) or ""),
                "poor": str(lines["poor"]),
                "near_poor": str(lines["near_poor"]),
                "average": str(lines["average"]),
                "threshold": str(s.deprivation_threshold),
                "indicators": " ".join(s.indicator_ids()),
            })  # fmt: skip
    return found


def lines_csv(standards: StandardSet) -> bytes:
    """The CSV attachment the forms read (UTF-8, header first, as Collect expects)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(standards))
    return out.getvalue().encode("utf-8")


def lines_instance(standards: StandardSet) -> Node:
    """The same rows as the secondary instance tree a CSV becomes (`root/item/<column>`)."""
    return Node(
        "root",
        children=[
            Node("item", children=[Node(k, text=v) for k, v in row.items()])
            for row in rows(standards)
        ],
    )


def attach(model, standards: StandardSet) -> None:
    """Give a form model that reads `poverty_lines.csv` the lines of `standards`, as the tablet
    has them, so our own engine computes what Collect computes (the server does this for
    every form it loads; tests do it for the shipped forms)."""
    if f"jr://file-csv/{FILENAME}" in model.external_instances.values():
        model.instances[INSTANCE] = lines_instance(standards)
