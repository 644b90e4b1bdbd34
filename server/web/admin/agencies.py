"""Agencies: create and edit (name, kind, level, parent, home unit, lead), their assignments to
communes and villages for a phase or dates with the commune's category, and ending one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import User
from server.models.programme import (
    Agency,
    AgencyAssignment,
    AgencyKind,
    AgencyLevel,
    UnitCategory,
)
from server.problems import Problem
from server.services.access import users as user_service
from server.services.programme import agencies as agency_service
from server.web.admin.access import (
    admin_required,
    back_on_problem,
    form_date,
    form_unit,
    history,
    unit_choices,
)
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import _

#: The most agencies the list shows (a province has tens to a few hundred).
MAX_AGENCIES = 1000


def _choices(user: User) -> dict:
    return {
        "kinds": list(AgencyKind),
        "levels": list(AgencyLevel),
        "categories": list(UnitCategory),
        "unit_choices": unit_choices(user),
        "agency_choices": list(db.session.scalars(agency_service.listed(user).limit(500))),
        "manager": user.role in agency_service.MANAGERS,
    }


def _lead(text: str) -> User | None:
    """The lead named by user name (None when empty); 400.3 when nobody has that name."""
    text = text.strip()
    if not text:
        return None
    found = user_service.find(text)
    if found is None:
        raise Problem("400.3", field="lead", reason=text[:80])
    return found


def _parent(user: User) -> Agency | None:
    code = request.form.get("parent", "").strip()
    return agency_service.visible(user, code) if code else None


@bp.get("/agencies")
@admin_required
def agencies():
    user = signed_in_user()
    found = list(db.session.scalars(agency_service.listed(user).limit(MAX_AGENCIES)))
    return render_template("admin/agencies.html", agencies=found, **_choices(user))


@bp.post("/agencies")
@admin_required
@back_on_problem
def create_agency():
    user = signed_in_user()
    agency = agency_service.create_agency(
        request.form.get("code", ""),
        request.form.get("name", ""),
        request.form.get("kind", AgencyKind.AGENCY),
        request.form.get("level", AgencyLevel.PROVINCE),
        parent=_parent(user),
        home_unit=form_unit("home_unit"),
        lead=_lead(request.form.get("lead", "")),
        actor=user,
    )
    flash(_("The agency %(name)s was created.", name=agency.name), "ok")
    return redirect(url_for("web.admin.agency", agency_id=agency.id))


@bp.get("/agencies/<int:agency_id>")
@admin_required
def agency(agency_id: int):
    user = signed_in_user()
    found = agency_service.visible(user, agency_id)
    assignments = list(db.session.scalars(agency_service.assignments(user, agency=found)))
    lead = db.session.get(User, found.lead_id) if found.lead_id else None
    return render_template(
        "admin/agency.html",
        agency=found,
        lead=lead,
        assignments=assignments,
        today=agency_service.today(),
        events=history(found, *assignments),
        **_choices(user),
    )


@bp.post("/agencies/<int:agency_id>")
@admin_required
@back_on_problem
def edit_agency(agency_id: int):
    user = signed_in_user()
    found = agency_service.visible(user, agency_id)
    agency_service.update_agency(
        found,
        actor=user,
        name=request.form.get("name", found.name),
        kind=request.form.get("kind", found.kind),
        level=request.form.get("level", found.level),
        parent=_parent(user),
        home_unit=form_unit("home_unit"),
        lead=_lead(request.form.get("lead", "")),
        active=request.form.get("active") == "1",
    )
    flash(_("The changes were saved."), "ok")
    return redirect(url_for("web.admin.agency", agency_id=agency_id))


@bp.post("/agencies/<int:agency_id>/assignments")
@admin_required
@back_on_problem
def assign_agency(agency_id: int):
    user = signed_in_user()
    found = agency_service.visible(user, agency_id)
    unit = form_unit("unit")
    if unit is None:
        raise Problem("400.2", field="unit")
    agency_service.assign(
        found,
        unit,
        request.form.get("category", UnitCategory.POOR),
        phase=request.form.get("phase", "").strip() or None,
        starts_on=form_date("starts_on"),
        ends_on=form_date("ends_on"),
        note=request.form.get("note", ""),
        actor=user,
    )
    flash(_("%(agency)s now helps %(unit)s.", agency=found.name, unit=unit.name), "ok")
    return redirect(url_for("web.admin.agency", agency_id=agency_id))


@bp.post("/assignments/<int:assignment_id>/end")
@admin_required
@back_on_problem
def end_assignment(assignment_id: int):
    user = signed_in_user()
    stmt = agency_service.assignments(user).where(AgencyAssignment.id == assignment_id)
    found = db.session.scalar(stmt)
    if found is None:
        raise Problem("404.21", assignment=assignment_id)
    agency_service.end_assignment(found, form_date("on"), actor=user)
    flash(_("The assignment ends on %(day)s.", day=found.ends_on.strftime("%d/%m/%Y")), "ok")
    return redirect(url_for("web.admin.agency", agency_id=found.agency_id))
