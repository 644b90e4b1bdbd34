"""Token-visit monitoring through the JSON API: the overview (rates per commune, agency or
cadre, the trend by month), a page of flags, one flag with its evidence, a judgement."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.services.monitoring.catalogue import CHECKS

_STATES = ["open", "confirmed", "dismissed"]


class OverviewQuerySchema(Schema):
    group = fields.String(validate=validate.OneOf(["commune", "agency", "cadre"]))
    year = fields.String(metadata={"description": "A year, e.g. 2026."})
    phase = fields.String(metadata={"description": "A phase, e.g. 2021-2025."})
    from_ = fields.String(data_key="from", metadata={"description": "First day (ISO)."})
    to = fields.String(metadata={"description": "Last day, included (ISO)."})
    lang = fields.String(validate=validate.OneOf(["vi", "en"]))


class GroupRowSchema(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String()
    visits = fields.Integer()
    flagged = fields.Integer()
    flagged_rate = fields.Float(allow_none=True)
    by_check = fields.Dict(keys=fields.String(), values=fields.Integer())
    states = fields.Dict(keys=fields.String(), values=fields.Integer())


class MonthSchema(Schema):
    month = fields.String()
    visits = fields.Integer()
    flagged = fields.Integer()


class CheckSchema(Schema):
    code = fields.String()
    title = fields.String()


class OverviewSchema(Schema):
    period = fields.Dict()
    group = fields.String()
    checks = fields.List(fields.Nested(CheckSchema))
    rows = fields.List(fields.Nested(GroupRowSchema))
    months = fields.List(fields.Nested(MonthSchema))


class FlagQuerySchema(Schema):
    check = fields.String(validate=validate.OneOf(list(CHECKS)))
    state = fields.String(validate=validate.OneOf(_STATES))
    commune = fields.String(metadata={"description": "Commune id."})
    cadre = fields.String(metadata={"description": "User id of the cadre."})
    agency = fields.String(metadata={"description": "Agency id."})
    month = fields.String(metadata={"description": "A month, e.g. 2026-06."})
    after = fields.String(metadata={"description": "`next_after` of the previous page."})
    limit = fields.String(metadata={"description": "Flags per page (at most 200)."})
    lang = fields.String(validate=validate.OneOf(["vi", "en"]))


class FlagSchema(Schema):
    id = fields.Integer()
    check = fields.String()
    title = fields.String()
    reason = fields.String()
    subject = fields.String()
    state = fields.String()
    observed_on = fields.Date()
    params = fields.Dict()
    commune_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    agency_id = fields.Integer(allow_none=True)
    household_id = fields.String(allow_none=True)
    submission = fields.String(allow_none=True, metadata={"description": "Instance id."})
    comment = fields.String(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class FlagPageSchema(Schema):
    flags = fields.List(fields.Nested(FlagSchema))
    next_after = fields.String(allow_none=True)


class EvidenceSchema(Schema):
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    form_seconds = fields.Float(allow_none=True)
    clock_offset_seconds = fields.Float(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    distance_m = fields.Float(allow_none=True)


class ComparedSchema(Schema):
    name = fields.String()
    now = fields.Raw(allow_none=True)
    before = fields.Raw(allow_none=True)
    same = fields.Boolean()


class RunVisitSchema(EvidenceSchema):
    submission = fields.String(allow_none=True)


class FlagDetailSchema(FlagSchema):
    evidence = fields.Nested(EvidenceSchema, allow_none=True)
    previous_visit = fields.Nested(RunVisitSchema, allow_none=True)
    compared = fields.List(fields.Nested(ComparedSchema))
    run = fields.List(fields.Nested(RunVisitSchema))


class DecisionSchema(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf(["confirm", "dismiss", "reopen"])
    )
    comment = fields.String(required=True)


class AgencyVisitCreateSchema(Schema):
    agency = fields.String(required=True, metadata={"description": "Agency code."})
    commune = fields.String(required=True, metadata={"description": "Commune path, e.g. 11/03325."})
    visited_on = fields.Date(required=True)
    days = fields.Float(
        required=True, metadata={"description": "Length of the stay (0.5: a morning)."}
    )
    people = fields.Integer(load_default=1)
    names = fields.String(load_default=None, validate=validate.Length(max=1000))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    result = fields.String(load_default=None, validate=validate.Length(max=4000))
    planned = fields.Boolean(load_default=False)


class AgencyVisitSchema(Schema):
    id = fields.Integer()
    agency_id = fields.Integer()
    commune_id = fields.Integer()
    visited_on = fields.Date()
    days = fields.Float()
    people = fields.Integer()
    names = fields.String(allow_none=True)
    purpose = fields.String()
    result = fields.String(allow_none=True)
    planned = fields.Boolean()
    recorded_by_id = fields.Integer(allow_none=True)
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class AgencyVisitQuerySchema(Schema):
    agency = fields.String(metadata={"description": "Agency id."})
    commune = fields.String(metadata={"description": "Commune id."})
    year = fields.String(metadata={"description": "A year, e.g. 2026."})
    after = fields.String(metadata={"description": "`next_after` of the previous page."})
    limit = fields.String(metadata={"description": "Stays per page (at most 200)."})


class AgencyVisitPageSchema(Schema):
    visits = fields.List(fields.Nested(AgencyVisitSchema))
    next_after = fields.String(allow_none=True)


class PlanCreateSchema(Schema):
    agency = fields.String(required=True, metadata={"description": "Agency code."})
    commune = fields.String(required=True, metadata={"description": "Commune path."})
    year = fields.Integer(required=True)
    visits_planned = fields.Integer(required=True)
    days_planned = fields.Float(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=1000))


class PlanSchema(Schema):
    id = fields.Integer()
    agency_id = fields.Integer()
    commune_id = fields.Integer()
    year = fields.Integer()
    visits_planned = fields.Integer()
    days_planned = fields.Float()
    note = fields.String(allow_none=True)
    stays = fields.Integer()
    days = fields.Float()


class PlanQuerySchema(Schema):
    year = fields.String(metadata={"description": "A year, e.g. 2026 (this year by default)."})


class PlanListSchema(Schema):
    plans = fields.List(fields.Nested(PlanSchema))
