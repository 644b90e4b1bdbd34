"""Who reaches the administration pages, and the history every page shows of its record."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from server.db import db
from server.i18n import N_
from server.models import AdminUnit, Role, User
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services import audit as audit_service
from server.services.access import scope
from server.services.access.users import ProblemRowError
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import _, language

#: The roles that have administration pages; what each may do there is the services' call.
ADMIN_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.AGENCY_LEAD, Role.COMMUNE_OFFICIAL})


def is_administrator(user: User | None) -> bool:
    """Whether `user` sees the Administration link (the templates ask)."""
    return user is not None and user.role in ADMIN_ROLES


def admin_required(view: Callable) -> Callable:
    """Decorate an administration page or action: signed in (else 401 with the sign-in form)
    with an administrative role (else 403: cadres administer nothing)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = signed_in_user()
        if user is None:
            return sign_in_page(status=401)
        scope.require_role(user, *ADMIN_ROLES)
        return view(*args, **kwargs)

    return wrapper


def history(*targets: Any) -> list:
    """The audit events of `targets` (records the page already authorised), newest first, as
    `audit.Shown` rows: who, when, what, and the fields before and after."""
    events = []
    for target in targets:
        if target is not None:
            events += audit_service.events_for(target)
    events.sort(key=lambda e: e.id, reverse=True)
    return audit_service.shown(events)


#: The page groups by role: (endpoint, label, endpoint prefix marking the group as current).
GROUPS = (
    ("web.admin.forms", N_("Forms"), "web.admin.form", {Role.ADMIN, Role.COORDINATOR}),
    ("web.admin.users", N_("Users"), "web.admin.user", {Role.ADMIN, Role.COORDINATOR}),
    ("web.admin.devices", N_("Devices"), "web.admin.device",
     {Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL}),
    ("web.admin.units", N_("Communes and villages"), "web.admin.unit",
     {Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL}),
    ("web.admin.agencies", N_("Agencies"), "web.admin.agenc",
     {Role.ADMIN, Role.COORDINATOR, Role.AGENCY_LEAD}),
    ("web.admin.pairs", N_("Pairs"), "web.admin.pair", set(ADMIN_ROLES)),
    ("web.admin.support", N_("Support"), "web.admin.support", set(ADMIN_ROLES)),
    ("web.admin.audit_log", N_("Audit log"), "web.admin.audit", set(ADMIN_ROLES)),
)  # fmt: skip


def admin_links() -> list[tuple[str, str, str]]:
    """The administration pages the signed-in user has, as (endpoint, label, group)."""
    user = signed_in_user()
    if not is_administrator(user):
        return []
    routes = current_app.view_functions
    return [
        (endpoint, _(label), group)
        for endpoint, label, group, roles in GROUPS
        if user.role in roles and endpoint in routes
    ]


def template_globals() -> dict:
    return {"admin_links": admin_links, "is_administrator": is_administrator}


def field_label(key: str) -> str:
    """A recorded field's name in the page's language ("field.role" -> "Vai trò"); a field
    without a translation shows its own name."""
    text = _(key)
    return text.split(".", 1)[1] if text == key and "." in key else text


# -- parsing the pages' forms ------------------------------------------------------------------


def back_on_problem(view: Callable) -> Callable:
    """Decorate an action: a problem the person can fix (400, 409: a missing name, a code
    taken, an overlapping period) goes back to the page they came from with its message;
    refusals (403, 404) get the error page as everywhere on the site."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Problem as exc:
            if exc.status not in (400, 409):
                raise
            db.session.rollback()
            flash(exc.message(language()), "error")
            return redirect(back())

    return wrapper


def back() -> str:
    """The page an action came from: its `next` field, else the referring page of this site."""
    target = request.form.get("next") or ""
    if not target and request.referrer:
        parts = urlsplit(request.referrer)
        if parts.netloc == request.host:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return url_for("web.admin.index")
    return target


def form_date(name: str) -> dt.date | None:
    """The date in field `name` (YYYY-MM-DD, as date inputs send it); None when empty;
    Problem 400.3 when it is not a date."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Problem("400.3", field=name, reason=text[:40]) from None


