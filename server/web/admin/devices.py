"""Devices: enrol ODK Collect for a user by a QR code (shown once, with its URL), list the
devices one may see, revoke one."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from server.models import Device, User
from server.schemas.fields import ascii_int
from server.services.access import devices as device_service
from server.services.access import users as user_service
from server.services.paging import keyset_page
from server.web.admin.access import admin_required, back_on_problem, history
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import _

PAGE_SIZE = 50


@bp.get("/devices")
@admin_required
def devices():
    actor = signed_in_user()
    after = ascii_int(request.args.get("after", ""))
    page = keyset_page(device_service.listed(actor), Device.id, after, PAGE_SIZE, descending=True)
    people = {d.user_id: d.user for d in page.items}
    return render_template("admin/devices.html", page=page, people=people)


@bp.get("/devices/<int:device_id>")
@admin_required
def device(device_id: int):
    actor = signed_in_user()
    found = device_service.visible_device(actor, device_id)
    return render_template(
        "admin/device.html",
        device=found,
        manages=user_service.can_manage(actor, found.user, devices=True),
        events=history(found),
    )


def public_url() -> str:
    """The address tablets reach this server at: PUBLIC_URL when set (behind a proxy), else
    the address this page was asked at."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


@bp.post("/users/<int:user_id>/devices")
@admin_required
@back_on_problem
def enrol_device(user_id: int):
    actor = signed_in_user()
    person: User = user_service.visible_user(actor, user_id)
    name = request.form.get("name", "") or _("Tablet")
    enrolment = device_service.enrol(person, name, actor, public_url())
    svg = device_service.qr_svg(enrolment.qr_payload)
    page = render_template(
        "admin/enrolment.html",
        person=person,
        enrolment=enrolment,
        qr=Markup(svg),  # segno's SVG of our own payload: no user markup in it
    )
    return page, 200, NOT_STORED


#: Pages showing a secret once (a device's URL, a temporary password): kept in no cache.
NOT_STORED = {"Cache-Control": "no-store"}


@bp.post("/devices/<int:device_id>/revoke")
@admin_required
@back_on_problem
def revoke_device(device_id: int):
    actor = signed_in_user()
    found = device_service.visible_device(actor, device_id)
    device_service.revoke(found, actor)
    flash(_("The device %(name)s can no longer sync.", name=found.name), "ok")
    return redirect(url_for("web.admin.device", device_id=device_id))
