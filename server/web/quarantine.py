"""The quarantine page: what tablets sent that could not be stored (R3-R5), what to do about
each, and the action that runs an item through ingest again."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.schemas.fields import ascii_int
from server.services.receiving import quarantine as quarantine_service
from server.services.review import decisions as review_service
from server.services.review import pages as review_pages
from server.web.auth import reviewer_required, signed_in_user
from server.web.i18n import N_, _, language
from server.web.site import bp

#: What a reviewer does about an item, by the problem code it was kept for.
ADVICE = {
    "409.3": N_(
        "Compare it with the stored submission; if this one is right, correct the stored one."
    ),
    "404.5": N_("Load and publish this form version, then process again."),
    "404.4": N_(
        "The edit replaces a record the server lacks: wait for the original, then process again."
    ),
    "409.4": N_(
        "The edit replaces an old version: compare it with the current version and correct that."
    ),
    "403.3": N_("The sender may not send this: check their area and forms, then process again."),
    "403.4": N_("The sender may not send this: check their area and forms, then process again."),
    "403.30": N_(
        "The place is not in the server's list: add the village or commune, then process again."
    ),
    "400.7": N_("The payload cannot be read: ask the cadre to send it again from the tablet."),
    "413.2": N_("The payload cannot be read: ask the cadre to send it again from the tablet."),
}
DEFAULT_ADVICE = N_("Read the reason, fix its cause, then process again.")


def advice(code: str) -> str:
    return _(ADVICE.get(code, DEFAULT_ADVICE))


@bp.get("/review/quarantine")
@reviewer_required
def quarantine():
    user = signed_in_user()
    commune_id = request.args.get("commune", "")
    commune, communes = review_pages.commune_for(user, ascii_int(commune_id))
    state = request.args.get("state", "open")
    state = state if state in ("open", "resolved", "all") else "open"
    after = request.args.get("after", "")
    found, next_after = review_pages.quarantine_page(user, commune, state, ascii_int(after))
    items = quarantine_service.describe_all(found, language())
    return render_template(
        "quarantine.html",
        items=items,
        state=state,
        next_after=next_after,
        advice=advice,
        commune=commune,
        communes=communes,
    )


@bp.get("/review/quarantine/<int:item_id>")
@reviewer_required
def quarantine_item(item_id: int):
    item = quarantine_service.item_for(signed_in_user(), item_id)
    shown = quarantine_service.describe(item, language(), payload=True)
    return render_template("quarantine_item.html", item=shown, advice=advice)


@bp.post("/review/quarantine/<int:item_id>/reprocess")
@reviewer_required
def quarantine_reprocess(item_id: int):
    user = signed_in_user()
    review_service.require_reviewer(user)
    receipt = quarantine_service.reprocess_for(user, item_id)
    if receipt.stored:
        flash(_("Stored now as submission %(id)s.", id=receipt.instance_id), "ok")
    else:
        message = receipt.problem.message(language()) if receipt.problem else receipt.result
        flash(_("Still kept: %(message)s", message=message), "error")
    return redirect(url_for("web.quarantine_item", item_id=item_id))
