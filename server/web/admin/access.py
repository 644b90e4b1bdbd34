"""Who reaches the administration pages, and the history every page shows of its record."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app

from server.i18n import N_
from server.models import Role, User
from server.services import audit as audit_service
from server.services.access import scope
from server.web.auth import signed_in_user
from server.web.errors import sign_in_page
from server.web.i18n import _

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
