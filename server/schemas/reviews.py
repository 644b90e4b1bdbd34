"""Request bodies of the review API (issue 18)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class CampaignCreateSchema(Schema):
    commune_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    kind = fields.String(load_default="annual")
    opens_on = fields.Date(load_default=None)
    closes_on = fields.Date(load_default=None)


class EntryAddSchema(Schema):
    household_id = fields.String(required=True, validate=validate.Length(1, 36))
    reason = fields.String(load_default="applicant")


class ReviewAssignSchema(Schema):
    reviewer_id = fields.Integer(required=True)
    household_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 1000))


class ReviewAssessSchema(Schema):
    instance_id = fields.String(load_default=None)


class ReviewMeetingSchema(Schema):
    date = fields.Date(required=True)
    attendance = fields.Integer(required=True)
    disagreed = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class ReviewProposalSchema(Schema):
    date = fields.Date(required=True)


class ReviewDecisionSchema(Schema):
    number = fields.String(required=True)
    date = fields.Date(required=True)


# -- answers -----------------------------------------------------------------------------------


class ReviewMeetingOutSchema(Schema):
    date = fields.String(allow_none=True)
    attendance = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class ReviewDecisionOutSchema(Schema):
    number = fields.String(allow_none=True)
    date = fields.String(allow_none=True)


class CampaignSchema(Schema):
    id = fields.Integer()
    commune_id = fields.Integer()
    year = fields.Integer()
    kind = fields.String()
    stage = fields.String()
    opens_on = fields.String()
    closes_on = fields.String()
    meeting = fields.Nested(ReviewMeetingOutSchema)
    proposed_on = fields.String(allow_none=True)
    decision = fields.Nested(ReviewDecisionOutSchema)


class ReviewEntrySchema(Schema):
    household_id = fields.String()
    village_id = fields.Integer(allow_none=True)
    reason = fields.String()
    status_before = fields.String(allow_none=True)
    reviewer_id = fields.Integer(allow_none=True)
    assessed_status = fields.String(allow_none=True)
    assessed_version = fields.Integer(allow_none=True)
    agreed = fields.Boolean(allow_none=True)
    proposed_status = fields.String(allow_none=True)


class VillageProgressSchema(Schema):
    village_id = fields.Integer(allow_none=True)
    village = fields.String()
    listed = fields.Integer()
    assessed = fields.Integer()
    agreed = fields.Integer()


class CampaignDetailSchema(CampaignSchema):
    progress = fields.List(fields.Nested(VillageProgressSchema))
    entries = fields.List(fields.Nested(ReviewEntrySchema))


class CampaignListSchema(Schema):
    campaigns = fields.List(fields.Nested(CampaignSchema))


class AssignedSchema(Schema):
    assigned = fields.Integer()
