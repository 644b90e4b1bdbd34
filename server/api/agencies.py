"""Agencies, teams and organisations: list, create, show, edit (coordinators in their area,
admins everywhere; every signed-in user lists what concerns their area)."""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.db import db
from server.models.programme import Agency
from server.problems import Problem
from server.schemas.programme import (
    AgencyCreateSchema,
    AgencyPageSchema,
    AgencySchema,
    AgencyUpdateSchema,
    PageQuerySchema,
)
from server.services.access import users
from server.services.paging import keyset_page
from server.services.programme import agencies

# Ids are INTEGER columns: a larger one is answered 404 by the route (schemas.programme.MAX_ID).
bp = Blueprint("agencies", __name__)


def dump(agency: Agency) -> dict:
    return AgencySchema().dump(agencies.described(agency) | {"id": agency.id})


def _lead(username: str | None):
    if username is None:
        return None
    found = users.find(username.strip().lower())
    if found is None:
        raise Problem("404.24", helper=username)
    return found


@bp.get("/agencies")
@login_required()
def list_agencies():
    """The agencies the caller may see, by id, paged (`after`, `limit`)."""
    query = params.load(PageQuerySchema(), request.args.to_dict())
    stmt = agencies.listed(current_user()).order_by(None)
    page = keyset_page(stmt, Agency.id, query.get("after"), query["limit"])
    shown = [agencies.described(a) | {"id": a.id} for a in page.items]
    return AgencyPageSchema().dump({"agencies": shown, "next_after": page.next_after})


@bp.post("/agencies")
@login_required()
def create_agency():
    """Create an agency, team or organisation (201): coordinators with a home unit in their
    area, admins anywhere. `parent` and `lead` by code and username, `home_unit` by path."""
    body = params.load(AgencyCreateSchema(), request.get_json(silent=True))
    agency = agencies.create_agency(
        body["code"],
        body["name"],
        body["kind"],
        body["level"],
        parent=lookups.agency(body.get("parent")),
        home_unit=lookups.unit(body.get("home_unit")),
        lead=_lead(body.get("lead")),
        actor=current_user(),
    )
    return dump(agency), 201


@bp.get("/agencies/<int(max=2147483647):agency_id>")
@login_required()
def show_agency(agency_id: int):
    """One agency the caller may see; 404.20 otherwise."""
    return dump(agencies.visible(current_user(), agency_id))


@bp.patch("/agencies/<int(max=2147483647):agency_id>")
@login_required()
def update_agency(agency_id: int):
    """Change an agency's name, kind, level, parent, home unit, lead or active flag
    (audited with what changed, before and after)."""
    body = params.load(AgencyUpdateSchema(), request.get_json(silent=True))
    agency = agencies.visible(current_user(), agency_id)
    changes = dict(body)
    if "parent" in changes:
        changes["parent"] = lookups.agency(changes["parent"])
    if "home_unit" in changes:
        changes["home_unit"] = lookups.unit(changes["home_unit"])
    if "lead" in changes:
        changes["lead"] = _lead(changes["lead"])
    agencies.update_agency(agency, actor=current_user(), **changes)
    return dump(db.session.get(Agency, agency_id))
