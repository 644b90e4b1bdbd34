"""Possible duplicate households (D2): the list, the side-by-side comparison with the score
breakdown, and the decisions (merge with a choice per property, distinct, undo; D3)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.models import CaseStatus
from server.problems import Problem
from server.services.duplicates import cases as duplicate_service
from server.services.forms import loaded as form_models
from server.services.review import pages as review_pages
from server.web.answers import property_choices, property_labels
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import N_, _, language
from server.web.review import _int_arg
from server.web.site import bp

CASE_STATES = [s.value for s in CaseStatus]
DECISIONS = ("merge", "distinct", "separate", "undo")
#: What each decision did, for the message after it: on a pair, and on a group of three or more.
DONE = {
    "merge": N_("The two households were merged."),
    "distinct": N_("Marked as two different households."),
    "undo": N_("The decision was undone."),
}
DONE_GROUP = {
    **DONE,
    "merge": N_("The households were merged."),
    "distinct": N_("Marked as different households."),
    "separate": N_("The household was taken out of the group."),
}


@bp.get("/review/duplicates")
@reviewer_required
def duplicates():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    state = request.args.get("state", "open")
    state = state if state in (*CASE_STATES, "all") else "open"
    found = duplicate_service.list_cases(
        user, status=state, commune=commune.id, after=_int_arg("after")
    )
    groups = {c.id: duplicate_service.group_of(c) for c in found.items}
    labels = review_pages.household_labels({hid for ids in groups.values() for hid in ids})
    return render_template(
        "duplicates.html",
        commune=commune,
        communes=communes,
        cases=found.items,
        next_after=found.next_after,
        state=state,
        states=CASE_STATES,
        labels=labels,
        groups=groups,
    )


def _labels(sides: list[dict]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The registration form's labels of the properties compared, and of their choices."""
    version_id = review_pages.created_form_version(s["id"] for s in sides if s["exists"])
    if version_id is None:
        return {}, {}
    model = form_models.loaded(version_id).model
    return property_labels(model, language()), property_choices(model, language())


@bp.get("/review/duplicates/<int:case_id>")
@reviewer_required
def duplicate(case_id: int):
    user = signed_in_user()
    case = duplicate_service.case_for(user, case_id)
    shown = duplicate_service.describe(case, full=True)
    commune, _communes = review_pages.commune_for(user, case.commune_id)
    labels, choices = _labels(shown["sides"])
    return render_template(
        "duplicate.html",
        case=case,
        shown=shown,
        commune=commune,
        labels=labels,
        choices=choices,
        statuses=dict(review_pages.poverty_statuses()),
        new=case.new_id,
    )


@bp.post("/review/duplicates/<int:case_id>/decision")
@reviewer_required
def decide_duplicate(case_id: int):
    """Merge (the survivor and, per property, which household's value it keeps), mark
    distinct, take one household out of the group, or undo the last decision."""
    user = signed_in_user()
    case = duplicate_service.case_for(user, case_id)
    decision = request.form.get("decision", "")
    target = url_for("web.duplicate", case_id=case.id)
    if decision not in DECISIONS:
        flash(_("Choose merge, two different households, or undo."), "error")
        return redirect(target)
    choice = {}
    group = duplicate_service.group_of(case)
    if decision == "merge":
        choice["survivor"] = request.form.get("survivor", "")
        choice["values"] = {
            key.split(":", 1)[1]: value
            for key, value in request.form.items()
            if key.startswith("keep:") and value in group
        }
    elif decision == "separate":
        choice["household"] = request.form.get("household", "")
    try:
        duplicate_service.decide_for(user, case.id, decision, **choice)
    except Problem as refused:
        if refused.status not in (400, 409):
            raise
        flash(refused.message(language()), "error")
    else:
        flash(_((DONE if len(group) == 2 else DONE_GROUP)[decision]), "ok")
    return redirect(target)
