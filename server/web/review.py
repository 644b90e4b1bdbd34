"""The dashboard, the review queue, a submission's page and the decisions taken on it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for

from server.models import ReviewState
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.forms import loaded as form_models
from server.services.households import poverty
from server.services.receiving import attachments as files
from server.services.review import decisions as review_service
from server.services.review import pages as review_pages
from server.web.answers import layout
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import _, language
from server.web.site import bp

STATES = [s.value for s in ReviewState]


def _int_arg(name: str) -> int | None:
    return ascii_int(request.args.get(name))


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


@bp.get("/review")
@reviewer_required
def dashboard():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    board = review_pages.dashboard(user, commune)
    return render_template("dashboard.html", board=board, commune=commune, communes=communes)


#: The queue's filters a submission's page carries so that "next" stays in the same queue.
QUEUE_ARGS = ("commune", "state", "village", "cadre", "form", "from", "to")


def _queue_filter() -> review_pages.QueueFilter:
    state = request.args.get("state") or None
    return review_pages.QueueFilter(
        state=state if state in STATES else None,
        village_id=_int_arg("village"),
        submitter_id=_int_arg("cadre"),
        form_id=request.args.get("form") or None,
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        page=_int_arg("page") or 1,
    )


def _queue_args(source) -> dict[str, str]:
    return {k: source[k] for k in QUEUE_ARGS if source.get(k)}


@bp.get("/review/submissions")
@reviewer_required
def queue():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    filters = _queue_filter()
    page = review_pages.queue(user, commune, filters)
    villages = review_pages.villages(commune)
    return render_template(
        "queue.html",
        commune=commune,
        communes=communes,
        filters=filters,
        page=page,
        states=STATES,
        villages=villages,
        cadres=review_pages.cadres(commune),
        forms=review_pages.forms_of(commune),
        people=review_pages.names({s.submitter_id for s in page.items}),
        places=review_pages.unit_names({s.village_id for s in page.items}),
        queue_args={**_queue_args(request.args), "commune": commune.id},
        about=review_pages.households_of(s.id for s in page.items),
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.get("/review/submissions/<instance_id>")
@reviewer_required
def submission(instance_id: str):
    return _submission_page(instance_id)


def _submission_page(instance_id: str, correction: dict | None = None, status: int = 200):
    """A submission's page; `correction` is a refused correction to show again, as typed."""
    user = signed_in_user()
    found = review_service.submission_for(user, instance_id)
    form = form_models.loaded(found.form_version_id)
    rows = layout(form.model, found.answers or {}, found.issues or [], language())
    events = review_service.history(found)
    chain = review_service.versions(found)
    current = next((v for v in reversed(chain) if not v.superseded), None)
    labels = {r.path: r.label for r in rows}
    sent = review_pages.sent_values(found.id)
    following = None
    if request.args.get("decided") and found.commune_id:
        # The queue the reviewer came from, never wider than the submission's own commune.
        commune = review_pages.commune_for(user, found.commune_id)[0]
        following = review_pages.next_waiting(user, commune, _queue_filter(), found.id)
    return render_template(
        "submission.html",
        classification=poverty.explain(sent) if sent else None,
        decided=bool(request.args.get("decided")),
        following=following,
        following_about=review_pages.households_of([following.id]).get(following.id)
        if following
        else None,
        queue_args=_queue_args(request.args),
        submission=found,
        about=review_pages.households_of([found.id]).get(found.id),
        form=form,
        rows=rows,
        issues=[
            {**i, "label": labels.get(i.get("path"), i.get("path"))} for i in found.issues or []
        ],
        events=events,
        chain=chain,
        current=current,
        people=review_pages.names({found.submitter_id} | {e.actor_id for e in events}),
        places=review_pages.unit_names(
            {found.village_id, found.commune_id, following.village_id if following else None}
        ),
        statuses=dict(review_pages.poverty_statuses()),
        decisions=list(review_service.DECISIONS),
        correction=correction,
    ), status


@bp.post("/review/submissions/<instance_id>/decision")
@reviewer_required
def decide(instance_id: str):
    decision = request.form.get("decision", "")
    try:
        done = review_service.decide(
            signed_in_user(),
            instance_id,
            decision,
            request.form.get("comment", ""),
            seen=request.form.get("seen") or None,
        )
    except review_service.ReviewRefused as refused:
        flash(refused.message(language()), "error")
    else:
        flash(_("Decision saved: %(state)s.", state=_(done.review_state.value)), "ok")
        return redirect(
            url_for(
                "web.submission",
                instance_id=instance_id,
                decided=1,
                **_queue_args(request.form),
            )
        )
    return redirect(url_for("web.submission", instance_id=instance_id))


@bp.post("/review/submissions/<instance_id>/correction")
@reviewer_required
def correct(instance_id: str):
    form = request.form
    try:
        made = review_service.correct(
            signed_in_user(),
            instance_id,
            form.get("path", ""),
            form.get("value", ""),
            form.get("comment", ""),
        )
    except review_service.CorrectionRefused as refused:
        # Nothing was saved: the page again, with what the reviewer typed and why it failed.
        flash(refused.message(language()), "error")
        kept = {k: form.get(k, "") for k in ("path", "value", "comment")}
        return _submission_page(instance_id, {**kept, "issues": refused.issues}, 422)
    except review_service.ReviewRefused as refused:
        flash(refused.message(language()), "error")
        return redirect(url_for("web.submission", instance_id=instance_id))
    flash(_("Correction saved as a new version."), "ok")
    return redirect(url_for("web.submission", instance_id=made.instance_id))


@bp.get("/review/submissions/<instance_id>/files/<filename>")
@reviewer_required
def attachment(instance_id: str, filename: str):
    """A photo or file of a submission the reviewer may read (never by its storage path)."""
    found = review_service.submission_for(signed_in_user(), instance_id)
    kept = next((a for a in found.attachments if a.filename == filename), None)
    if kept is None:
        raise Problem("404.1")
    response = Response(files.open_stream(kept.storage_path), mimetype=kept.content_type)
    response.headers["Content-Length"] = str(kept.size)
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response


def _quote(name: str) -> str:
    return quote(name, safe="")


@bp.app_template_filter("action_label")
def action_label(action: str) -> str:
    return _(action)
