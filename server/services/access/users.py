"""Users: create, edit, deactivate, reset passwords, import from a spreadsheet, list.

Who may manage whom is decided in one place, `require_manage`, and every write here calls
it before changing anything:

* the system (actor None: an operator's command, the demo seed) and admins: everyone;
* a coordinator: users of roles cadre, commune official, agency lead and coordinator whose
  units are all inside the coordinator's scope, given units inside it only (never admin,
  never a unit outside, never nowhere: such a user would leave every coordinator's sight),
  and agencies whose home unit is inside it;
* a commune official: the devices of the cadres of their commune(s), nothing else;
* agency leads and cadres: nothing administrative.

Refusals name the people, places, roles and agencies concerned, never internal codes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.i18n import Words
from server.models import AdminUnit, Role, UnitLevel, User
from server.models.people import user_scope
from server.models.programme import Agency
from server.problems import N_, Problem
from server.services import audit, sheets, transactional
from server.services.access import auth, scope, sessions
from server.services.sync import changes

#: The roles' names as people read them (the message ids are English).
ROLE_LABELS: dict[Role, Words] = {
    Role.CADRE: N_("Cadre"),
    Role.COMMUNE_OFFICIAL: N_("Commune official"),
    Role.COORDINATOR: N_("Coordinator"),
    Role.AGENCY_LEAD: N_("Agency lead"),
    Role.ADMIN: N_("Administrator"),
}

#: Names a spreadsheet or an operator may give a role: the codes, and Vietnamese and English
#: words as people write them (compared without case, spaces squeezed).
ROLE_NAMES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "commune official": Role.COMMUNE_OFFICIAL,
    "agency lead": Role.AGENCY_LEAD,
    "administrator": Role.ADMIN,
    "cán bộ": Role.CADRE,
    "cán bộ giúp đỡ": Role.CADRE,
    "cán bộ xã": Role.COMMUNE_OFFICIAL,
    "công chức xã": Role.COMMUNE_OFFICIAL,
    "điều phối": Role.COORDINATOR,
    "điều phối viên": Role.COORDINATOR,
    "trưởng cơ quan": Role.AGENCY_LEAD,
    "lãnh đạo cơ quan": Role.AGENCY_LEAD,
    "quản trị": Role.ADMIN,
    "quản trị viên": Role.ADMIN,
}

#: The roles a coordinator may give and manage.
COORDINATED = frozenset({Role.CADRE, Role.COMMUNE_OFFICIAL, Role.AGENCY_LEAD, Role.COORDINATOR})

#: A user name: what Collect's Digest and the site's sign-in form carry without surprises.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")

#: Characters of generated passwords: no 0/O, 1/l/I to misread when read out over the phone.
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"

_UNSET: Any = object()

#: The largest id of a user or device (INTEGER columns on PostgreSQL).
MAX_ID = 2**31 - 1


def find(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))


def get(user_id: int) -> User:
    """The user `user_id`; Problem 404.10 when there is none."""
    user = db.session.get(User, user_id)
    if user is None:
        raise Problem("404.10", name=str(user_id))
    return user


def by_username(username: str) -> User:
    """The user `username`; Problem 404.10 when there is none."""
    user = find(username)
    if user is None:
        raise Problem("404.10", name=username)
    return user


def parse_role(value: str | Role) -> Role:
    """The role named `value` (a code, or a Vietnamese or English name); Problem 400.20."""
    if isinstance(value, Role):
        return value
    role = ROLE_NAMES.get(" ".join(str(value).lower().split()))
    if role is None:
        raise Problem("400.20", role=str(value), roles=", ".join(r.value for r in Role))
    return role


def find_unit(reference: str) -> AdminUnit | None:
    """The unit a person names: a path ("11/03325/01"), a province code ("11") or a commune
    code ("03325": commune codes are unique nationwide)."""
    reference = reference.strip().strip("/")
    if not reference:
        return None
    unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == reference))
    if unit is None and "/" not in reference:
        unit = db.session.scalar(
            sa.select(AdminUnit).where(
                AdminUnit.level == UnitLevel.COMMUNE, AdminUnit.code == reference
            )
        )
    return unit


def resolve_units(references: Iterable[str | AdminUnit]) -> list[AdminUnit]:
    """Units from references (`find_unit`) or units; Problem 400.21 naming the first unknown."""
    found: list[AdminUnit] = []
    for reference in references:
        unit = reference if isinstance(reference, AdminUnit) else find_unit(reference)
        if unit is None:
            raise Problem("400.21", unit=str(reference))
        if unit not in found:
            found.append(unit)
    return found


def find_agency(code: str) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.code == code.strip()))


def resolve_agency(reference: str | Agency | None) -> Agency | None:
    """The agency of code `reference` (or the agency itself); Problem 400.22 when unknown."""
    if reference is None or isinstance(reference, Agency):
        return reference
    if not reference.strip():
        return None
    agency = find_agency(reference)
    if agency is None:
        raise Problem("400.22", agency=reference)
    return agency


# -- who may manage whom ---------------------------------------------------------------------


def _names(units: Iterable[AdminUnit]) -> str:
    return ", ".join(_label(u) for u in units)


def _label(unit: AdminUnit) -> str:
    parent = unit.parent
    return f"{unit.name} ({parent.name})" if parent is not None else unit.name


def _outside(actor: User, units: Iterable[AdminUnit]) -> list[AdminUnit]:
    ids = [u.id for u in units]
    if not ids:
        return []
    inside = set(
        db.session.scalars(
            sa.select(AdminUnit.id).where(
                AdminUnit.id.in_(ids), AdminUnit.id.in_(scope.unit_ids(actor))
            )
        )
    )
    return [u for u in units if u.id not in inside]


def require_manage(
    actor: User | None,
    role: Role,
    units: Iterable[AdminUnit],
    *,
    agency: Agency | None = None,
    user: User | None = None,
    devices: bool = False,
) -> None:
    """Raise a 403 problem unless `actor` may manage a user of `role` working in `units`
    (with `agency`): create one, give those, or, with `user`, act on that existing user.
    `devices`: the question is about the user's devices, which commune officials manage for
    the cadres of their commune. None is the system (operator commands): always allowed."""
    if actor is None or actor.role == Role.ADMIN:
        return
    units = list(units)
    name = user.full_name if user is not None else ""
    if actor.role == Role.COMMUNE_OFFICIAL and devices:
        if role != Role.CADRE:
            raise Problem("403.15", name=name or ROLE_LABELS[role])
    elif actor.role != Role.COORDINATOR:
        raise Problem("403.10")
    elif role not in COORDINATED:
        raise Problem("403.11", role=ROLE_LABELS[role])
    if not units:
        if user is not None and not user.units:  # nobody's yet: asking for units cannot help
            raise Problem("403.17", name=name)
        raise Problem("403.13", name=name or ROLE_LABELS[role])
    outside = _outside(actor, units)
    if outside:
        if user is not None:
            raise Problem("403.12", name=name, units=_names(outside))
        raise Problem("403.2", what=_names(outside))
    if agency is not None and actor.role == Role.COORDINATOR:
        home = agency.home_unit
        if home is None or _outside(actor, [home]):
            raise Problem("403.14", agency=agency.name)


def require_manage_user(actor: User | None, user: User, *, devices: bool = False) -> None:
    """`require_manage` for `user` as they are now."""
    require_manage(actor, user.role, user.units, user=user, devices=devices)


def can_manage(actor: User | None, user: User, *, devices: bool = False) -> bool:
    try:
        require_manage_user(actor, user, devices=devices)
    except Problem:
        return False
    return True


# -- writes ----------------------------------------------------------------------------------


def _check_username(username: str) -> str:
    username = username.strip().lower()
    if not username:
        raise Problem("400.2", field="username")
    if not USERNAME.match(username):
        raise Problem("400.24", name=username)
    if find(username) is not None:
        raise Problem("409.5", what=N_("entity.user"), name=username)
    return username


@transactional
def create_user(
    username: str,
    full_name: str,
    role: Role | str,
    password: str | None = None,
    units: Iterable[AdminUnit | str] = (),
    agency: Agency | str | None = None,
    actor: User | None = None,
) -> User:
    """Create a user working in `units`. Without a password they can only use device tokens."""
    role = parse_role(role)
    units = resolve_units(units)
    agency = resolve_agency(agency)
    require_manage(actor, role, units, agency=agency)
    username = _check_username(username)
    full_name = full_name.strip()
    if not full_name:
        raise Problem("400.2", field="full_name")
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        password_hash=auth.hash_password(password) if password else None,
        digest_ha1=auth.digest_ha1(username, password) if password else None,
        units=units,
        agency_id=agency.id if agency is not None else None,
    )
    db.session.add(user)
    audit.record(
        actor,
        "user.create",
        user,
        username=username,
        full_name=full_name,
        role=role.value,
        units=[u.path for u in units],
        agency=agency.code if agency is not None else None,
    )
    return user


def _state(user: User) -> dict[str, Any]:
    agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
    return {
        "full_name": user.full_name,
        "role": user.role.value,
        "units": sorted(u.path for u in user.units),
        "agency": agency.code if agency is not None else None,
    }


@transactional
def update_user(
    user: User,
    *,
    actor: User | None,
    full_name: str = _UNSET,
    role: Role | str = _UNSET,
    units: Iterable[AdminUnit | str] = _UNSET,
    agency: Agency | str | None = _UNSET,
) -> User:
    """Change `user`'s name, role, units or agency (what is given); audited with the fields
    that changed, before and after. The actor must manage the user as they are and as
    they will be."""
    require_manage_user(actor, user)
    new_role = user.role if role is _UNSET else parse_role(role)
    new_units = list(user.units) if units is _UNSET else resolve_units(units)
    if agency is _UNSET:
        new_agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
        changed_agency = None
    else:
        new_agency = changed_agency = resolve_agency(agency)
    require_manage(actor, new_role, new_units, agency=changed_agency, user=user)
    if actor is not None and actor.id == user.id and new_role != user.role:
        raise Problem("409.21")
    before = _state(user)
    if full_name is not _UNSET:
        if not full_name.strip():
            raise Problem("400.2", field="full_name")
        user.full_name = full_name.strip()
    user.role = new_role
    user.units = new_units
    if agency is not _UNSET:
        old_agency_id = user.agency_id
        user.agency_id = new_agency.id if new_agency is not None else None
        if user.agency_id != old_agency_id:  # the team's households move with the member
            agencies = [i for i in (old_agency_id, user.agency_id) if i is not None]
            changes.membership_changed(user.id, agencies, scope.today())
    after = _state(user)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        audit.record(
            actor,
            "user.update",
            user,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return user


@transactional
def set_scope(user: User, units: Iterable[AdminUnit], actor: User | None = None) -> None:
    """Replace the admin units `user` works in."""
    update_user(user, actor=actor, units=units)


@transactional
def set_active(user: User, active: bool, actor: User | None = None) -> User:
    """Let `user` sign in again, or stop them: a deactivated user's sessions end at once, and
    their passwords and device tokens are refused (see `auth`); their records stay."""
    require_manage_user(actor, user)
    if actor is not None and actor.id == user.id and not active:
        raise Problem("409.20")
    if user.active == active:
        return user
    user.active = active
    if not active:
        sessions.close_all(user)
    audit.record(actor, "user.activate" if active else "user.deactivate", user)
    return user


def deactivate(user: User, actor: User | None = None) -> None:
    """Stop `user` from signing in; their records and history stay."""
    set_active(user, False, actor)


def temporary_password() -> str:
    """A random password to read out or copy once: 3 groups of 4 (about 60 bits)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


