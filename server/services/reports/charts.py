"""The chart data of a report: plain labels and values that the site's Chart.js script draws
(`static/reports.js`) and the printable page repeats as tables."""

from __future__ import annotations

from typing import Any

from server.services.reports.tables import Table


def of(children: list[dict[str, Any]], kinds: Table) -> dict[str, Any]:
    """Helped households and escapes per child unit, and support value by kind (the report's
    drill-down rows and its `support_by_kind` table)."""
    by_kind = [(row[0].value, row[3]) for row in kinds.rows if row[3]]
    return {
        "children": {
            "labels": [c["name"] for c in children],
            "helped": [c["helped"] for c in children],
            "escaped": [c["escaped"] for c in children],
        },
        "support_by_kind": {
            "labels": [name for name, _ in by_kind],
            "values": [value for _, value in by_kind],
        },
    }
