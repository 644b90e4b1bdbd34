"""The households list, a household's page (record, poverty status per year, versions,
conflicts with their resolution form, visits, support from the ledger, cadres) and the
resolution (H3)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from forms.library.support_kinds import UNITS
from server.models import HouseholdStatus, Submission
from server.problems import Problem
from server.services.forms import loaded as form_models
from server.services.households import poverty
from server.services.households import review as household_review
from server.services.programme import ledger
from server.services.review import pages as review_pages
from server.web.answers import household_words, property_words, record_sections
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import _, language
from server.web.review import _int_arg
from server.web.site import bp

HOUSEHOLD_STATES = [s.value for s in HouseholdStatus]
bp.add_app_template_global(property_words, "property_words")
MAX_SEARCH = 100


@bp.get("/review/households")
@reviewer_required
def households():
    user = signed_in_user()
    commune, communes = review_pages.commune_for(user, _int_arg("commune"))
    statuses = review_pages.poverty_statuses()
    status = request.args.get("status") or None
    poverty = request.args.get("poverty") or None
    filters = review_pages.HouseholdFilter(
        village_id=_int_arg("village"),
        status=status if status in HOUSEHOLD_STATES else None,
        poverty=poverty if poverty in {key for key, _labels in statuses} else None,
        flagged=request.args.get("flagged") == "1",
        conflicts=request.args.get("conflicts") == "1",
        q=request.args.get("q", "").strip()[:MAX_SEARCH] or None,
        page=_int_arg("page") or 1,
    )
    page = review_pages.households(user, commune, filters)
    return render_template(
        "households.html",
        commune=commune,
        communes=communes,
        filters=filters,
        page=page,
        states=HOUSEHOLD_STATES,
        statuses=dict(statuses),
        villages=review_pages.villages(commune),
        places=review_pages.unit_names({h.village_id for h in page.items}),
        args={k: v for k, v in request.args.items() if k != "page"},
    )


def _labels_form(visits: list[Submission], household) -> form_models.LoadedForm | None:
    """The form whose labels name the household's properties: the one that created it."""
    made = next((s for s in visits if s.id == household.created_submission_id), None)
    made = made or (visits[-1] if visits else None)
    return form_models.loaded(made.form_version_id) if made else None


def support_rows(household_id: str, lang: str) -> list[dict]:
    """What the household received: its ledger entries that count (`ledger.live_entries`),
    from the visits' support repeats and from the site, newest first."""
    entries = ledger.of_household(household_id)
    names = ledger.names_of(entries)
    rows = []
    for e in entries:
        unit = UNITS.get(e.unit)
        rows.append(
            {
                "entry": e,
                "instance_id": names.instances.get(e.submission_id),
                "kind": e.kind.name_vi if lang == "vi" else e.kind.name_en,
                "unit": (unit[0] if lang == "vi" else unit[1]) if unit else e.unit,
                "giver": names.giver(e),
            }
        )
    return rows


@bp.get("/review/households/<household_id>")
@reviewer_required
def household(household_id: str):
    user = signed_in_user()
    shown = review_pages.household_page(user, household_id)
    h = shown.household
    form = _labels_form(shown.visits, h)
    commune = review_pages.commune_for(user, h.commune_id)[0] if h.commune_id else None
    labels, choices = household_words(form.model if form else None, language())
    return render_template(
        "household.html",
        page=shown,
        household=h,
        commune=commune,
        communes=[],
        labels=labels,
        choices=choices,
        record=record_sections(h.properties, labels, choices),
        standards={s.id: s.title for s in poverty.standards().standards},
        statuses=dict(review_pages.poverty_statuses()),
        support=support_rows(h.id, language()),
        members=review_pages.members(h),
        deprivations=review_pages.deprivations(h),
        places=review_pages.unit_names({h.village_id, h.commune_id}),
        people=review_pages.names({s.submitter_id for s in shown.visits}),
    )


@bp.post("/review/households/<household_id>/resolution")
@reviewer_required
def resolve(household_id: str):
    """Keep, for each conflicting property, the value the reviewer chose (or typed)."""
    user = signed_in_user()
    found = household_review.household_for(user, household_id)
    values = {}
    for conflict in household_review.conflicts_of(found, open_only=True):
        typed = request.form.get(f"other:{conflict.property}", "").strip()
        chosen = typed or request.form.get(f"value:{conflict.property}")
        if chosen is not None:
            values[conflict.property] = chosen
    target = url_for("web.household", household_id=found.id)
    if not values:
        flash(_("Choose the value to keep for at least one property."), "error")
        return redirect(target)
    try:
        household_review.resolve_conflicts(user, found.id, values)
    except Problem as refused:
        if refused.status not in (400, 409):
            raise
        flash(refused.message(language()), "error")
    else:
        flash(_("Conflict resolved: a new version of the household was saved."), "ok")
    return redirect(target)
