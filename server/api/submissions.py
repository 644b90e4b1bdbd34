"""The review queue: submissions in the caller's scope, paged by id.

A submission whose form names no place and whose sender works in several communes has no
commune: it is listed in the queue of every commune its sender works in.
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api.auth import current_user, login_required
from server.problems import Problem
from server.schemas.submissions import SubmissionPageSchema, SubmissionQuerySchema
from server.services.programme import units as admin_units
from server.services.review import pages

bp = Blueprint("submissions", __name__)


@bp.get("/submissions")
@login_required()
def list_submissions():
    """Current submissions in the caller's scope, by id, paged (`after`, `limit`), filtered
    by commune and review state: a reviewer's queue; a cadre's own and their villages'."""
    query = params.load(SubmissionQuerySchema(), request.args.to_dict())
    path = query.pop("commune", None)
    if path is not None:
        query["commune"] = admin_units.find(path)
        if query["commune"] is None:
            raise Problem("404.6", unit=path)
    page = pages.listed(current_user(), **query)
    return SubmissionPageSchema().dump(
        {"submissions": pages.describe_submissions(page.items), "next_after": page.next_after}
    )
