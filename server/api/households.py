"""Households for the review site: list and filter, history, conflicts and their resolution.

Scoped to the caller's units (`server.services.households.review`); only
reviewers (commune officials, coordinators, admins) resolve conflicts.
Schemas: `server.schemas.households`.
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api.auth import current_user, login_required
from server.problems import Problem
from server.schemas.households import (
    HouseholdDetailSchema,
    HouseholdPageSchema,
    HouseholdQuerySchema,
    HouseholdSchema,
    ResolutionSchema,
)
from server.services.households import review as household_review
from server.services.programme import units as admin_units

bp = Blueprint("households", __name__)


def _unit(path: str | None) -> int | None:
    if path is None:
        return None
    unit = admin_units.find(path)
    if unit is None:
        raise Problem("404.6", unit=path)
    return unit.id


def _detail(household) -> dict:
    fields_ = HouseholdSchema().fields
    shown = {name: getattr(household, f.attribute or name) for name, f in fields_.items()}
    shown["merged_into_id"] = household.merged_into_id
    shown["versions"] = household_review.versions_of(household)
    shown["conflicts"] = household_review.conflicts_of(household)
    return HouseholdDetailSchema().dump(shown)


@bp.get("/households")
@login_required()
def list_households():
    """Households in the caller's scope by id, paged (`after`, `limit`), filtered by commune,
    village, status, flagged and label text."""
    query = params.load(HouseholdQuerySchema(), request.args.to_dict())
    query["commune"] = _unit(query.get("commune"))
    query["village"] = _unit(query.get("village"))
    page = household_review.list_households(current_user(), **query)
    return HouseholdPageSchema().dump({"households": page.items, "next_after": page.next_after})


@bp.get("/households/<household_id>")
@login_required()
def show_household(household_id: str):
    """One household with every version (history) and its conflicts, open and settled."""
    return _detail(household_review.household_for(current_user(), household_id))


@bp.post("/households/<household_id>/resolution")
@login_required()
def resolve_conflicts(household_id: str):
    """Choose the value of conflicting properties (reviewers): a new version, audited."""
    body = params.load(ResolutionSchema(), request.get_json(silent=True))
    household = household_review.resolve_conflicts(current_user(), household_id, body["values"])
    return _detail(household)
