"""Token-visit monitoring on the site: rates per commune, agency and cadre with the trend by
month, the list of flags, and a flag's page with its evidence where a person confirms,
dismisses or reopens it with a comment."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import AdminUnit
from server.problems import N_, Problem
from server.services.monitoring import agency_visits as stays
from server.services.monitoring import decisions, summary, view
from server.services.monitoring.catalogue import CHECKS
from server.services.programme import agencies, today
from server.services.reports import downloads
from server.services.reports.periods import Period
from server.services.review import pages as review_pages
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import _, language
from server.web.site import bp

PERIOD_KEYS = ("year", "phase", "from", "to")


def monitor_required(page: Callable) -> Callable:
    """Decorate a page or action: signed in (else 401 with the sign-in form), and a reader of
    monitoring (else 403.85: cadres)."""

    @functools.wraps(page)
    def wrapper(*args, **kwargs):
        user = signed_in_user()
        if user is None:
            return sign_in_page(status=401)
        view.require_monitor(user)
        return page(*args, **kwargs)

    return wrapper


def _state_words() -> dict[str, str]:
    return {"open": _("Open"), "confirmed": _("Confirmed"), "dismissed": _("Dismissed")}


@bp.context_processor
def _monitoring_globals() -> dict:
    return {"state_words": _state_words()} if request.path.startswith("/monitoring") else {}


def _after() -> int | None:
    text = request.args.get("after", "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise Problem("400.88", field="after", reason="give a number")
    return int(text)


@bp.get("/monitoring")
@monitor_required
def monitoring():
    user = signed_in_user()
    args = {k: v for k, v in request.args.items() if v.strip()}
    period = Period.parse(args, today())
    shown = view.overview(user, period, args.get("group", "commune"))
    f = view.FlagFilter.parse(args)
    page = view.flags(user, f, _after())
    more = None
    if page.next_after is not None:
        kept = {k: v for k, v in args.items() if k != "after"}
        more = "?" + urlencode(kept | {"after": str(page.next_after)})
    return render_template(
        "monitoring/overview.html",
        overview=shown,
        page=page,
        filter=f,
        more=more,
        checks=CHECKS,
        title_of=lambda code: view.title(code, language()),
        reason_of=lambda flag: view.reason(flag, language()),
        period_args={k: request.args.get(k, "") for k in PERIOD_KEYS},
        chart={
            "labels": [m for m, _v, _f in shown.months],
            "visits": [v for _m, v, _f in shown.months],
            "flagged": [f for _m, _v, f in shown.months],
            "names": {"visits": _("Visits"), "flagged": _("Flagged visits")},
            "locale": "vi-VN" if language() == "vi" else "en-GB",
        },
    )


@bp.get("/monitoring/flags/<int(max=9223372036854775807):flag_id>")
@monitor_required
def monitoring_flag(flag_id: int):
    user = signed_in_user()
    page = view.flag_page(user, flag_id)
    return render_template(
        "monitoring/flag.html",
        p=page,
        flag=page.flag,
        title=view.title(page.flag.check, language()),
        reason=view.reason(page.flag, language()),
        can_judge=user.role in decisions.scope.REVIEWERS,
    )


@bp.post("/monitoring/flags/<int(max=9223372036854775807):flag_id>/decision")
@monitor_required
def decide_flag(flag_id: int):
    """Confirm or dismiss (`decision`) with a `comment`, or reopen (`decision=reopen`)."""
    user = signed_in_user()
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "")
    try:
        if decision == "reopen":
            decisions.reopen(user, flag_id, comment)
            flash(_("Flag reopened."), "ok")
        else:
            decisions.decide(user, flag_id, decision, comment)
            flash(_("Flag confirmed.") if decision == "confirm" else _("Flag dismissed."), "ok")
    except Problem as problem:
        if problem.type.status not in (400, 409):
            raise
        flash(problem.message(language()), "error")
    return redirect(url_for("web.monitoring_flag", flag_id=flag_id))


# -- agency stays and their plan ---------------------------------------------------------------


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").strip())
    except ValueError:
        return None


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@bp.get("/monitoring/agency-visits")
@monitor_required
def agency_visits_page():
    """The year's plans with the stays done against them, the stays, and the forms to record a
    stay and set a plan."""
    user = signed_in_user()
    year = _int(request.args.get("year", "")) or today().year
    if not 2000 <= year <= 2100:
        raise Problem("400.88", field="year", reason="give a year like 2026")
    page = stays.listed(user, None, None, year, _after())
    done = stays.done(user, year)
    plans = stays.plans(user, year)
    agency_list = list(db.session.scalars(agencies.listed(user)))
    communes = review_pages.communes(user)
    ids = {v.agency_id for v in page.items} | {p.agency_id for p in plans}
    return render_template(
        "monitoring/agency_visits.html",
        year=year,
        page=page,
        plans=[(p, done.get((p.agency_id, p.commune_id), (0, 0.0))) for p in plans],
        agencies=agency_list,
        agency_names={a.id: a.name for a in agency_list} | view.agency_names(ids),
        communes=communes,
        commune_names=review_pages.unit_names(
            {v.commune_id for v in page.items} | {p.commune_id for p in plans}
        ),
        today=today().isoformat(),
    )


def _unit_and_agency(user):
    form = request.form
    agency = agencies.visible(user, form.get("agency", "").strip() or "-")
    commune_id = _int(form.get("commune", ""))
    commune = db.session.get(AdminUnit, commune_id) if commune_id else None
    if commune is None:
        raise Problem("400.87", reason=N_("choose a commune"))
    return agency, commune


def _back(message: str, category: str = "ok"):
    flash(message, category)
    return redirect(url_for("web.agency_visits_page", year=request.form.get("year") or None))


@bp.post("/monitoring/agency-visits")
@monitor_required
def record_agency_visit():
    user = signed_in_user()
    form = request.form
    try:
        agency, commune = _unit_and_agency(user)
        try:
            visited_on = dt.date.fromisoformat(form.get("visited_on", "").strip())
        except ValueError:
            raise Problem("400.87", reason=N_("give the date of the stay")) from None
        stay = stays.Stay(
            visited_on, _float(form.get("days", "")) or 0, _int(form.get("people", "")) or 0,
            form.get("purpose", ""), form.get("names"), form.get("result"),
            form.get("planned") == "1",
        )  # fmt: skip
        stays.record(user, agency, commune, stay)
    except Problem as problem:
        if problem.type.status != 400:
            raise
        return _back(problem.message(language()), "error")
    return _back(_("Agency stay recorded."))


@bp.post("/monitoring/agency-visits/<int(max=9223372036854775807):visit_id>/void")
@monitor_required
def void_agency_visit(visit_id: int):
    user = signed_in_user()
    try:
        stays.void(user, visit_id, request.form.get("reason", ""))
    except Problem as problem:
        if problem.type.status not in (400, 409):
            raise
        return _back(problem.message(language()), "error")
    return _back(_("Agency stay voided."))


@bp.post("/monitoring/agency-plans")
@monitor_required
def set_agency_plan():
    user = signed_in_user()
    form = request.form
    try:
        agency, commune = _unit_and_agency(user)
        year, visits = _int(form.get("year", "")), _int(form.get("visits_planned", ""))
        days = _float(form.get("days_planned", ""))
        if year is None or visits is None or days is None:
            raise Problem("400.87", reason=N_("give the year, the stays and the days planned"))
        stays.set_plan(user, agency, commune, year, visits, days, form.get("note"))
    except Problem as problem:
        if problem.type.status != 400:
            raise
        return _back(problem.message(language()), "error")
    return _back(_("Plan saved."))


# -- the periodic summary for the standing office ---------------------------------------------


@bp.get("/monitoring/summary")
@monitor_required
def monitoring_summary():
    """The summary for a period, on an A4-friendly page, with its XLSX and CSV downloads."""
    user = signed_in_user()
    args = {k: v for k, v in request.args.items() if v.strip() and k in PERIOD_KEYS}
    found = summary.build(user, Period.parse(args, today()))
    query = urlencode(found.period.params())
    return render_template(
        "monitoring/summary.html",
        summary=found,
        period_args={k: request.args.get(k, "") for k in PERIOD_KEYS},
        xlsx=url_for("web.monitoring_summary_file", fmt="xlsx") + "?" + query,
        csv=url_for("web.monitoring_summary_file", fmt="csv") + "?" + query,
    )


@bp.get("/monitoring/summary.<any(csv,xlsx):fmt>")
@monitor_required
def monitoring_summary_file(fmt: str):
    """The summary as a file, through the exports' writers (kind `monitoring`)."""
    user = signed_in_user()
    args = {k: v for k, v in request.args.items() if k in PERIOD_KEYS}
    export = downloads.request_from_query("monitoring", fmt, args | {"lang": language()})
    return downloads.direct(user, export)
