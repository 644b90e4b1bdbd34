"""The support ledger's API documents: kinds, entries, repayments, list filters."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from forms.library.support_kinds import UNITS
from server.models.support import SupportCategory, SupportSource
from server.schemas.fields import NO_CONTROL, Int64
from server.schemas.programme import PageQuerySchema

CATEGORIES = [c.value for c in SupportCategory]
SOURCES = [s.value for s in SupportSource]
#: The largest VND amount an entry may carry (a BIGINT column, with room to total).
MAX_VND = 10**15


def _text(length: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=length), NO_CONTROL], **kwargs)


class KindSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    unit = fields.String()
    name_vi = fields.String()
    name_en = fields.String()
    group = fields.String(allow_none=True)
    counts_pupils = fields.Boolean()
    position = fields.Integer()
    active = fields.Boolean()


class KindListSchema(Schema):
    kinds = fields.List(fields.Nested(KindSchema))


class KindCreateSchema(Schema):
    code = _text(40, required=True, metadata={"description": "a-z, 0-9 and _."})
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    unit = fields.String(required=True, validate=validate.OneOf(list(UNITS)))
    name_vi = _text(200, required=True)
    name_en = _text(200, load_default="")
    group = _text(40, allow_none=True)
    counts_pupils = fields.Boolean(load_default=False)


class RepaymentSchema(Schema):
    id = fields.Integer()
    paid_on = fields.Date()
    amount_vnd = fields.Integer()
    note = fields.String(allow_none=True)


class EntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "The kind's code."})
    kind_name = fields.String()
    kind_other = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    household = fields.String(allow_none=True)
    commune = fields.String(allow_none=True, metadata={"description": "The commune's path."})
    village = fields.String(allow_none=True, metadata={"description": "The village's path."})
    quantity = fields.Float(allow_none=True)
    unit = fields.String()
    value_vnd = fields.Integer(allow_none=True)
    pupils = fields.Integer(allow_none=True)
    given_on = fields.Date()
    source = fields.String(validate=validate.OneOf(SOURCES))
    source_agency = fields.String(allow_none=True, metadata={"description": "Agency code."})
    source_user = fields.String(allow_none=True, metadata={"description": "Username."})
    source_name = fields.String(allow_none=True)
    submission_id = fields.Integer(allow_none=True)
    item_index = fields.Integer(allow_none=True)
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    outstanding_vnd = fields.Integer(allow_none=True, metadata={"description": "Loans only."})
    repayments = fields.List(fields.Nested(RepaymentSchema))


class EntryPageSchema(Schema):
    entries = fields.List(fields.Nested(EntrySchema))
    next_after = fields.Integer(allow_none=True)


class EntryQuerySchema(PageQuerySchema):
    unit = _text(200, metadata={"description": "A commune's or village's path (11/03325)."})
    household = _text(100, metadata={"description": "A household's id or household code."})
    kind = _text(40, metadata={"description": "A kind's code."})
    source = fields.String(validate=validate.OneOf(SOURCES))
    agency = _text(40, metadata={"description": "The giving agency's code."})
    date_from = fields.Date()
    date_to = fields.Date()
    voided = fields.Boolean(load_default=False)


class EntryCreateSchema(Schema):
    kind = _text(40, required=True, metadata={"description": "A kind's code."})
    household = _text(100, metadata={"description": "Id or household code (or give `unit`)."})
    unit = _text(200, metadata={"description": "A commune's or village's path."})
    quantity = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1e12))
    unit_of_quantity = fields.String(
        validate=validate.OneOf(list(UNITS)), metadata={"description": "For kind `other`."}
    )
    value_vnd = Int64(maximum=MAX_VND, allow_none=True)
    pupils = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100000))
    given_on = fields.Date()
    source = fields.String(validate=validate.OneOf(SOURCES))
    agency = _text(40, metadata={"description": "The giving agency's code (source agency)."})
    source_name = _text(300, allow_none=True)
    kind_other = _text(300, allow_none=True)
    description = _text(5000, allow_none=True)


class VoidSchema(Schema):
    reason = _text(1000, required=True)


class RepayCreateSchema(Schema):
    amount_vnd = Int64(minimum=1, maximum=MAX_VND, required=True)
    paid_on = fields.Date()
    note = _text(1000, allow_none=True)
