"""The programme's reports on the site: choose a level, a unit or agency and a period; read
the headline figures, the tables, the drill-down to districts, communes and villages, and the
charts; print it on A4; download it as XLSX (`/exports/report.xlsx`, the exports' route)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent

from server.problems import Problem
from server.services.programme import today
from server.services.reports import figures, records, selection
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import language
from server.web.site import bp

#: The report's parameters that links and the XLSX download repeat.
REPORT_KEYS = ("level", "unit", "agency", "year", "phase", "from", "to")


def shown(value: Any, kind: str = "text") -> str:
    """A value as the reader's language writes it: vi-VN `1.234.567`, money `2.500.000 đ`,
    a share `15%`, a date `30/06/2026`."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if kind == "share":
        return format_percent(value, "#,##0.#%")
    if kind == "vnd":
        return f"{format_decimal(value)} đ"
    if kind == "date" or isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else str(value)
    if isinstance(value, int | float):
        return format_decimal(value)
    return str(value)


@bp.app_template_global("report_value")
def report_value(value: Any, kind: str = "text") -> str:
    return shown(value.value if hasattr(value, "href") else value, kind)


def _reader():
    user = signed_in_user()
    if user is not None and user.role not in selection.READERS:
        raise Problem("403.50")
    return user


def _args() -> dict[str, str]:
    """The request's report parameters; the form's one `where` choice ("commune:12",
    "agency:3") names the level and the unit or agency at once."""
    args = {k: v for k, v in request.args.items() if v.strip()}
    where = args.pop("where", "")
    level, _, ident = where.partition(":")
    if level in selection.LEVELS and ident:
        args.pop("unit", None), args.pop("agency", None)
        args["level"] = level
        args["agency" if level == "agency" else "unit"] = ident
    return args


def _context(report: figures.Report) -> dict:
    s = report.selection
    units, agencies = selection.choices(s.actor)
    params = report.params()
    return {
        "report": report,
        "lang": language(),
        "units": units,
        "agencies": agencies,
        "where": f"{s.level}:{s.agency.id if s.agency else s.unit.id}",
        "trail": selection.ancestors(s.unit) if s.unit is not None else [],
        "query": urlencode(params),
        "xlsx": "/exports/report.xlsx?" + urlencode(params),
        "period_args": {k: request.args.get(k, "") for k in ("year", "phase", "from", "to")},
    }


@bp.get("/reports")
def reports():
    user = _reader()
    if user is None:
        return sign_in_page(status=401)
    args = _args()
    if "level" not in args:
        first = selection.default_args(user)
        if not first:
            raise Problem("403.51")
        return redirect(url_for("web.reports", **(first | args)))
    report = figures.build(user, args, today())
    return render_template("reports/report.html", **_context(report))


@bp.get("/reports/print")
def report_print():
    """The report on A4 pages for a meeting: no navigation, charts and tables fitted."""
    user = _reader()
    if user is None:
        return sign_in_page(status=401)
    report = figures.build(user, _args(), today())
    return render_template("reports/print.html", **_context(report))


@bp.get("/reports/records")
def report_records():
    """The records behind one figure, a page at a time."""
    user = _reader()
    if user is None:
        return sign_in_page(status=401)
    args = _args()
    found = records.listed(user, args, today())
    params = found.selection.params()
    more = None
    if found.next_after is not None:
        more = "?" + urlencode(args | {"after": str(found.next_after)})
    return render_template(
        "reports/records.html",
        found=found,
        lang=language(),
        back="/reports?" + urlencode(params),
        more=more,
    )
