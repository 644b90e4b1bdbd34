"""The poverty review's pages (issue 18): a commune's campaigns, and a campaign's page with
its progress per village, its list, and the forms of its steps (meeting, proposal, decision).
The services decide who may do what (`server.services.reviews.campaigns`)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from flask import current_app, flash, redirect, render_template, request, send_file, url_for

from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.review import pages as review_pages
from server.services.reviews import campaigns, lists
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import _, language
from server.web.review import _int_arg
from server.web.site import bp


def _date(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        return None


@bp.get("/review/campaigns")
@reviewer_required
def review_campaigns():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    found = [c for c in campaigns.listed(user) if c.commune_id == commune.id]
    return render_template("review_campaigns.html", commune=commune, communes=communes,
                           campaigns=found, stages=campaigns.STAGE_WORDS,
                           runs=user.role in campaigns.RUNNERS)  # fmt: skip


@bp.post("/review/campaigns")
@reviewer_required
def open_review():
    """Open a campaign for the commune (the annual review, or an ongoing one)."""
    user = signed_in_user()
    form = request.form
    try:
        campaign = campaigns.open_campaign(
            user, ascii_int(form.get("commune")) or 0, ascii_int(form.get("year")) or 0,
            form.get("kind", "annual"), _date("opens_on"), _date("closes_on"),
        )  # fmt: skip
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(problem.message(language()), "error")
        return redirect(url_for("web.review_campaigns", commune=form.get("commune")))
    flash(_("Campaign opened."), "ok")
    return redirect(url_for("web.review_campaign", campaign_id=campaign.id))


@bp.get("/review/campaigns/<int:campaign_id>")
@reviewer_required
def review_campaign(campaign_id: int):
    user = signed_in_user()
    campaign = campaigns.campaign_for(user, campaign_id)
    commune, communes = review_pages.commune_for(user, campaign.commune_id)
    listed = campaigns.entries(user, campaign)
    return render_template(
        "review_campaign.html", campaign=campaign, commune=commune, communes=communes,
        progress=campaigns.progress(campaign), entries=listed,
        homes=campaigns.households_of(listed), stages=campaigns.STAGE_WORDS,
        statuses=dict(review_pages.poverty_statuses()),
        people=review_pages.names({e.reviewer_id for e in listed}),
        runs=user.role in campaigns.RUNNERS,
    )  # fmt: skip


STEPS = ("meeting", "proposal", "decision")


@bp.post("/review/campaigns/<int:campaign_id>/<step>")
@reviewer_required
def review_step(campaign_id: int, step: str):
    """Record a step: the village meeting, the commune's proposal, the commune's decision."""
    user = signed_in_user()
    form = request.form
    if step not in STEPS:
        raise Problem("404.1")
    day = _date("date")
    try:
        if day is None:
            raise Problem("400.95", field="date", hint="YYYY-MM-DD")
        if step == "meeting":
            campaigns.record_meeting(user, campaign_id, day, ascii_int(form.get("attendance")) or 0,
                                     note=form.get("note", ""))  # fmt: skip
        elif step == "proposal":
            campaigns.propose(user, campaign_id, day)
        else:
            campaigns.decide(user, campaign_id, form.get("number", ""), day)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(problem.message(language()), "error")
    else:
        flash(_("Saved."), "ok")
    return redirect(url_for("web.review_campaign", campaign_id=campaign_id))


@bp.get("/review/campaigns/<int:campaign_id>/lists.xlsx")
@reviewer_required
def review_lists(campaign_id: int):
    """The campaign's list and summary as XLSX (the circular's layout)."""
    user = signed_in_user()
    campaign = campaigns.campaign_for(user, campaign_id)
    data, name = lists.workbook(user, campaign, current_app.config.get("TIMEZONE"))
    return send_file(BytesIO(data), mimetype=lists.XLSX_TYPE, as_attachment=True,
                     download_name=name)  # fmt: skip
