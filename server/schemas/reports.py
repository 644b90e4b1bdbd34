"""The programme's reports through the JSON API: figures, tables (`tables.Table.as_dict`),
drill-down children, chart data; and a page of the records behind a figure."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.services.reports.records import FIGURES
from server.services.reports.selection import LEVELS

_ID = {"description": "An id (digits)."}


class ReportQuerySchema(Schema):
    """Documented parameters; the service reads them and answers 400.5x when one is wrong."""

    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    unit = fields.String(
        metadata=_ID | {"description": "Admin unit id (province, district, commune)."}
    )
    agency = fields.String(metadata={"description": "Agency id (level agency)."})
    year = fields.String(metadata={"description": "A year, e.g. 2026."})
    phase = fields.String(metadata={"description": "A phase, e.g. 2021-2025."})
    from_ = fields.String(data_key="from", metadata={"description": "First day (ISO)."})
    to = fields.String(metadata={"description": "Last day, included (ISO)."})
    lang = fields.String(validate=validate.OneOf(["vi", "en"]))


class RecordsQuerySchema(ReportQuerySchema):
    figure = fields.String(required=True, validate=validate.OneOf(FIGURES))
    kind = fields.String(metadata={"description": "Support kind code (support figures)."})
    source = fields.String(metadata={"description": "Source type (support figures)."})
    category = fields.String(metadata={"description": "Unit category (communes)."})
    cadre = fields.String(metadata={"description": "User id of the visiting cadre (visits)."})
    by_agency = fields.String(metadata={"description": "Agency id of the visitors, or none."})
    after = fields.String(metadata={"description": "`next_after` of the previous page."})
    limit = fields.String(metadata={"description": "Rows per page (at most 200)."})


class PeriodSchema(Schema):
    label = fields.String()
    start = fields.Date()
    end = fields.Date(metadata={"description": "The first day after the period."})


class FigureSchema(Schema):
    key = fields.String()
    label = fields.String()
    value = fields.Raw(metadata={"description": "A count, an amount in VND, or a share 0..1."})
    kind = fields.String()
    href = fields.String(metadata={"description": "The records behind it, on the site."})
    api_href = fields.String(metadata={"description": "The same records through this API."})


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    kind = fields.String()


class TableSchema(Schema):
    key = fields.String()
    title = fields.String()
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(
        fields.List(fields.Dict()),
        metadata={"description": "Rows of cells {value, href}, one per column."},
    )


class ChildSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    level = fields.String()
    href = fields.String(allow_none=True, metadata={"description": "Its own report (site)."})
    helped = fields.Integer()
    household_times = fields.Integer()
    escaped = fields.Integer()
    support = fields.Integer(metadata={"description": "Value of support, VND."})
    pupils = fields.Integer()


class ReportSchema(Schema):
    title = fields.String()
    level = fields.String()
    name = fields.String()
    period = fields.Nested(PeriodSchema)
    figures = fields.List(fields.Nested(FigureSchema))
    tables = fields.List(fields.Nested(TableSchema))
    children = fields.List(fields.Nested(ChildSchema))
    charts = fields.Dict()
    xlsx = fields.String(metadata={"description": "The report as an XLSX file (site route)."})


class RecordsSchema(Schema):
    figure = fields.String()
    table = fields.Nested(TableSchema)
    next_after = fields.String(
        allow_none=True, metadata={"description": "Pass as `after` for the next page."}
    )
