"""Quarantined payloads as reviewers see them (sync contract R3-R5).

Dumped from the dicts `server.services.receiving.quarantine.describe` builds (the
reason in the reader's language, names instead of ids).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.schemas.fields import Int64


class KeptAttachmentSchema(Schema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class QuarantineItemSchema(Schema):
    """One kept payload: why it was kept, what it claims to be, who sent it."""

    id = fields.Integer()
    reason_code = fields.String(
        metadata={"description": "Problem code: 409.x (R3, R4), 404.x (R4, R5)."}
    )
    message = fields.String(metadata={"description": "Why it was kept, in the reader's language."})
    instance_id = fields.String(allow_none=True)
    form_id = fields.String(allow_none=True)
    form_version = fields.String(allow_none=True)
    linked_instance_id = fields.String(
        allow_none=True,
        metadata={"description": "The stored submission it conflicts with, or became."},
    )
    submitter = fields.String(allow_none=True)
    device = fields.String(allow_none=True)
    content_type = fields.String()
    sha256 = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(KeptAttachmentSchema))
    created_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class PayloadSchema(Schema):
    encoding = fields.String(validate=validate.OneOf(["utf-8", "base64"]))
    text = fields.String()


class QuarantineDetailSchema(QuarantineItemSchema):
    payload = fields.Nested(PayloadSchema, metadata={"description": "The body as received."})


class QuarantinePageSchema(Schema):
    items = fields.List(fields.Nested(QuarantineItemSchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "Pass as `after` for the next page."}
    )


class QuarantineQuerySchema(Schema):
    state = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved", "all"]))
    reason = fields.String()
    form_id = fields.String()
    after = Int64()
    limit = Int64(load_default=50, minimum=1, maximum=200)


class ReprocessSchema(Schema):
    """What ingest answered when the item was run again, and the item afterwards."""

    result = fields.String(metadata={"description": "accepted | duplicate | invalid | quarantined"})
    status = fields.Integer()
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    item = fields.Nested(QuarantineItemSchema)
