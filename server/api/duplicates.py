"""Duplicate households and double entries for reviewers (sync contract D1-D4).

Cases and flags are scoped to the communes of the caller (`server.services.duplicates`);
only reviewers (commune officials, coordinators, admins) decide. The schemas below are the
only serialisers of these answers and appear in the OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import Schema, fields, validate

from server.api import params
from server.api.auth import current_user, login_required
from server.models import CaseStatus, DoubleEntryStatus
from server.problems import Problem
from server.services import admin_units, duplicates

bp = Blueprint("duplicates", __name__)

CASE_STATES = [s.value for s in CaseStatus]
ENTRY_STATES = [s.value for s in DoubleEntryStatus]


class CaseSchema(Schema):
    """A possible duplicate (D2) or an automatic link (D1) of two households."""

    id = fields.Integer()
    kind = fields.String(metadata={"description": "exact (D1 keys) | fuzzy (D2 score)"})
    status = fields.String(validate=validate.OneOf(CASE_STATES))
    score = fields.Float(metadata={"description": "Sum of the breakdown's points."})
    threshold = fields.Float(metadata={"description": "A fuzzy case opens at this score."})
    breakdown = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata={"description": "Points per compared property (name, birth_year, ...)."},
    )
    households = fields.List(fields.String(), metadata={"description": "The pair's ids."})
    new_household = fields.String(metadata={"description": "The registration that raised it."})
    survivor = fields.String(allow_none=True)
    commune = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)


class CaseSideSchema(Schema):
    id = fields.String()
    exists = fields.Boolean()
    label = fields.String(allow_none=True)
    status = fields.String()
    version = fields.Integer()
    merged_into = fields.String(allow_none=True)
    village = fields.String(allow_none=True)
    properties = fields.Dict(keys=fields.String(), values=fields.Raw())
    members = fields.List(fields.String())


class ComparedPropertySchema(Schema):
    property = fields.String()
    first = fields.Raw(allow_none=True)
    second = fields.Raw(allow_none=True)
    same = fields.Boolean()


class CaseDetailSchema(CaseSchema):
    sides = fields.List(fields.Nested(CaseSideSchema), metadata={"description": "Side by side."})
    comparison = fields.List(fields.Nested(ComparedPropertySchema))


class CasePageSchema(Schema):
    cases = fields.List(fields.Nested(CaseSchema))
    next_after = fields.Integer(allow_none=True)


class CaseQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf([*CASE_STATES, "all"]))
    commune = fields.String(metadata={"description": 'Commune path, e.g. "11/03325".'})
    after = fields.Integer(validate=validate.Range(min=0))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DecisionSchema(Schema):
    """merge (survivor, values: property -> the household whose value to keep), distinct,
    or undo (a merge or a distinct decision)."""

    decision = fields.String(required=True, validate=validate.OneOf(["merge", "distinct", "undo"]))
    survivor = fields.String()
    values = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class DoubleEntrySchema(Schema):
    """A submission flagged as a probable double entry of `original` (D4)."""

    id = fields.Integer()
    status = fields.String(validate=validate.OneOf(ENTRY_STATES))
    household = fields.String()
    submission = fields.String(allow_none=True, metadata={"description": "The later one."})
    original = fields.String(allow_none=True)
    submitter = fields.String(allow_none=True)
    commune = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)


class DoubleEntryPageSchema(Schema):
    double_entries = fields.List(fields.Nested(DoubleEntrySchema))
    next_after = fields.Integer(allow_none=True)


class DoubleEntryQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf([*ENTRY_STATES, "all"]))
    after = fields.Integer(validate=validate.Range(min=0))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DoubleEntryDecisionSchema(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(ENTRY_STATES),
        metadata={"description": "confirmed (left out of reports), dismissed (counted), open"},
    )


@bp.get("/duplicates")
@login_required()
def list_cases():
    """Duplicate cases in the caller's communes, oldest first, paged (`after`, `limit`).

    `status`: open (default), auto_linked, merged, distinct, unlinked or all;
    `commune` filters by the commune's path.
    """
    query = params.load(CaseQuerySchema(), request.args.to_dict())
    commune = query.pop("commune", None)
    if commune is not None:
        unit = admin_units.find(commune)
        if unit is None:
            raise Problem("404.6", unit=commune)
        query["commune"] = unit.id
    page = duplicates.list_cases(current_user(), **query)
    return CasePageSchema().dump(
        {"cases": [duplicates.describe(c) for c in page.items], "next_after": page.next_after}
    )


@bp.get("/duplicates/<int:case_id>")
@login_required()
def show_case(case_id: int):
    """One case with both households side by side, property by property, and the score."""
    case = duplicates.case_for(current_user(), case_id)
    return CaseDetailSchema().dump(duplicates.describe(case, full=True))


@bp.post("/duplicates/<int:case_id>/decision")
@login_required()
def decide_case(case_id: int):
    """Merge the pair, mark it as two households, or undo the last decision (reviewers).

    A merge keeps `survivor` and, for each property named in `values`, the value of the
    household named there; the other household's id then redirects to the survivor.
    """
    body = params.load(DecisionSchema(), request.get_json(silent=True))
    choice = {}
    if body["decision"] == "merge":
        if not body.get("survivor"):
            raise Problem("400.2", field="survivor")
        choice = {"survivor": body["survivor"], "values": body["values"]}
    case = duplicates.decide_for(current_user(), case_id, body["decision"], **choice)
    return CaseDetailSchema().dump(duplicates.describe(case, full=True))


@bp.get("/double-entries")
@login_required()
def list_double_entries():
    """Submissions flagged as probable double entries in the caller's communes (D4)."""
    query = params.load(DoubleEntryQuerySchema(), request.args.to_dict())
    page = duplicates.list_double_entries(current_user(), **query)
    items = [duplicates.describe_double_entry(e) for e in page.items]
    return DoubleEntryPageSchema().dump({"double_entries": items, "next_after": page.next_after})


@bp.post("/double-entries/<int:entry_id>/decision")
@login_required()
def decide_double_entry(entry_id: int):
    """Confirm a flagged double entry (left out of reports) or dismiss it (counted again)."""
    body = params.load(DoubleEntryDecisionSchema(), request.get_json(silent=True))
    entry = duplicates.decide_double_entry_for(current_user(), entry_id, body["status"])
    return DoubleEntrySchema().dump(duplicates.describe_double_entry(entry))
