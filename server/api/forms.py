"""Forms management: upload, publish, close, list (scoped)."""

from __future__ import annotations

from flask import Blueprint, request

from server.api.auth import current_user, login_required
from server.models import FormState
from server.problems import Problem
from server.schemas import FormSchema, FormVersionSchema
from server.schemas.fields import text_fault
from server.services.access import scope
from server.services.forms import publishing as forms
from server.services.programme import units as admin_units

bp = Blueprint("forms", __name__)


@bp.post("/forms")
@login_required(*scope.FORM_MANAGERS)
def upload_form():
    """Upload an XLSForm or XForm (multipart field `file`) as a draft version.

    Optional field `unit`: the admin unit path ("11" or "11/03325") the form
    belongs to. 201 with the version; 200 when the same version was already
    there, identical; 400.4 with every form problem when it cannot be used.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem("400.2", field="file")
    unit, path = None, request.form.get("unit", "")
    if path:
        if text_fault(path):  # a multipart field: the query's check does not see it
            raise Problem("400.3", field="unit", reason="a unit path such as 11/03325")
        unit = admin_units.find(path)
        if unit is None:
            raise Problem("404.6", unit=path)
    result = forms.upload(upload.read(), upload.filename, current_user(), unit)
    return FormVersionSchema().dump(result.version), 201 if result.created else 200


@bp.post("/forms/<form_id>/versions/<version>/publish")
@login_required(*scope.FORM_MANAGERS)
def publish_form(form_id: str, version: str):
    """Publish a draft version (or reopen a closed one)."""
    return FormVersionSchema().dump(forms.publish(current_user(), form_id, version))


@bp.post("/forms/<form_id>/versions/<version>/close")
@login_required(*scope.FORM_MANAGERS)
def close_form(form_id: str, version: str):
    """Close a published version: tablets stop getting it."""
    return FormVersionSchema().dump(forms.close(current_user(), form_id, version))


@bp.get("/forms")
@login_required()
def list_forms():
    """The forms the caller may see, with their visible versions; `?state=` filters versions."""
    state = request.args.get("state")
    if state is not None and state not in {s.value for s in FormState}:
        raise Problem("400.3", field="state", reason=state)
    found = forms.visible_forms(current_user(), FormState(state) if state else None)
    rows = [
        {
            "form_id": form.form_id,
            "title": form.title,
            "unit": form.unit.path if form.unit else None,
            "versions": versions,
        }
        for form, versions in found
    ]
    return {"forms": FormSchema(many=True).dump(rows)}