@transactional
def reset_password(user: User, actor: User | None = None) -> str:
    """Give `user` a new random password and return it (shown once, stored only hashed);
    their sessions end. Audited without the password."""
    require_manage_user(actor, user)
    password = temporary_password()
    auth.set_password(user, password, actor=actor)
    return password


# -- listing ---------------------------------------------------------------------------------


def listed(
    actor: User | None,
    q: str | None = None,
    role: Role | None = None,
    unit: AdminUnit | None = None,
    active: bool | None = None,
) -> sa.Select:
    """The users `actor` may see, as SQL to page: an admin everyone; a coordinator the users
    with a unit in their scope; a commune official the cadres with a unit in their commune(s);
    an agency lead the members of their agency; everyone themselves; the system (None)
    everyone. Filtered by text in the user name or full name, role, unit (at or below it) and
    active flag."""
    stmt = sa.select(User)
    if actor is not None and actor.role != Role.ADMIN:
        visible = sa.false()
        if actor.role in (Role.COORDINATOR, Role.COMMUNE_OFFICIAL):
            in_units = sa.select(user_scope.c.user_id).where(
                user_scope.c.unit_id.in_(scope.unit_ids(actor))
            )
            visible = User.id.in_(in_units)
            if actor.role == Role.COMMUNE_OFFICIAL:
                visible = sa.and_(visible, User.role == Role.CADRE)
        elif actor.role == Role.AGENCY_LEAD and actor.agency_id is not None:
            visible = User.agency_id == actor.agency_id
        stmt = stmt.where(sa.or_(User.id == actor.id, visible))
    if q:
        pattern = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(User.username.like(pattern), sa.func.lower(User.full_name).like(pattern))
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if unit is not None:
        below = scope._descendants(sa.select(sa.literal(unit.id)))
        stmt = stmt.where(
            User.id.in_(sa.select(user_scope.c.user_id).where(user_scope.c.unit_id.in_(below)))
        )
    if active is not None:
        stmt = stmt.where(User.active == active)
    return stmt


