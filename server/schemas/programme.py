"""Agencies, their assignments, pairs and imports as the JSON API shows and reads them.

People and places are named as people name them: an agency by its code, a unit by its path
("11/03325"), a user by their username, a household by its id or household code. Dumped from
the dicts the views build (`server.api.agencies`, `assignments`, `pairs`, `units`).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models.programme import AgencyKind, AgencyLevel, UnitCategory
from server.schemas.fields import NO_CONTROL, Int64
from server.schemas.units import AdminUnitSchema


def _text(length: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=length), NO_CONTROL], **kwargs)


KINDS = [k.value for k in AgencyKind]
LEVELS = [v.value for v in AgencyLevel]
CATEGORIES = [c.value for c in UnitCategory]


#: The largest id of the programme's tables (INTEGER columns); the routes' `<int(max=...)>`
#: answer 404 past it, so no value out of a column's range reaches the database.
MAX_ID = 2**31 - 1


class PageQuerySchema(Schema):
    after = Int64(maximum=MAX_ID, metadata={"description": "The previous page's `next_after`."})
    limit = Int64(minimum=1, maximum=200, load_default=50)


# -- agencies -----------------------------------------------------------------------------------


class AgencySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(validate=validate.OneOf(KINDS))
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent = fields.String(allow_none=True, metadata={"description": "The parent's code."})
    home_unit = fields.String(allow_none=True, metadata={"description": "Unit path."})
    lead = fields.String(allow_none=True, metadata={"description": "The lead's username."})
    active = fields.Boolean()


class AgencyPageSchema(Schema):
    agencies = fields.List(fields.Nested(AgencySchema))
    next_after = fields.Integer(allow_none=True)


class AgencyCreateSchema(Schema):
    code = _text(40, required=True)
    name = _text(300, required=True)
    kind = fields.String(validate=validate.OneOf(KINDS), load_default=AgencyKind.AGENCY.value)
    level = fields.String(validate=validate.OneOf(LEVELS), load_default=AgencyLevel.PROVINCE.value)
    parent = _text(40, allow_none=True, metadata={"description": "The parent agency's code."})
    home_unit = _text(200, allow_none=True, metadata={"description": 'Unit path, e.g. "11".'})
    lead = _text(80, allow_none=True, metadata={"description": "The lead's username."})


class AgencyUpdateSchema(Schema):
    name = _text(300)
    kind = fields.String(validate=validate.OneOf(KINDS))
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent = _text(40, allow_none=True)
    home_unit = _text(200, allow_none=True)
    lead = _text(80, allow_none=True)
    active = fields.Boolean()


# -- assignments -------------------------------------------------------------------------------


class AssignmentSchema(Schema):
    id = fields.Integer()
    agency = fields.String(metadata={"description": "The agency's code."})
    agency_name = fields.String()
    unit = fields.String(metadata={"description": "The commune's or village's path."})
    unit_name = fields.String()
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    phase = fields.String(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True, metadata={"description": "First day it no longer runs."})
    note = fields.String(allow_none=True)
    current = fields.Boolean()


class AssignmentPageSchema(Schema):
    assignments = fields.List(fields.Nested(AssignmentSchema))
    next_after = fields.Integer(allow_none=True)


class AssignmentQuerySchema(PageQuerySchema):
    agency = _text(40, metadata={"description": "An agency's code."})
    unit = _text(200, metadata={"description": "A unit path: its assignments and below."})
    current = fields.Boolean(load_default=False)


class AssignmentCreateSchema(Schema):
    agency = _text(40, required=True, metadata={"description": "The agency's code."})
    unit = _text(200, required=True, metadata={"description": "A commune or village path."})
    category = fields.String(validate=validate.OneOf(CATEGORIES), load_default="poor")
    phase = fields.String(
        validate=validate.Regexp(r"^\d{4}-\d{4}$"), metadata={"description": '"2021-2025"'}
    )
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "First day it no longer runs."})
    note = _text(1000, allow_none=True)


class EndSchema(Schema):
    on = fields.Date(metadata={"description": "The first day it no longer runs (today)."})
    reason = _text(200, allow_none=True)


# -- pairs -------------------------------------------------------------------------------------


class PairSchema(Schema):
    id = fields.Integer()
    household = fields.String(metadata={"description": "The household's id."})
    household_label = fields.String(allow_none=True)
    helper = fields.String(metadata={"description": "A username, or an agency's code."})
    helper_kind = fields.String(validate=validate.OneOf(["user", "agency"]))
    helper_name = fields.String()
    priority = fields.Integer(allow_none=True)
    capacity_note = fields.String(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    end_reason = fields.String(allow_none=True)
    replaced_by = fields.Integer(allow_none=True, metadata={"description": "The next pair."})
    current = fields.Boolean()


class PairPageSchema(Schema):
    pairs = fields.List(fields.Nested(PairSchema))
    next_after = fields.Integer(allow_none=True)


class PairQuerySchema(PageQuerySchema):
    household = _text(100, metadata={"description": "A household's id or household code."})
    helper = _text(80, metadata={"description": "A username or an agency's code."})
    current = fields.Boolean(load_default=True)


class PairCreateSchema(Schema):
    household = _text(100, required=True, metadata={"description": "Id or household code."})
    helper = _text(80, required=True, metadata={"description": "Username or agency code."})
    priority = fields.Integer(validate=validate.Range(min=1, max=32767), allow_none=True)
    capacity_note = _text(1000, allow_none=True)
    starts_on = fields.Date()


class ReassignSchema(Schema):
    helper = _text(80, required=True, metadata={"description": "Username or agency code."})
    reason = _text(200, allow_none=True)


# -- units and imports --------------------------------------------------------------------------


class ProvinceImportSchema(Schema):
    province = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,3}$"))
    communes = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{1,6}$")))
    districts = fields.Boolean(load_default=False)


class ProvinceImportResultSchema(Schema):
    province = fields.Nested(AdminUnitSchema)
    districts = fields.Integer()
    communes = fields.Integer()
    created = fields.Integer()


class VillageCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_CONTROL])
    code = fields.String(validate=validate.Regexp(r"^[0-9A-Za-z_-]{1,32}$"))
    kind = _text(40, load_default="Thôn")


class RowErrorSchema(Schema):
    row = fields.Integer()
    column = fields.String()
    message = fields.String()


class ImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema))
