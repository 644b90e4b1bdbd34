"""The administration home and the audit log: every change the viewer may see, newest first."""

from __future__ import annotations

from flask import render_template, request

from server.models import AuditEvent
from server.schemas.fields import ascii_int
from server.services import audit as audit_service
from server.services.paging import keyset_page
from server.web.admin.access import admin_required
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user

PAGE_SIZE = 50

#: The kinds of record the log can be narrowed to (`AuditEvent.target_type`).
KINDS = ("users", "devices", "admin_units", "agencies", "agency_assignments", "pairs",
         "form_versions")  # fmt: skip


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")


@bp.get("/audit")
@admin_required
def audit_log():
    user = signed_in_user()
    stmt = audit_service.visible(user)
    kind = request.args.get("kind", "")
    if kind in KINDS:
        stmt = stmt.where(AuditEvent.target_type == kind)
    else:
        kind = ""
    after = ascii_int(request.args.get("after", ""))
    page = keyset_page(stmt, AuditEvent.id, after, PAGE_SIZE, descending=True)
    return render_template(
        "admin/audit.html",
        events=audit_service.shown(page.items),
        next_after=page.next_after,
        kind=kind,
        kinds=KINDS,
    )
