"""Pairs: which cadre, team or organisation helps which household, with history.

Coordinators and commune officials pair households of their area, agency leads their
agency's members inside the units it is assigned to, admins anywhere; a cadre lists their own.
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.db import db
from server.models import Household, User
from server.models.programme import Agency, Pair
from server.schemas.programme import (
    EndSchema,
    PairCreateSchema,
    PairPageSchema,
    PairQuerySchema,
    PairSchema,
    ReassignSchema,
)
from server.services.paging import keyset_page
from server.services.programme import pairs, today

# Ids are INTEGER columns: a larger one is answered 404 by the route (schemas.programme.MAX_ID).
bp = Blueprint("pairs", __name__)


def shown(pair: Pair) -> dict:
    helper = pairs.helper_of(pair)
    household = db.session.get(Household, pair.household_id)
    is_user = isinstance(helper, User)
    on = today()
    return {
        "id": pair.id,
        "household": pair.household_id,
        "household_label": household.label if household is not None else None,
        "helper": helper.username if is_user else helper.code,
        "helper_kind": "user" if is_user else "agency",
        "helper_name": helper.full_name if is_user else helper.name,
        "priority": pair.priority,
        "capacity_note": pair.capacity_note,
        "starts_on": pair.starts_on,
        "ends_on": pair.ends_on,
        "end_reason": pair.end_reason,
        "replaced_by": pair.replaced_by_id,
        "current": pair.starts_on <= on and (pair.ends_on is None or pair.ends_on > on),
    }


def _helper(text: str | None) -> User | Agency | None:
    return pairs.find_helper(text) if text is not None else None


@bp.get("/pairs")
@login_required()
def list_pairs():
    """The pairs the caller may read by id, paged; filters `household` (id or code), `helper`
    (username or agency code) and `current` (running today; true by default)."""
    query = params.load(PairQuerySchema(), request.args.to_dict())
    actor = current_user()
    household = None
    if query.get("household"):
        household = pairs.find_household(actor, query["household"])
    stmt = pairs.listed(
        actor, household=household, helper=_helper(query.get("helper")), current=query["current"]
    ).order_by(None)
    page = keyset_page(stmt, Pair.id, query.get("after"), query["limit"])
    return PairPageSchema().dump(
        {"pairs": [shown(p) for p in page.items], "next_after": page.next_after}
    )


@bp.post("/pairs")
@login_required()
def create_pair():
    """Pair a household (its id or household code) with a helper (a username, or the code of
    a team or organisation) from `starts_on` (today), with a priority and capacity note (201)."""
    body = params.load(PairCreateSchema(), request.get_json(silent=True))
    actor = current_user()
    made = pairs.pair(
        pairs.find_household(actor, body["household"]),
        pairs.find_helper(body["helper"]),
        priority=body.get("priority"),
        capacity_note=body.get("capacity_note"),
        starts_on=body.get("starts_on"),
        actor=actor,
    )
    return PairSchema().dump(shown(made)), 201


@bp.post("/pairs/<int(max=2147483647):pair_id>/end")
@login_required()
def end_pair(pair_id: int):
    """End a pair on `on` (today by default), with a `reason`; the row stays as history."""
    body = params.load(EndSchema(), request.get_json(silent=True) or {})
    found = pairs.readable(current_user(), pair_id)
    ended = pairs.end_pair(
        found, on=body.get("on"), reason=body.get("reason"), actor=current_user()
    )
    return PairSchema().dump(shown(ended))


@bp.post("/pairs/<int(max=2147483647):pair_id>/reassign")
@login_required()
def reassign_pair(pair_id: int):
    """Give a pair's household to another helper from today (201 with the new pair): the old
    pair ends today and points to the new one."""
    body = params.load(ReassignSchema(), request.get_json(silent=True))
    found = pairs.readable(current_user(), pair_id)
    new = pairs.reassign(
        found, pairs.find_helper(body["helper"]), actor=current_user(), reason=body.get("reason")
    )
    return PairSchema().dump(shown(new)), 201


@bp.post("/pairs/import")
@login_required()
def import_pairs():
    """Pairs from an XLSX or CSV file (multipart field `file`; columns household, helper,
    priority, capacity_note, starts_on): all or nothing (400.23, or 403.16 for households
    outside the caller's area, every row's error listed)."""
    data, filename = lookups.uploaded_file()
    return lookups.import_answer(pairs.import_pairs(data, filename, actor=current_user()))
