"""Users: the list with filters, create, edit role, units and agency, deactivate and activate,
reset a password (the new one shown once), import a spreadsheet (an error per row)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import Device, Role, User
from server.schemas.fields import ascii_int
from server.services.access import devices as device_service
from server.services.access import users as user_service
from server.services.paging import keyset_page
from server.services.programme import agencies as agency_service
from server.web.admin.access import (
    admin_required,
    back_on_problem,
    form_units,
    history,
    import_page,
    unit_choices,
    upload_file,
)
from server.web.admin.blueprint import bp
from server.web.admin.devices import NOT_STORED
from server.web.auth import signed_in_user
from server.web.i18n import _

PAGE_SIZE = 50


def _agency_choices(user: User) -> list:
    return list(db.session.scalars(agency_service.listed(user).limit(500)))


def _roles(user: User) -> list[Role]:
    """The roles `user` may give (the service refuses the others anyway)."""
    if user.role == Role.ADMIN:
        return list(Role)
    return [r for r in Role if r in user_service.COORDINATED]


def _choices(user: User) -> dict:
    return {
        "roles": _roles(user),
        "role_labels": user_service.ROLE_LABELS,
        "unit_choices": unit_choices(user),
        "agency_choices": _agency_choices(user),
    }


@bp.get("/users")
@admin_required
def users():
    user = signed_in_user()
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    role = Role(role) if role in set(Role) else None
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    stmt = user_service.listed(user, q=q or None, role=role, active=active)
    page = keyset_page(stmt, User.id, ascii_int(request.args.get("after", "")), PAGE_SIZE)
    return render_template(
        "admin/users.html",
        page=page,
        filters={
            "q": q,
            "role": role.value if role else "",
            "active": request.args.get("active", ""),
        },
        can_create=user.role in (Role.ADMIN, Role.COORDINATOR),
        **_choices(user),
    )


@bp.post("/users")
@admin_required
@back_on_problem
def create_user():
    actor = signed_in_user()
    password = request.form.get("password", "")
    temporary = not password
    if temporary:
        password = user_service.temporary_password()
    agency = request.form.get("agency", "").strip() or None
    created = user_service.create_user(
        request.form.get("username", ""),
        request.form.get("full_name", ""),
        request.form.get("role", ""),
        password,
        form_units(),
        agency,
        actor,
    )
    if not temporary:
        flash(_("User %(name)s was created.", name=created.username), "ok")
        return redirect(url_for("web.admin.user", user_id=created.id))
    page = render_template("admin/password.html", user=created, password=password, created=True)
    return page, 200, NOT_STORED


@bp.get("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    actor = signed_in_user()
    found = user_service.visible_user(actor, user_id)
    devices = list(
        db.session.scalars(device_service.listed(actor, found).order_by(Device.id.desc()))
    )
    return render_template(
        "admin/user.html",
        person=found,
        manages=user_service.can_manage(actor, found),
        manages_devices=user_service.can_manage(actor, found, devices=True),
        devices=devices,
        events=history(found, *devices),
        **_choices(actor),
    )


@bp.post("/users/<int:user_id>")
@admin_required
@back_on_problem
def edit_user(user_id: int):
    actor = signed_in_user()
    found = user_service.visible_user(actor, user_id)
    user_service.update_user(
        found,
        actor=actor,
        full_name=request.form.get("full_name", found.full_name),
        role=request.form.get("role", found.role.value),
        units=form_units(),
        agency=request.form.get("agency", "").strip() or None,
    )
    flash(_("The changes were saved."), "ok")
    return redirect(url_for("web.admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@admin_required
@back_on_problem
def set_user_active(user_id: int):
    actor = signed_in_user()
    found = user_service.visible_user(actor, user_id)
    active = request.form.get("active") == "1"
    user_service.set_active(found, active, actor)
    message = _("The account is active again.") if active else _("The account is deactivated.")
    flash(message, "ok")
    return redirect(url_for("web.admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@admin_required
@back_on_problem
def reset_password(user_id: int):
    actor = signed_in_user()
    found = user_service.visible_user(actor, user_id)
    password = user_service.reset_password(found, actor)
    page = render_template("admin/password.html", user=found, password=password, created=False)
    return page, 200, NOT_STORED


@bp.post("/users/import")
@admin_required
@back_on_problem
def import_users():
    actor = signed_in_user()
    data, filename = upload_file()
    report = user_service.import_users(data, filename, actor)
    created = [(u.username, url_for("web.admin.user", user_id=u.id)) for u in report.created]
    return import_page(report, _("Import users"), url_for("web.admin.users"), created)
