"""The programme's reports: a report as JSON, and the records behind one of its figures.
Everyone but cadres, inside their scope (`server.services.reports.selection`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request

from server.api.auth import current_user, login_required
from server.schemas.reports import RecordsSchema, ReportSchema
from server.services.programme import today
from server.services.reports import figures, records

bp = Blueprint("reports", __name__)

SITE, API = "/reports/", "/api/v1/reports/"


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "vi"


def _api(href: str | None) -> str | None:
    return API + href.removeprefix(SITE) if href and href.startswith(SITE) else href


def _table(table, lang: str) -> dict[str, Any]:
    shown = table.as_dict(lang)
    for row in shown["rows"]:
        for cell in row:
            if cell.get("href"):
                cell["api_href"] = _api(cell["href"])
    return shown


@bp.get("/reports")
@login_required()
def show_report():
    """A report for a commune, district, province or agency and a period: headline figures
    (each linking to its records), tables, drill-down children and chart data."""
    lang = _lang()
    report = figures.build(current_user(), request.args.to_dict(), today())
    period = report.period
    return ReportSchema().dump(
        {
            "title": report.title(lang),
            "level": report.level,
            "name": report.name,
            "period": {"label": period.label, "start": period.start, "end": period.end},
            "figures": [
                {
                    "key": f.key,
                    "label": f.label(lang),
                    "value": f.value,
                    "kind": f.kind,
                    "href": f.href,
                    "api_href": _api(f.href),
                }
                for f in report.figures
            ],
            "tables": [_table(t, lang) for t in report.tables],
            "children": report.children,
            "charts": report.charts,
            "xlsx": "/exports/report.xlsx?" + urlencode(report.params()),
        }
    )


@bp.get("/reports/records")
@login_required()
def list_records():
    """A page of the records behind one figure of a report (households, ledger entries,
    visits or assignments), paged by `after` and `limit`."""
    found = records.listed(current_user(), request.args.to_dict(), today())
    after = found.next_after
    return RecordsSchema().dump(
        {
            "figure": found.figure,
            "table": _table(found.table, _lang()),
            "next_after": None if after is None else str(after),
        }
    )
