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


class AssignSchema(Schema):
    reviewer_id = fields.Integer(required=True)
    household_ids = fields.List(fields.String(), required=True, validate=validate.Length(1, 1000))


class AssessSchema(Schema):
    instance_id = fields.String(load_default=None)


class MeetingSchema(Schema):
    date = fields.Date(required=True)
    attendance = fields.Integer(required=True)
    disagreed = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class ProposalSchema(Schema):
    date = fields.Date(required=True)


class DecisionSchema(Schema):
    number = fields.String(required=True)
    date = fields.Date(required=True)
