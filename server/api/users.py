"""Users administration: list (scoped, paged), create, show, edit, deactivate and activate,
reset a password, import a spreadsheet; a user's devices (list, enrol by QR code).

    GET   /api/v1/users                      ?q, role, unit, active, after, limit -> UserPage
    POST  /api/v1/users                      UserCreate -> User (201)
    GET   /api/v1/users/<id>                 -> User
    PATCH /api/v1/users/<id>                 UserUpdate -> User
    POST  /api/v1/users/<id>/deactivate      -> User        (and /activate)
    POST  /api/v1/users/<id>/password        -> PasswordReset (the new password, shown once)
    POST  /api/v1/users/import               multipart `file` (XLSX/CSV) -> ImportResult (201)
    GET   /api/v1/users/<id>/devices         -> DeviceList
    POST  /api/v1/users/<id>/devices         EnrolRequest -> Enrolment (201; token shown once)

Who may do what is `server.services.access.users.require_manage`; a user the caller may not
see is answered as one that does not exist (404.10).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from server.api import params
from server.api.auth import current_user, login_required
from server.db import db
from server.errors import negotiate_language
from server.models import Device, Role, User
from server.models.programme import Agency
from server.problems import Problem
from server.schemas.users import (
    DeviceListSchema,
    EnrolmentSchema,
    EnrolRequestSchema,
    ImportResultSchema,
    PasswordResetSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from server.services.access import devices, users
from server.services.paging import keyset_page
from server.services.programme import units as admin_units

bp = Blueprint("users", __name__, url_prefix="/users")


def _shown(user: User) -> dict:
    """What the API shows of `user`, to dump with `UserSchema`."""
    agency = None
    if user.agency_id is not None:
        found = db.session.get(Agency, user.agency_id)
        agency = found.code if found is not None else None
    shown = {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "active": user.active,
        "units": [{"path": u.path, "name": u.name} for u in user.units],
        "agency": agency,
        "created_at": user.created_at,
    }
    return shown


def user_dump(user: User) -> dict:
    """A user as the API shows them."""
    return UserSchema().dump(_shown(user))


def _body(schema) -> dict:
    return params.load(schema, request.get_json(silent=True))


@bp.get("")
@login_required()
def list_users():
    """The users the caller may see, by id, paged (`after`, `limit`), filtered by text, role,
    unit and active flag."""
    query = params.load(UserQuerySchema(), request.args.to_dict())
    unit = None
    if query.get("unit"):
        unit = admin_units.find(query["unit"])
        if unit is None:
            raise Problem("404.6", unit=query["unit"])
    role = Role(query["role"]) if query.get("role") else None
    stmt = users.listed(current_user(), q=query.get("q"), role=role, unit=unit,
                        active=query.get("active"))  # fmt: skip
    page = keyset_page(stmt, User.id, query.get("after"), query["limit"])
    shown = {"users": [_shown(u) for u in page.items], "next_after": page.next_after}
    return UserPageSchema().dump(shown)


@bp.post("")
@login_required()
def create_user():
    """Create a user (administrators; coordinators inside their area). 201 with the user."""
    body = _body(UserCreateSchema())
    user = users.create_user(body["username"], body["full_name"], body["role"],
                             body["password"], body["units"], body["agency"],
                             actor=current_user())  # fmt: skip
    return user_dump(user), 201


@bp.get("/<int:user_id>")
@login_required()
def show_user(user_id: int):
    """One user the caller may see."""
    return user_dump(users.visible_user(current_user(), user_id))


@bp.patch("/<int:user_id>")
@login_required()
def update_user(user_id: int):
    """Change a user's full name, role, units or agency (only the fields given); audited."""
    body = _body(UserUpdateSchema())
    user = users.visible_user(current_user(), user_id)
    return user_dump(users.update_user(user, actor=current_user(), **body))


@bp.post("/<int:user_id>/deactivate")
@login_required()
def deactivate_user(user_id: int):
    """Deactivate a user: their sessions end, their passwords and devices stop working."""
    user = users.visible_user(current_user(), user_id)
    return user_dump(users.set_active(user, False, current_user()))


@bp.post("/<int:user_id>/activate")
@login_required()
def activate_user(user_id: int):
    """Activate a deactivated user again."""
    user = users.visible_user(current_user(), user_id)
    return user_dump(users.set_active(user, True, current_user()))


@bp.post("/<int:user_id>/password")
@login_required()
def reset_password(user_id: int):
    """Give a user a new random password, returned this once (never stored in clear)."""
    user = users.visible_user(current_user(), user_id)
    password = users.reset_password(user, current_user())
    return PasswordResetSchema().dump({"username": user.username, "password": password})


@bp.post("/import")
@login_required()
def import_users():
    """Create users from an XLSX or CSV file (multipart field `file`; columns username,
    full_name, role, units, agency, password). Nothing is created unless every row is good:
    400.23 lists each bad row and column in `details.errors`."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem("400.2", field="file")
    report = users.import_users(upload.read(), upload.filename, current_user())
    if not report.ok:
        lang = negotiate_language()
        refused = [e for e in report.errors if isinstance(e, users.ProblemRowError)]
        if refused:  # not allowed, whatever the other rows say: a refusal, not a typo
            raise Problem("403.16", details={"errors": [e.as_dict(lang) for e in report.errors]},
                          count=len(refused))  # fmt: skip
        raise Problem("400.23", details={"errors": [e.as_dict(lang) for e in report.errors]},
                      count=len(report.errors))  # fmt: skip
    return ImportResultSchema().dump({"created": [_shown(u) for u in report.created]}), 201


@bp.get("/<int:user_id>/devices")
@login_required()
def list_user_devices(user_id: int):
    """The devices of a user the caller may see, newest first."""
    actor = current_user()
    user = users.visible_user(actor, user_id)
    found = db.session.scalars(devices.listed(actor, user).order_by(Device.id.desc()))
    return DeviceListSchema().dump({"devices": list(found)})


def public_url() -> str:
    """The address tablets reach: `PUBLIC_URL` when set (behind a proxy), else this host."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


@bp.post("/<int:user_id>/devices")
@login_required()
def enrol_device(user_id: int):
    """Enrol a device for ODK Collect: the token, its server URL, Collect's settings and the
    QR code to scan (shown this once; only the token's hash is kept)."""
    body = _body(EnrolRequestSchema())
    actor = current_user()
    user = users.visible_user(actor, user_id)
    enrolment = devices.enrol(user, body["name"], actor, public_url())
    shown = {
        "device": enrolment.device,
        "token": enrolment.token,
        "url": enrolment.url,
        "settings": enrolment.settings,
        "qr_payload": enrolment.qr_payload,
        "qr_svg": devices.qr_svg(enrolment.qr_payload),
    }
    return EnrolmentSchema().dump(shown), 201
