"""What the programme's API modules (agencies, assignments, pairs, units) share: finding the
records a request names, and answering an import."""

from __future__ import annotations

from flask import request

from server.errors import negotiate_language
from server.models import AdminUnit
from server.problems import Problem
from server.schemas.programme import ImportReportSchema
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
    """200 with the counts, or Problem 400.35 with every row error in the details."""
    if report.errors:
        lang = negotiate_language()
        raise Problem(
            "400.35",
            details=[error.as_dict(lang) for error in report.errors],
            count=len({error.row for error in report.errors}),
        )
    counts = {"created": len(report.created), "updated": len(report.updated), "errors": []}
    return ImportReportSchema().dump(counts), 201 if report.created else 200
