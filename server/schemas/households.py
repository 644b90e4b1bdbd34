"""Households, their versions and conflicts as the JSON API shows them (H3, H7).

Dumped from the dicts the services build; loaded from queries and bodies by the views.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models import HouseholdStatus
from server.schemas.fields import Int64

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
    limit = Int64(load_default=50, minimum=1, maximum=200)


class ResolutionSchema(Schema):
    """The value to keep for each conflicting property."""

    values = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
