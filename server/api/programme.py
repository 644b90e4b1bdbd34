"""What the programme's API modules (agencies, assignments, pairs, units) share: finding the
records a request names, and answering an import."""

from __future__ import annotations

from flask import request

from server.errors import negotiate_language
from server.models import AdminUnit
from server.problems import Problem
from server.schemas.programme import ImportReportSchema
from server.services.access.users import ProblemRowError
from server.services.programme import agencies
from server.services.programme import units as admin_units
from server.services.sheets import ImportReport


def unit(path: str | None) -> AdminUnit | None:
    """The unit at `path`, None for no path; Problem 404.6 for an unknown one."""
    if path is None:
        return None
    found = admin_units.find(path.strip().strip("/"))
    if found is None:
        raise Problem("404.6", unit=path)
    return found


def agency(code: str | None):
    """The agency with `code`, None for no code; Problem 404.20 for an unknown one."""
    if code is None:
        return None
    return agencies.get(code)


def uploaded_file() -> tuple[bytes, str]:
    """The multipart field `file` of this request: (bytes, filename); 400.2 without one."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem("400.2", field="file")
    return upload.read(), upload.filename


def import_answer(report: ImportReport):
    """201 (200 when nothing was new) with the counts; else, as for users, Problem 403.16 when
    rows name places outside the caller's area, 400.23 otherwise, every row error listed in
    `details.errors`."""
    if report.errors:
        lang = negotiate_language()
        details = {"errors": [error.as_dict(lang) for error in report.errors]}
        refused = [e for e in report.errors if isinstance(e, ProblemRowError)]
        if refused:  # not allowed, whatever the other rows say: a refusal, not a typo
            raise Problem("403.16", details=details, count=len(refused))
        raise Problem("400.23", details=details, count=len(report.errors))
    counts = {"created": len(report.created), "updated": len(report.updated), "errors": []}
    return ImportReportSchema().dump(counts), 201 if report.created else 200
