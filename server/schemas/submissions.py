"""Submissions as reviewers list them through the JSON API (the review queue)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models import ReviewState
from server.schemas.fields import Int64


class SubmissionSchema(Schema):
    id = fields.Integer()
    instance_id = fields.String()
    form_id = fields.String()
    version = fields.String()
    review_state = fields.String()
    commune = fields.String(
        allow_none=True,
        metadata={"description": "Path of its commune; none when it waits for its sender's."},
    )
    village = fields.String(allow_none=True)
    submitter = fields.String(allow_none=True, metadata={"description": "The sender's name."})
    received_at = fields.AwareDateTime()


class SubmissionPageSchema(Schema):
    submissions = fields.List(fields.Nested(SubmissionSchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "Pass as `after` for the next page."}
    )


class SubmissionQuerySchema(Schema):
    commune = fields.String(
        metadata={
            "description": "A commune's path: only its queue (with what its people sent "
            "on forms that name no place)."
        }
    )
    state = fields.String(validate=validate.OneOf([s.value for s in ReviewState]))
    after = Int64()
    limit = Int64(load_default=50, minimum=1, maximum=200)
