"""Admin units the caller may see; importing a province (admins) and adding villages
(coordinators and commune officials inside their area)."""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.db import db
from server.models import AdminUnit
from server.problems import Problem
from server.schemas import AdminUnitSchema
from server.schemas.programme import (
    ProvinceImportResultSchema,
    ProvinceImportSchema,
    VillageCreateSchema,
)
from server.services.programme import units as admin_units

# Ids are INTEGER columns: a larger one is answered 404 by the route (schemas.programme.MAX_ID).
bp = Blueprint("units", __name__)


@bp.get("/units")
@login_required()
def list_units():
    """The admin units in the caller's scope and above it, by path."""
    return {"units": AdminUnitSchema(many=True).dump(admin_units.visible(current_user()))}


@bp.post("/units/import")
@login_required()
def import_units():
    """Import a province's official units from the national list (administrators): all its
    communes or `communes` (codes); `districts` for the pre-2025 list with its districts."""
    body = params.load(ProvinceImportSchema(), request.get_json(silent=True))
    result = admin_units.import_province(
        body["province"], body.get("communes"), body["districts"], actor=current_user()
    )
    shown = {
        "province": result.province,
        "districts": len(result.districts),
        "communes": len(result.communes),
        "created": result.created,
    }
    return ProvinceImportResultSchema().dump(shown), 201 if result.created else 200


@bp.post("/units/<int(max=2147483647):unit_id>/villages")
@login_required()
def add_village(unit_id: int):
    """Add a village (thôn, bản...) to a commune of the caller's area (201); without `code`
    it is numbered after the commune's villages."""
    body = params.load(VillageCreateSchema(), request.get_json(silent=True))
    commune = db.session.get(AdminUnit, unit_id)
    if commune is None:
        raise Problem("404.6", unit=str(unit_id))
    village = admin_units.add_village(
        commune, body["name"], body.get("code"), body["kind"], actor=current_user()
    )
    return AdminUnitSchema().dump(village), 201


@bp.post("/units/villages/import")
@login_required()
def import_villages():
    """Villages from an XLSX or CSV file (multipart field `file`; columns commune, code, name,
    kind): all or nothing (400.23, or 403.16 for communes outside the caller's area, every
    row's error listed); re-sending renames."""
    data, filename = lookups.uploaded_file()
    return lookups.import_answer(admin_units.import_villages(data, filename, current_user()))
