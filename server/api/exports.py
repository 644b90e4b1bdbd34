"""Exports: ask for one (made in the background), follow its progress, download its file; or
download a small one straight away.

What may be exported and by whom is decided by `server.services.reports.exports`; the
background jobs by `server.services.reports.jobs`. Schemas: `server.schemas.exports`.
"""

from __future__ import annotations

from flask import Blueprint, request, url_for

from server.api import params
from server.api.auth import current_user, login_required
from server.schemas.exports import ExportJobListSchema, ExportJobSchema, ExportRequestSchema
from server.services.reports import downloads, jobs
from server.services.reports.exports import ExportRequest

bp = Blueprint("exports", __name__)


def _shown(job) -> dict:
    fields_ = ExportJobSchema().fields
    shown = {name: getattr(job, name, None) for name in fields_}
    shown["status"] = job.status.value
    shown["expired"] = jobs.is_expired(job)
    shown["file_url"] = (
        url_for("api.exports.download_export", job_id=job.id)
        if job.storage_path and not shown["expired"]
        else None
    )
    return shown


@bp.post("/exports")
@login_required()
def create_export():
    """Ask for an export (submissions of a form, households, the ledger, a report's tables)
    as CSV or XLSX; it is made in the background: follow it at the returned job."""
    body = params.load(ExportRequestSchema(), request.get_json(silent=True))
    kind, fmt = body.pop("kind"), body.pop("format")
    if "from_" in body:
        body["from"] = body.pop("from_")
    export = ExportRequest.parse(kind, fmt, body)
    job = jobs.create(current_user(), export)
    jobs.start(job)
    return (
        ExportJobSchema().dump(_shown(job)),
        202,
        {"Location": url_for("api.exports.show_export", job_id=job.id)},
    )


@bp.get("/exports")
@login_required()
def list_exports():
    """The caller's most recent exports, newest first, with their progress."""
    return ExportJobListSchema().dump(
        {"exports": [_shown(j) for j in jobs.jobs_of(current_user())]}
    )


@bp.get("/exports/<int:job_id>")
@login_required()
def show_export(job_id: int):
    """One of the caller's exports: status, rows done of rows total, error, file link."""
    return ExportJobSchema().dump(_shown(jobs.job_for(current_user(), job_id)))


@bp.get("/exports/<int:job_id>/file")
@login_required()
def download_export(job_id: int):
    """The file of a finished export (409 while it is being made, 404 once it expired)."""
    chunks, job = jobs.file_of(current_user(), job_id)
    return downloads.send(chunks, job.filename, job.size)


@bp.get("/exports/<any(submissions,households,ledger,report,monitoring):kind>.<any(csv,xlsx):fmt>")
@login_required()
def direct_export(kind: str, fmt: str):
    """A small export straight to the caller (the same parameters as POST /exports, in the
    query; a report's parameters as they are); a large one is refused (409): ask for it
    with POST /exports."""
    return downloads.direct(current_user(), downloads.request_from_query(kind, fmt, request.args))
