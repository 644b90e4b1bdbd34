"""marshmallow schemas: the only serialisers at the wire. Models are never dumped directly."""

from server.schemas.forms import FormSchema, FormVersionSchema
from server.schemas.system import HealthSchema
from server.schemas.units import AdminUnitSchema

__all__ = ["AdminUnitSchema", "FormSchema", "FormVersionSchema", "HealthSchema"]
