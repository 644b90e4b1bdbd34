"""Poverty exits: the households assessed out of poverty, to certify with the date of the
commune's decision or to decline with a reason; and the decisions taken."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for

from server.schemas.fields import ascii_int
from server.services.review import exits as exit_service
from server.services.review import pages as review_pages
from server.services.review.decisions import ReviewRefused
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import _, language
from server.web.review import _int_arg
from server.web.site import bp


@bp.get("/review/exits")
@reviewer_required
def exits():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    found = exit_service.exits(user, commune)
    decided = exit_service.decided(user, commune)
    held = exit_service.held(user, commune)
    return render_template(
        "exits.html",
        commune=commune,
        communes=communes,
        waiting=[e for e in found if e.decision is None],
        decided=decided,
        held=held,
        labels=review_pages.household_labels({d.household_id for d in decided}),
        people=review_pages.names({d.decided_by_id for d in decided}),
        places=review_pages.unit_names({e.household.village_id for e in [*found, *held]}),
        statuses=dict(review_pages.poverty_statuses()),
        transitions=review_pages.poverty_transitions(),
        today=exit_service.today().isoformat(),
    )


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.post("/review/exits/<household_id>/decision")
@reviewer_required
def decide_exit(household_id: str):
    """Certify the exit (with the decision date) or decline it (with the reason)."""
    user = signed_in_user()
    form = request.form
    version = form.get("version", "")
    decision = form.get("decision", "")
    try:
        done = exit_service.decide(
            user,
            household_id,
            ascii_int(version),
            decision,
            _date(form.get("decision_date", "")),
            form.get("reason", ""),
        )
    except ReviewRefused as refused:
        flash(refused.message(language()), "error")
        commune = request.args.get("commune")
        return redirect(url_for("web.exits", **({"commune": commune} if commune else {})))
    if decision == "certify":
        flash(_("Exit certified."), "ok")
    else:
        flash(_("Exit declined."), "ok")
    return redirect(url_for("web.exits", commune=done.commune_id))
