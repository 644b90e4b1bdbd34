"""Forms and form versions as the JSON API shows them."""

from __future__ import annotations

from marshmallow import Schema, fields

from server.models import FormState


class FormVersionSchema(Schema):
    form_id = fields.String(attribute="form.form_id")
    version = fields.String()
    title = fields.String()
    state = fields.Enum(FormState, by_value=True)
    hash = fields.Function(lambda v: f"md5:{v.md5}")
    source_filename = fields.String()
    entity_dataset = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)


class FormSchema(Schema):
    """A form with the versions the reader may see; dumped from a dict built by the view."""

    form_id = fields.String()
    title = fields.String()
    unit = fields.String(allow_none=True)
    versions = fields.List(fields.Nested(FormVersionSchema))
