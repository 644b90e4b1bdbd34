"""Token-visit monitoring on the site: rates per commune, agency and cadre with the trend by
month, the list of flags, and a flag's page with its evidence where a person confirms,
dismisses or reopens it with a comment."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for

from server.problems import Problem
from server.services.monitoring import decisions, view
from server.services.monitoring.catalogue import CHECKS
from server.services.programme import today
from server.services.reports.periods import Period
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import _, language
from server.web.site import bp

PERIOD_KEYS = ("year", "phase", "from", "to")


def _monitor():
    user = signed_in_user()
    if user is not None:
        view.require_monitor(user)
    return user


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
def monitoring():
    user = _monitor()
    if user is None:
        return sign_in_page(status=401)
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
def monitoring_flag(flag_id: int):
    user = _monitor()
    if user is None:
        return sign_in_page(status=401)
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
def decide_flag(flag_id: int):
    """Confirm or dismiss (`decision`) with a `comment`, or reopen (`decision=reopen`)."""
    user = _monitor()
    if user is None:
        return sign_in_page(status=401)
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
