"""Duplicate cases and double entries as the JSON API shows them (D1-D4).

Dumped from the dicts the services build; loaded from queries and bodies by the views.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models import CaseStatus, DoubleEntryStatus
from server.schemas.fields import Int64

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
    households = fields.List(
        fields.String(),
        metadata={"description": "The group's households (two or more), the opening pair first."},
    )
    separated = fields.List(
        fields.String(), metadata={"description": "Households a reviewer took out of the group."}
    )
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
    updated_at = fields.AwareDateTime(allow_none=True)


class ComparedPropertySchema(Schema):
    property = fields.String()
    first = fields.Raw(allow_none=True)
    second = fields.Raw(allow_none=True)
    values = fields.List(
        fields.Raw(allow_none=True), metadata={"description": "Each side's value, in order."}
    )
    same = fields.Boolean()
    preferred = fields.Integer(
        allow_none=True,
        metadata={"description": "The side whose value a merge keeps unless told otherwise."},
    )


class CaseDetailSchema(CaseSchema):
    sides = fields.List(fields.Nested(CaseSideSchema), metadata={"description": "Side by side."})
    preferred_survivor = fields.Integer(
        allow_none=True, metadata={"description": "The most complete side, then most recent."}
    )
    comparison = fields.List(fields.Nested(ComparedPropertySchema))


class CasePageSchema(Schema):
    cases = fields.List(fields.Nested(CaseSchema))
    next_after = fields.Integer(allow_none=True)


class CaseQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf([*CASE_STATES, "all"]))
    commune = fields.String(metadata={"description": 'Commune path, e.g. "11/03325".'})
    after = Int64()
    limit = Int64(load_default=50, minimum=1, maximum=200)


class DecisionSchema(Schema):
    """merge (survivor, values: property -> the household whose value to keep), distinct,
    separate (household: take it out of a group of three or more), or undo (a merge or a
    distinct decision)."""

    decision = fields.String(
        required=True, validate=validate.OneOf(["merge", "distinct", "separate", "undo"])
    )
    survivor = fields.String()
    household = fields.String(metadata={"description": "separate: the household taken out."})
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
    after = Int64()
    limit = Int64(load_default=50, minimum=1, maximum=200)


class DoubleEntryDecisionSchema(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(ENTRY_STATES),
        metadata={"description": "confirmed (left out of reports), dismissed (counted), open"},
    )
