"""Duplicate households and double entries for reviewers (sync contract D1-D4).

Cases and flags are scoped to the communes of the caller (`server.services.duplicates.cases`);
only reviewers (commune officials, coordinators, admins) decide. Schemas:
`server.schemas.duplicates`.
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api.auth import current_user, login_required
from server.problems import Problem
from server.schemas.duplicates import (
    CaseDetailSchema,
    CasePageSchema,
    CaseQuerySchema,
    DecisionSchema,
    DoubleEntryDecisionSchema,
    DoubleEntryPageSchema,
    DoubleEntryQuerySchema,
    DoubleEntrySchema,
)
from server.services.duplicates import cases as duplicates
from server.services.programme import units as admin_units

bp = Blueprint("duplicates", __name__)


@bp.get("/duplicates")
@login_required()
def list_cases():
    """Duplicate cases in the caller's communes, oldest first, paged (`after`, `limit`).

    `status`: open (default), auto_linked, merged, distinct, unlinked or all;
    `commune` filters by the commune's path.
    """
    query = params.load(CaseQuerySchema(), request.args.to_dict())
    commune = query.pop("commune", None)
    if commune is not None:
        unit = admin_units.find(commune)
        if unit is None:
            raise Problem("404.6", unit=commune)
        query["commune"] = unit.id
    page = duplicates.list_cases(current_user(), **query)
    return CasePageSchema().dump(
        {"cases": [duplicates.describe(c) for c in page.items], "next_after": page.next_after}
    )


@bp.get("/duplicates/<int:case_id>")
@login_required()
def show_case(case_id: int):
    """One case with both households side by side, property by property, and the score."""
    case = duplicates.case_for(current_user(), case_id)
    return CaseDetailSchema().dump(duplicates.describe(case, full=True))


@bp.post("/duplicates/<int:case_id>/decision")
@login_required()
def decide_case(case_id: int):
    """Merge the group, mark its households as different, take one household out of a group
    of three or more (`separate`), or undo the last decision (reviewers).

    A merge keeps `survivor` and, for each property named in `values`, the value of the
    household named there; the other households' ids then redirect to the survivor.
    """
    body = params.load(DecisionSchema(), request.get_json(silent=True))
    choice = {}
    if body["decision"] == "merge":
        if not body.get("survivor"):
            raise Problem("400.2", field="survivor")
        choice = {"survivor": body["survivor"], "values": body["values"]}
    elif body["decision"] == "separate":
        if not body.get("household"):
            raise Problem("400.2", field="household")
        choice = {"household": body["household"]}
    case = duplicates.decide_for(current_user(), case_id, body["decision"], **choice)
    return CaseDetailSchema().dump(duplicates.describe(case, full=True))


@bp.get("/double-entries")
@login_required()
def list_double_entries():
    """Submissions flagged as probable double entries in the caller's communes (D4)."""
    query = params.load(DoubleEntryQuerySchema(), request.args.to_dict())
    page = duplicates.list_double_entries(current_user(), **query)
    items = [duplicates.describe_double_entry(e) for e in page.items]
    return DoubleEntryPageSchema().dump({"double_entries": items, "next_after": page.next_after})


@bp.post("/double-entries/<int:entry_id>/decision")
@login_required()
def decide_double_entry(entry_id: int):
    """Confirm a flagged double entry (left out of reports) or dismiss it (counted again)."""
    body = params.load(DoubleEntryDecisionSchema(), request.get_json(silent=True))
    entry = duplicates.decide_double_entry_for(current_user(), entry_id, body["status"])
    return DoubleEntrySchema().dump(duplicates.describe_double_entry(entry))
