"""Communes and villages: import a province's official units (admins), add, rename and
import villages (coordinators and commune officials inside their area)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import AdminUnit, UnitLevel
from server.problems import Problem
from server.services.access import scope
from server.services.programme import agencies as agency_service
from server.services.programme import units as unit_service
from server.web.admin.access import (
    admin_required,
    back_on_problem,
    form_unit,
    history,
    import_page,
    upload_file,
)
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import _


@bp.get("/units")
@admin_required
def units():
    user = signed_in_user()
    # Villages are listed on their commune's page: a province may have thousands.
    listed = scope.units(user).where(AdminUnit.level != UnitLevel.VILLAGE)
    shown = list(db.session.scalars(listed.order_by(AdminUnit.path)))
    villages = scope.units(user).where(AdminUnit.level == UnitLevel.VILLAGE).subquery()
    counts = dict(
        db.session.execute(
            sa.select(villages.c.parent_id, sa.func.count()).group_by(villages.c.parent_id)
        ).all()
    )
    children: dict[int | None, list[AdminUnit]] = {}
    for unit in shown:
        children.setdefault(unit.parent_id, []).append(unit)
    ids = {u.id for u in shown}
    roots = [u for u in shown if u.parent_id is None or u.parent_id not in ids]
    managed = scope.unit_ids(user)
    communes = [u for u in shown if u.level == UnitLevel.COMMUNE]
    if managed is not None:
        inside = set(db.session.scalars(managed))
        communes = [c for c in communes if c.id in inside]
    return render_template(
        "admin/units.html",
        roots=roots,
        children=children,
        village_counts=counts,
        communes=communes,
        is_admin=scope.is_admin(user),
        manages_villages=user.role in unit_service.VILLAGE_MANAGERS,
    )


@bp.get("/units/<int:unit_id>")
@admin_required
def unit(unit_id: int):
    user = signed_in_user()
    found = db.session.scalar(scope.units(user).where(AdminUnit.id == unit_id))
    if found is None:
        raise Problem("404.6", unit=str(unit_id))
    villages = list(
        db.session.scalars(
            scope.units(user).where(AdminUnit.parent_id == found.id).order_by(AdminUnit.path)
        )
    )
    assignments = list(db.session.scalars(agency_service.assignments(user, unit=found).limit(200)))
    return render_template(
        "admin/unit.html",
        unit=found,
        villages=villages,
        assignments=assignments,
        manages_villages=user.role in unit_service.VILLAGE_MANAGERS,
        events=history(found, *villages),
    )


@bp.post("/units/import")
@admin_required
@back_on_problem
def import_province():
    code = request.form.get("province", "").strip()
    if not code:
        raise Problem("400.2", field="province")
    text = request.form.get("communes", "").replace(",", " ").replace(";", " ")
    communes = text.split() or None
    result = unit_service.import_province(
        code, communes, districts=request.form.get("districts") == "1", actor=signed_in_user()
    )
    flash(
        _(
            "%(province)s: %(count)s communes imported, %(created)s of them new.",
            province=result.province.name,
            count=len(result.communes),
            created=result.created,
        ),
        "ok",
    )
    return redirect(url_for("web.admin.units"))


@bp.post("/units/villages")
@admin_required
@back_on_problem
def add_village():
    commune = form_unit("commune")
    if commune is None:
        raise Problem("400.2", field="commune")
    village = unit_service.add_village(
        commune,
        request.form.get("name", ""),
        request.form.get("code", "").strip() or None,
        request.form.get("kind", "").strip() or "Thôn",
        actor=signed_in_user(),
    )
    flash(_("%(name)s was added to %(commune)s.", name=village.name, commune=commune.name), "ok")
    return redirect(url_for("web.admin.unit", unit_id=commune.id))


@bp.post("/villages/<int:village_id>/rename")
@admin_required
@back_on_problem
def rename_village(village_id: int):
    user = signed_in_user()
    village = db.session.scalar(scope.units(user).where(AdminUnit.id == village_id))
    if village is None:
        raise Problem("404.6", unit=str(village_id))
    unit_service.rename_village(
        village,
        request.form.get("name", ""),
        request.form.get("kind", "").strip() or None,
        actor=user,
    )
    flash(_("The village is now called %(name)s.", name=village.name), "ok")
    return redirect(url_for("web.admin.unit", unit_id=village.parent_id))


@bp.post("/units/villages/import")
@admin_required
@back_on_problem
def import_villages():
    data, filename = upload_file()
    report = unit_service.import_villages(data, filename, signed_in_user())
    created = [(v.name, url_for("web.admin.unit", unit_id=v.id)) for v in report.created]
    updated = [(v.name, url_for("web.admin.unit", unit_id=v.id)) for v in report.updated]
    return import_page(report, _("Import villages"), url_for("web.admin.units"), created, updated)
