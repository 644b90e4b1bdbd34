"""Admin units as the JSON API shows them."""

from __future__ import annotations

from marshmallow import Schema, fields

from server.models import UnitLevel


class AdminUnitSchema(Schema):
    code = fields.String()
    path = fields.String()
    name = fields.String()
    level = fields.Enum(UnitLevel, by_value=True)
    kind = fields.String(allow_none=True)
