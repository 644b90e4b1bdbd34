"""Exports as the JSON API shows them, and what a request for one holds."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models import ExportStatus, ReviewState
from server.schemas.fields import Int64

KINDS = ("submissions", "households", "ledger", "report", "monitoring")
FORMATS = ("csv", "xlsx")


class ExportQuerySchema(Schema):
    """The query of a direct download (a report's: the /reports page's parameters as well)."""

    form = fields.String(
        validate=validate.Length(max=200), metadata={"description": "submissions: the form id"}
    )
    labels = fields.String(
        allow_none=True,
        validate=validate.OneOf(["vi", "en"]),
        metadata={"description": "choices as labels in this language; codes when absent"},
    )
    review_states = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in ReviewState])),
        validate=validate.Length(max=5),
    )
    include_superseded = fields.Boolean(load_default=False)
    year = fields.String(validate=validate.Length(max=10))
    phase = fields.String(validate=validate.Length(max=20))
    from_ = fields.String(data_key="from", validate=validate.Length(max=20))
    to = fields.String(validate=validate.Length(max=20))
    lang = fields.String(load_default="vi", validate=validate.OneOf(["vi", "en"]))


class ExportRequestSchema(ExportQuerySchema):
    """POST /api/v1/exports."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    report = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(max=200)),
        metadata={"description": "report: the /reports page's parameters"},
    )


class ExportJobSchema(Schema):
    id = Int64()
    kind = fields.String()
    format = fields.String()
    params = fields.Dict(keys=fields.String(), values=fields.Raw())
    status = fields.String(validate=validate.OneOf([s.value for s in ExportStatus]))
    rows_done = fields.Integer()
    rows_total = fields.Integer(allow_none=True)
    filename = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    expired = fields.Boolean()
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    file_url = fields.String(allow_none=True)


class ExportJobListSchema(Schema):
    exports = fields.List(fields.Nested(ExportJobSchema))
