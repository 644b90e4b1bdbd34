"""Forms: upload an XLSForm or XForm (every problem shown with its sheet, row and column, as
`giupho form check` prints them), draft, publish, close, and every version listed."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import AdminUnit, FormState, UnitLevel
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.access import scope
from server.services.forms import publishing
from server.web.admin.access import admin_required, history
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import _, language

#: The largest upload the page accepts is the server's `MAX_FORM_BYTES` (413.1 above it).


def upload_units(user) -> list[AdminUnit]:
    """The units a form may be uploaded for: the uploader's own; an admin's, every province."""
    if scope.is_admin(user):
        stmt = scope.units(user).where(AdminUnit.level == UnitLevel.PROVINCE)
        return list(db.session.scalars(stmt.order_by(AdminUnit.name)))
    return sorted(user.units, key=lambda u: u.name)


def _page(problems=None, message=None, status: int = 200):
    user = signed_in_user()
    return (
        render_template(
            "admin/forms.html",
            forms=publishing.visible_forms(user),
            units=upload_units(user),
            manager=user.role in scope.FORM_MANAGERS,
            problems=problems or [],
            message=message,
        ),
        status,
    )


@bp.get("/forms")
@admin_required
def forms():
    return _page()


def form_problems(exc: Problem) -> list[dict]:
    """The form problems of a 400.4, each with its place and the text of the page's language."""
    shown = []
    for problem in (exc.details or {}).get("problems", []):
        vi = language() == "vi"
        shown.append(
            {
                "code": problem.get("code", ""),
                "sheet": problem.get("sheet"),
                "row": problem.get("row"),
                "column": problem.get("column"),
                "field": problem.get("field"),
                "message": (vi and problem.get("message_vi")) or problem.get("message", ""),
                "fix": (vi and problem.get("fix_vi")) or problem.get("fix", ""),
            }
        )
    return shown


@bp.post("/forms")
@admin_required
def upload_form():
    user = signed_in_user()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(message=_("Choose a form file to upload."), status=400)
    unit = None
    unit_id = ascii_int(request.form.get("unit", ""))
    if unit_id is not None:
        unit = db.session.get(AdminUnit, unit_id)
        if unit is None:
            raise Problem("404.1")
    try:
        result = publishing.upload(upload.read(), upload.filename, user, unit)
    except Problem as exc:
        if exc.code in ("400.4", "400.5", "413.1", "409.1", "400.2"):
            return _page(form_problems(exc), exc.message(language()), exc.status)
        raise
    version = result.version
    if result.created:
        flash(
            _(
                "Form %(form_id)s version %(version)s was uploaded as a draft.",
                form_id=version.form.form_id,
                version=version.version,
            ),
            "ok",
        )
    else:
        flash(_("This version was already uploaded, unchanged."), "ok")
    return redirect(url_for("web.admin.form", form_id=version.form.form_id))


@bp.get("/forms/<form_id>")
@admin_required
def form(form_id: str):
    user = signed_in_user()
    found, versions = publishing.get_form(user, form_id)
    return render_template(
        "admin/form.html",
        form=found,
        versions=list(reversed(versions)),
        states=FormState,
        manager=user.role in scope.FORM_MANAGERS,
        events=history(*versions),
    )


@bp.post("/forms/<form_id>/<version>/publish")
@admin_required
def publish_form(form_id: str, version: str):
    publishing.publish(signed_in_user(), form_id, version)
    flash(_("Version %(version)s is published.", version=version), "ok")
    return redirect(url_for("web.admin.form", form_id=form_id))


@bp.post("/forms/<form_id>/<version>/close")
@admin_required
def close_form(form_id: str, version: str):
    publishing.close(signed_in_user(), form_id, version)
    flash(_("Version %(version)s is closed.", version=version), "ok")
    return redirect(url_for("web.admin.form", form_id=form_id))