def form_int(name: str) -> int | None:
    """The whole number in field `name`; None when empty; Problem 400.3 otherwise."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    value = ascii_int(text, maximum=32767)
    if value is None:
        raise Problem("400.3", field=name, reason=text[:40])
    return value


def form_unit(name: str = "unit") -> AdminUnit | None:
    """The admin unit whose id field `name` holds (the services check it is in scope)."""
    unit_id = ascii_int(request.form.get(name, ""))
    if unit_id is None:
        return None
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None:
        raise Problem("404.6", unit=str(unit_id))
    return unit


def form_units(name: str = "units", refs: str = "unit_refs") -> list[AdminUnit | str]:
    """The units chosen in the multiple choice `name` and those written in `refs` (paths or
    commune codes separated by ';' or ','), for `users.resolve_units`."""
    chosen: list[AdminUnit | str] = []
    for value in request.form.getlist(name):
        unit_id = ascii_int(value)
        unit = db.session.get(AdminUnit, unit_id) if unit_id is not None else None
        if unit is None:
            raise Problem("400.21", unit=value[:40])
        chosen.append(unit)
    text = request.form.get(refs, "").replace(",", ";")
    chosen += [part.strip() for part in text.split(";") if part.strip()]
    return chosen


def upload_file(name: str = "file") -> tuple[bytes, str]:
    """The bytes and name of the uploaded file `name`; Problem 400.2 when none was chosen."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        raise Problem("400.2", field=name)
    return upload.read(), upload.filename


def unit_choices(user: User) -> list[AdminUnit]:
    """The units `user` works in, by path (every unit for an admin), for the pages' choices."""
    ids = scope.unit_ids(user)
    stmt = sa.select(AdminUnit).order_by(AdminUnit.path).limit(MAX_CHOICES)
    if ids is not None:
        stmt = stmt.where(AdminUnit.id.in_(ids))
    return list(db.session.scalars(stmt))


#: The most units a choice lists (a province with its villages fits; the rest by code).
MAX_CHOICES = 3000


def import_page(report, title: str, again: str, created: list, updated: list = ()):
    """The page answering an import: what it created and updated, or each row's error with
    403 when a row names what the importer may not manage (a refusal, as the API's 403.16)
    and 400 for mistakes; with any error nothing was imported."""
    errors = [
        {"row": e.row, "column": e.column, "message": e.text(language())} for e in report.errors
    ]
    refused = any(isinstance(e, ProblemRowError) for e in report.errors)
    page = render_template(
        "admin/import.html",
        errors=errors,
        created=created,
        updated=list(updated),
        title=title,
        again=again,
    )
    return page, (403 if refused else 400) if errors else 200


#: Message ids the administration pages compute (`(prefix ~ value)|action_label`,
#: `field_label`): audit actions, kinds of record, stored enum values and recorded fields,
#: marked here so that `pybabel extract` finds them. Dotted ids have English in the `en`
#: catalogue too.
COMPUTED = (
    # audit actions
    N_("form.upload"),
    N_("form.published"),
    N_("form.closed"),
    N_("user.create"),
    N_("user.update"),
    N_("user.activate"),
    N_("user.deactivate"),
    N_("user.password"),
    N_("device.register"),
    N_("device.revoke"),
    N_("units.import"),
    N_("village.create"),
    N_("village.rename"),
    N_("agency.create"),
    N_("agency.update"),
    N_("assignment.create"),
    N_("assignment.end"),
    N_("pair.create"),
    N_("pair.end"),
    N_("pair.reassign"),
    # kinds of record (`AuditEvent.target_type`)
    N_("records.users"),
    N_("records.devices"),
    N_("records.admin_units"),
    N_("records.agencies"),
    N_("records.agency_assignments"),
    N_("records.pairs"),
    N_("records.form_versions"),
    # agencies' kinds and levels, the communes' categories
    N_("agency_kind.agency"),
    N_("agency_kind.team"),
    N_("agency_kind.organisation"),
    N_("agency_level.central"),
    N_("agency_level.province"),
    N_("agency_level.district"),
    N_("agency_level.commune"),
    N_("category.poor"),
    N_("category.special_difficulty"),
    N_("category.coastal"),
    N_("category.island"),
    N_("category.other"),
    # recorded fields
    N_("field.username"),
    N_("field.full_name"),
    N_("field.role"),
    N_("field.units"),
    N_("field.agency"),
    N_("field.name"),
    N_("field.code"),
    N_("field.kind"),
    N_("field.level"),
    N_("field.parent"),
    N_("field.home_unit"),
    N_("field.lead"),
    N_("field.active"),
    N_("field.unit"),
    N_("field.category"),
    N_("field.phase"),
    N_("field.starts_on"),
    N_("field.ends_on"),
    N_("field.end_reason"),
    N_("field.replaced_by_id"),
    N_("field.form_id"),
    N_("field.version"),
    N_("field.warnings"),
    N_("field.user"),
    N_("field.communes"),
    N_("field.helper"),
    N_("field.household"),
    N_("field.priority"),
    N_("field.capacity_note"),
    N_("field.note"),
)