def visible_user(actor: User | None, user_id: int) -> User:
    """The user `user_id` if `actor` may see them; Problem 404.10 otherwise (a user outside
    one's scope is answered as one that does not exist)."""
    user = None
    if 0 < user_id <= MAX_ID:  # a larger id is no user (and PostgreSQL's INTEGER refuses it)
        user = db.session.scalar(listed(actor).where(User.id == user_id))
    if user is None:
        raise Problem("404.10", name=str(user_id))
    return user


# -- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemRowError(sheets.RowError):
    """A row refused by a rule that has its own problem (who may manage whom): its text is
    the problem's message, in the reader's language."""

    problem: Problem | None = None

    def text(self, lang: str = "vi") -> str:
        return self.problem.message(lang) if self.problem is not None else super().text(lang)


#: The columns of a users spreadsheet (header names, any case).
COLUMNS = ("username", "full_name", "role", "units", "agency", "password")


@dataclass
class _Planned:
    row: sheets.Row
    username: str
    full_name: str
    role: Role
    units: list[AdminUnit]
    agency: Agency | None
    password: str | None


def _plan_row(
    row: sheets.Row, actor: User | None, seen: dict[str, int], errors: list[sheets.RowError]
) -> _Planned | None:
    """Check one row, adding an error per bad column; the plan of it when every check passed."""
    before = len(errors)
    n = row.number
    username = sheets.require(row, "username", errors).lower()
    if username:
        if not USERNAME.match(username):
            errors.append(
                sheets.RowError(
                    n,
                    "username",
                    N_(
                        "'%(name)s' is not a valid user name: use "
                        "letters a-z, digits, '.', '_' or '-'"
                    ),
                    {"name": username},
                )
            )
        elif username in seen:
            errors.append(
                sheets.RowError(
                    n,
                    "username",
                    N_("'%(name)s' is already in row %(other)s"),
                    {"name": username, "other": seen[username]},
                )
            )
        elif find(username) is not None:
            errors.append(
                sheets.RowError(
                    n, "username", N_("the user '%(name)s' already exists"), {"name": username}
                )
            )
        seen.setdefault(username, n)
    full_name = sheets.require(row, "full_name", errors)
    role = None
    if role_text := sheets.require(row, "role", errors):
        try:
            role = parse_role(role_text)
        except Problem:
            errors.append(
                sheets.RowError(
                    n,
                    "role",
                    N_("'%(role)s' is not a role: write %(roles)s"),
                    {"role": role_text, "roles": ROLE_CHOICES},
                )
            )
    units = []
    for reference in filter(None, (r.strip() for r in row.get("units").split(";"))):
        unit = find_unit(reference)
        if unit is None:
            errors.append(
                sheets.RowError(
                    n,
                    "units",
                    N_("there is no unit '%(unit)s': give its path (11/03325) or its commune code"),
                    {"unit": reference},
                )
            )
        elif unit not in units:
            units.append(unit)
    agency = None
    if code := row.get("agency"):
        agency = find_agency(code)
        if agency is None:
            errors.append(
                sheets.RowError(
                    n, "agency", N_("there is no agency with the code '%(code)s'"), {"code": code}
                )
            )
    if role is not None and len(errors) == before:
        try:
            require_manage(actor, role, units, agency=agency)
        except Problem as problem:
            column = "role" if problem.code in ("403.10", "403.11") else "units"
            column = "agency" if problem.code == "403.14" else column
            errors.append(ProblemRowError(n, column, problem.type.message, {}, problem))
    if len(errors) > before:
        return None
    return _Planned(row, username, full_name, role, units, agency, row.get("password") or None)


