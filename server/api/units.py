"""Admin units the caller may see."""

from __future__ import annotations

from flask import Blueprint

from server.api.auth import current_user, login_required
from server.schemas import AdminUnitSchema
from server.services.programme import units as admin_units

bp = Blueprint("units", __name__)


@bp.get("/units")
@login_required()
def list_units():
    """The admin units in the caller's scope and above it, by path."""
    return {"units": AdminUnitSchema(many=True).dump(admin_units.visible(current_user()))}
