"""Agency assignments: which agency helps which commune or village, when, under which category.

Coordinators assign inside their area and admins anywhere; everyone lists the assignments of
their own area (an agency lead, their agency's).
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.db import db
from server.models.programme import AgencyAssignment
from server.problems import Problem
from server.schemas.programme import (
    AssignmentCreateSchema,
    AssignmentPageSchema,
    AssignmentQuerySchema,
    AssignmentSchema,
    EndSchema,
)
from server.services.paging import keyset_page
from server.services.programme import agencies, today

# Ids are INTEGER columns: a larger one is answered 404 by the route (schemas.programme.MAX_ID).
bp = Blueprint("assignments", __name__)


def shown(assignment: AgencyAssignment) -> dict:
    on = today()
    running = assignment.starts_on <= on and (assignment.ends_on is None or assignment.ends_on > on)
    return {
        "id": assignment.id,
        "agency": assignment.agency.code,
        "agency_name": assignment.agency.name,
        "unit": assignment.unit.path,
        "unit_name": assignment.unit.name,
        "category": assignment.category,
        "phase": assignment.phase,
        "starts_on": assignment.starts_on,
        "ends_on": assignment.ends_on,
        "note": assignment.note,
        "current": running,
    }


@bp.get("/assignments")
@login_required()
def list_assignments():
    """The assignments of the caller's area by id, paged; filters `agency` (code), `unit`
    (path: that unit and below) and `current` (running today)."""
    query = params.load(AssignmentQuerySchema(), request.args.to_dict())
    stmt = agencies.assignments(
        current_user(),
        agency=lookups.agency(query.get("agency")),
        unit=lookups.unit(query.get("unit")),
        current=query["current"],
    ).order_by(None)
    page = keyset_page(stmt, AgencyAssignment.id, query.get("after"), query["limit"])
    return AssignmentPageSchema().dump(
        {"assignments": [shown(a) for a in page.items], "next_after": page.next_after}
    )


@bp.post("/assignments")
@login_required()
def create_assignment():
    """Assign an agency to a commune or village (201) for a `phase` ("2021-2025") or dates,
    under a `category`; an overlapping assignment of the same two is refused (409.30)."""
    body = params.load(AssignmentCreateSchema(), request.get_json(silent=True))
    made = agencies.assign(
        lookups.agency(body["agency"]),
        lookups.unit(body["unit"]),
        body["category"],
        phase=body.get("phase"),
        starts_on=body.get("starts_on"),
        ends_on=body.get("ends_on"),
        note=body.get("note"),
        actor=current_user(),
    )
    return AssignmentSchema().dump(shown(made)), 201


@bp.post("/assignments/<int(max=2147483647):assignment_id>/end")
@login_required()
def end_assignment(assignment_id: int):
    """End an assignment on `on` (today by default); the row stays as history."""
    body = params.load(EndSchema(), request.get_json(silent=True) or {})
    stmt = agencies.assignments(current_user()).where(AgencyAssignment.id == assignment_id)
    found = db.session.scalar(stmt)
    if found is None:
        raise Problem("404.21", assignment=assignment_id)
    ended = agencies.end_assignment(found, on=body.get("on"), actor=current_user())
    return AssignmentSchema().dump(shown(ended))