#: How a spreadsheet may write the roles (in row errors).
ROLE_CHOICES = (
    "cán bộ, cán bộ xã, điều phối, trưởng cơ quan, quản trị"
    " (cadre, commune_official, coordinator, agency_lead, admin)"
)


@transactional
def import_users(data: bytes, filename: str, actor: User | None = None) -> sheets.ImportReport:
    """Create the users listed in an XLSX or CSV file (columns `COLUMNS`; units separated by
    ';'). Every row is checked first; with any error nothing is created and the report lists
    each bad row and column."""
    if actor is not None and actor.role not in (Role.ADMIN, Role.COORDINATOR):
        raise Problem("403.10")
    rows = sheets.read_rows(data, filename)
    report = sheets.ImportReport()
    if not rows:
        report.errors.append(sheets.RowError(0, "", N_("the file has no rows of users")))
        return report
    missing = [c for c in ("username", "full_name", "role") if c not in rows[0].values]
    if missing:
        for column in missing:
            report.errors.append(
                sheets.RowError(
                    1, column, N_("the column '%(column)s' is missing"), {"column": column}
                )
            )
        return report
    seen: dict[str, int] = {}
    planned = [p for row in rows if (p := _plan_row(row, actor, seen, report.errors))]
    if report.errors:
        return report
    for p in planned:
        report.created.append(
            create_user(p.username, p.full_name, p.role, p.password, p.units, p.agency, actor)
        )
    return report
