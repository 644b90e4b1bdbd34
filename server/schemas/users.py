"""Users and devices as the JSON API shows and takes them (administration)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models import Role
from server.schemas.fields import NO_CONTROL, Int64

ROLES = [r.value for r in Role]
#: The largest user id (an INTEGER column on PostgreSQL).
MAX_ID = 2**31 - 1
_TEXT = [validate.Length(min=1, max=200), NO_CONTROL]


class UnitRefSchema(Schema):
    path = fields.String()
    name = fields.String()


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    units = fields.List(fields.Nested(UnitRefSchema))
    agency = fields.String(allow_none=True, metadata={"description": "The agency's code."})
    created_at = fields.AwareDateTime()


class UserPageSchema(Schema):
    users = fields.List(fields.Nested(UserSchema))
    next_after = fields.Integer(allow_none=True)


class UserQuerySchema(Schema):
    q = fields.String(
        validate=NO_CONTROL, metadata={"description": "Part of the user name or full name."}
    )
    role = fields.String(validate=validate.OneOf(ROLES))
    unit = fields.String(
        metadata={"description": 'Users working at or below this unit path, e.g. "11/03325".'}
    )
    active = fields.Boolean()
    after = Int64(minimum=0, maximum=MAX_ID)
    limit = Int64(load_default=50, minimum=1, maximum=200)


_ROLE_HELP = (
    "cadre, commune_official, coordinator, agency_lead or admin; Vietnamese names such as "
    '"cán bộ", "cán bộ xã", "điều phối", "trưởng cơ quan", "quản trị" are accepted too.'
)
_UNITS_HELP = 'Unit paths ("11/03325/01") or commune codes ("03325").'


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=[validate.Length(min=1, max=80), NO_CONTROL])
    full_name = fields.String(required=True, validate=_TEXT)
    role = fields.String(required=True, validate=_TEXT, metadata={"description": _ROLE_HELP})
    units = fields.List(
        fields.String(validate=_TEXT), load_default=list, metadata={"description": _UNITS_HELP}
    )
    agency = fields.String(
        allow_none=True, validate=[validate.Length(max=40), NO_CONTROL], load_default=None
    )
    password = fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(min=8, max=200), NO_CONTROL],
        metadata={"description": "Optional: without one the user signs in by device only."},
    )


class UserUpdateSchema(Schema):
    """Only the fields given change."""

    full_name = fields.String(validate=_TEXT)
    role = fields.String(validate=_TEXT, metadata={"description": _ROLE_HELP})
    units = fields.List(fields.String(validate=_TEXT), metadata={"description": _UNITS_HELP})
    agency = fields.String(allow_none=True, validate=[validate.Length(max=40), NO_CONTROL])


class PasswordResetSchema(Schema):
    username = fields.String()
    password = fields.String(metadata={"description": "The temporary password, shown once."})


class ImportResultSchema(Schema):
    created = fields.List(fields.Nested(UserSchema))


class DeviceSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String(attribute="user.username")
    name = fields.String()
    created_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class DeviceListSchema(Schema):
    devices = fields.List(fields.Nested(DeviceSchema))


class EnrolRequestSchema(Schema):
    name = fields.String(
        load_default="ODK Collect", validate=[validate.Length(min=1, max=120), NO_CONTROL]
    )


class EnrolmentSchema(Schema):
    """A new device: token and URL are shown this once (only the token's hash is kept)."""

    device = fields.Nested(DeviceSchema)
    token = fields.String()
    url = fields.String(metadata={"description": "The server URL for ODK Collect."})
    settings = fields.Dict(metadata={"description": "ODK Collect's settings JSON."})
    qr_payload = fields.String(
        metadata={"description": "The QR code's text: the settings, zlib-compressed, Base64."}
    )
    qr_svg = fields.String(metadata={"description": "The QR code as an SVG document."})
