"""The exports page: ask for a file of a form's submissions, the households or the ledger,
follow its progress, download it; and the report's download (`/exports/report.xlsx`, linked
from the reports page with the report's own parameters).

A blueprint nested in the site's (`server.web.site.bp`): it shares the site's sign-in, CSRF,
languages and error pages. Who may export is decided by `server.services.reports.exports`
(administrators, coordinators, commune officials, agency leads; cadres get 403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request, url_for

from server.services.reports import downloads, exports, jobs
from server.services.reports.exports import ExportRequest
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import _, language
from server.web.site import bp as site_bp

bp = Blueprint("exports", __name__)


def exporter_required(view: Callable) -> Callable:
    """Signed in (else the sign-in form, 401) and allowed to export (else 403.60)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = signed_in_user()
        if user is None:
            return sign_in_page(status=401)
        exports.require_exporter(user)
        return view(*args, **kwargs)

    return wrapper


def _is_exporter(user) -> bool:
    return user is not None and user.role in exports.EXPORTERS


@bp.get("/exports")
@exporter_required
def page():
    user = signed_in_user()
    return render_template(
        "exports.html",
        forms=exports.exportable_forms(user),
        jobs=jobs.jobs_of(user),
        is_expired=jobs.is_expired,
        kinds={
            "submissions": _("Submissions"),
            "households": _("Households"),
            "ledger": _("Support ledger"),
            "report": _("Report"),
        },
        statuses={
            "queued": _("Waiting"),
            "running": _("Being made"),
            "done": _("Ready"),
            "failed": _("Failed"),
        },
        commune=None,
    )


@bp.post("/exports")
@exporter_required
def create():
    """Ask for an export from the page's form; it is made in the background."""
    form = request.form
    values = {k: form[k] for k in ("form", "labels", "year") if form.get(k)}
    values["include_superseded"] = form.get("include_superseded") == "1"
    values["lang"] = language()
    export = ExportRequest.parse(form.get("kind", ""), form.get("format", "csv"), values)
    job = jobs.create(signed_in_user(), export)
    jobs.start(job)
    return redirect(url_for("web.exports.page", _anchor=f"job-{job.id}"), 303)


@bp.get("/exports/<int:job_id>/file")
@exporter_required
def job_file(job_id: int):
    chunks, job = jobs.file_of(signed_in_user(), job_id)
    return downloads.send(chunks, job.filename, job.size)


@bp.get("/exports/report.<any(csv,xlsx):fmt>")
@exporter_required
def report_file(fmt: str):
    """The report the query names (the /reports page's parameters), every table of it."""
    args = dict(request.args.items())
    args.setdefault("lang", language())
    export = downloads.request_from_query("report", fmt, args)
    return downloads.direct(signed_in_user(), export)


@site_bp.app_context_processor
def _exports_in_templates() -> dict:
    return {"is_exporter": _is_exporter}


site_bp.register_blueprint(bp)
