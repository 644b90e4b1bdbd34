"""Households for the review site: list and filter, history, conflicts and their resolution.

Scoped to the caller's units (`server.services.household_review`); only
reviewers (commune officials, coordinators, admins) resolve conflicts. The
schemas below are the only serialisers of these answers and appear in the
OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import Schema, fields, validate

from server.api import params
from server.api.auth import current_user, login_required
from server.models import HouseholdStatus
from server.problems import Problem
from server.services import admin_units, household_review

bp = Blueprint("households", __name__)

STATES = [s.value for s in HouseholdStatus]


class HouseholdSchema(Schema):
    id = fields.String()
    label = fields.String(allow_none=True)
    version = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATES))
    merged_into = fields.String(allow_none=True, attribute="merged_into_id")
    village_id = fields.Integer(allow_none=True)
    commune_id = fields.Integer(allow_none=True)
    flagged = fields.Boolean()
    flag_reason = fields.String(allow_none=True)
    open_conflicts = fields.Integer()
    held_updates = fields.Integer()
    properties = fields.Dict(keys=fields.String(), values=fields.Raw())
    updated_at = fields.AwareDateTime()


class VersionSchema(Schema):
    """One version (H7): the submission or decision that made it, its base, what changed."""

    version = fields.Integer()
    kind = fields.String(metadata={"description": "submission, or the decision's kind"})
    submission_id = fields.Integer(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    base_version = fields.Integer(allow_none=True)
    branch_id = fields.String(allow_none=True)
    branch_position = fields.Integer()
    changes = fields.Dict(keys=fields.String(), values=fields.Raw())
    label = fields.String(allow_none=True)
    conflicts = fields.List(fields.Dict(), allow_none=True)
    status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class ConflictWriteSchema(Schema):
    update = fields.String()
    submission_id = fields.Integer(allow_none=True)
    value = fields.String(allow_none=True)
    base_value = fields.String(allow_none=True)


class ConflictSchema(Schema):
    """Concurrent updates disagree on `property` (H3); `provisional` is shown meanwhile."""

    id = fields.Integer()
    property = fields.String()
    base_value = fields.String(allow_none=True)
    writes = fields.List(fields.Nested(ConflictWriteSchema))
    provisional = fields.String(allow_none=True)
    provisional_update = fields.String(allow_none=True)
    detected_version = fields.Integer()
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)
    resolution_version = fields.Integer(allow_none=True)


class HouseholdDetailSchema(HouseholdSchema):
    versions = fields.List(fields.Nested(VersionSchema))
    conflicts = fields.List(fields.Nested(ConflictSchema))


class HouseholdPageSchema(Schema):
    households = fields.List(fields.Nested(HouseholdSchema))
    next_after = fields.String(allow_none=True)


class HouseholdQuerySchema(Schema):
    commune = fields.String(metadata={"description": 'Commune path, e.g. "11/03325".'})
    village = fields.String(metadata={"description": 'Village path, e.g. "11/03325/01".'})
    status = fields.String(validate=validate.OneOf(STATES))
    flagged = fields.Boolean()
    q = fields.String(metadata={"description": "Part of the label (head's name, birth year)."})
    after = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ResolutionSchema(Schema):
    """The value to keep for each conflicting property."""

    values = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


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
