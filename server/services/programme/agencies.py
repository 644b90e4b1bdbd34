"""Agencies and the communes and villages they are assigned to help.

Who manages what (the programme's rules, docs/programme.md):

* admin (or the operator's command, actor None): every agency and assignment;
* coordinator: agencies whose home unit is inside their scope (creating one there, editing
  it), and assignments of any active agency to communes and villages inside their scope;
* everybody signed in reads what concerns their area: a coordinator or commune official the
  agencies at home or assigned there, an agency lead their own agency and its teams.

A phase "2021-2025" is the period from 2021-01-01 until 2026-01-01 (half-open, like every
period of the programme's tables). The same agency cannot be assigned twice to the same unit
for overlapping periods (409.30); ending an assignment keeps the row, so the history of who
helped where stays.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, Role, UnitLevel, User
from server.models.programme import Agency, AgencyAssignment, AgencyKind, AgencyLevel, UnitCategory
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.programme import today

_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,40}$")
_PHASE = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")

#: Who manages agencies and assignments (inside their scope; the admin everywhere).
MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})


def find(code_or_id: str | int) -> Agency | None:
    """The agency with this code, or this id when given a number."""
    if isinstance(code_or_id, int) or str(code_or_id).isdigit():
        found = db.session.get(Agency, int(code_or_id))
        if found is not None:
            return found
    return db.session.scalar(sa.select(Agency).where(Agency.code == str(code_or_id).strip()))


def get(code_or_id: str | int) -> Agency:
    """`find`, or Problem 404.20."""
    agency = find(code_or_id)
    if agency is None:
        raise Problem("404.20", agency=str(code_or_id))
    return agency


def _in_scope(actor: User, unit: AdminUnit | None) -> bool:
    if unit is None:
        return scope.is_admin(actor)
    return bool(db.session.scalar(scope.in_scope(actor, unit)))


def require_manager(actor: User | None, home_unit: AdminUnit | None) -> None:
    """Problem 403.1 unless `actor` manages agencies; 403.2 when `home_unit` is outside their
    scope (a central agency, no home unit, is the admins')."""
    if actor is None or scope.is_admin(actor):
        return
    scope.require_role(actor, *MANAGERS)
    if home_unit is None:
        raise Problem("403.1")
    scope.require_unit(actor, home_unit)


def _enum(cls: type, value: Any, field: str):
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(member.value for member in cls)
        raise Problem("400.3", field=field, reason=f"{value!r}: one of {choices}") from None


def _check_parent(agency: Agency | None, parent: Agency | None) -> None:
    """Refuse a parent that is the agency itself or below it (a cycle)."""
    seen = parent
    while seen is not None and agency is not None:
        if seen.id == agency.id:
            raise Problem("400.3", field="parent", reason=f"{parent.code} is below {agency.code}")
        seen = seen.parent


def _require_lead(lead: User | None) -> None:
    if lead is not None and not lead.active:
        raise Problem("400.3", field="lead", reason=f"{lead.username} is deactivated")


@transactional
def create_agency(
    code: str,
    name: str,
    kind: AgencyKind | str = AgencyKind.AGENCY,
    level: AgencyLevel | str = AgencyLevel.PROVINCE,
    parent: Agency | None = None,
    home_unit: AdminUnit | None = None,
    lead: User | None = None,
    actor: User | None = None,
) -> Agency:
    """Create an agency (cơ quan), team (tổ công tác) or mass organisation (đoàn thể)."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise Problem("400.2", field="code")
    if not _CODE.match(code):
        raise Problem("400.3", field="code", reason=f"{code}: letters, digits, . - _ (at most 40)")
    if not name:
        raise Problem("400.2", field="name")
    kind, level = _enum(AgencyKind, kind, "kind"), _enum(AgencyLevel, level, "level")
    require_manager(actor, home_unit)
    _require_lead(lead)
    if db.session.scalar(sa.select(Agency.id).where(Agency.code == code)) is not None:
        raise Problem("409.5", what=N_("entity.agency"), name=code)
    agency = Agency(
        code=code,
        name=name[:300],
        kind=kind,
        level=level,
        parent=parent,
        home_unit=home_unit,
        lead_id=lead.id if lead else None,
        active=True,  # set before the audit reads it (the column default applies at flush)
    )
    db.session.add(agency)
    audit.record(actor, "agency.create", agency, **described(agency))
    return agency


def described(agency: Agency) -> dict[str, Any]:
    """The audited fields of `agency`, as plain values."""
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": AgencyKind(agency.kind).value,
        "level": AgencyLevel(agency.level).value,
        "parent": agency.parent.code if agency.parent is not None else None,
        "home_unit": agency.home_unit.path if agency.home_unit is not None else None,
        "lead": _username(agency.lead_id),
        "active": agency.active,
    }


def _username(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return db.session.scalar(sa.select(User.username).where(User.id == user_id))


EDITABLE = ("name", "kind", "level", "parent", "home_unit", "lead", "active")


@transactional
def update_agency(agency: Agency, *, actor: User | None, **changes: Any) -> Agency:
    """Change `agency`'s name, kind, level, parent, home_unit, lead or active flag.

    The actor must manage the agency where it is and, when it moves, where it goes.
    Audited with the fields that changed, before and after.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Problem("400.3", field=sorted(unknown)[0], reason="cannot be changed")
    require_manager(actor, agency.home_unit)
    before = described(agency)
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise Problem("400.2", field="name")
        agency.name = name[:300]
    if "kind" in changes:
        agency.kind = _enum(AgencyKind, changes["kind"], "kind")
    if "level" in changes:
        agency.level = _enum(AgencyLevel, changes["level"], "level")
    if "parent" in changes:
        _check_parent(agency, changes["parent"])
        agency.parent = changes["parent"]
    if "home_unit" in changes:
        require_manager(actor, changes["home_unit"])
        agency.home_unit = changes["home_unit"]
    if "lead" in changes:
        _require_lead(changes["lead"])
        agency.lead_id = changes["lead"].id if changes["lead"] is not None else None
    if "active" in changes:
        agency.active = bool(changes["active"])
    after = described(agency)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        audit.record(
            actor,
            "agency.update",
            agency,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return agency


def current_clause(model: Any, on: dt.date | None = None) -> sa.ColumnElement[bool]:
    """SQL: `model`'s half-open period holds `on` (today by default)."""
    on = on or today()
    return sa.and_(model.starts_on <= on, sa.or_(model.ends_on.is_(None), model.ends_on > on))


def listed(actor: User) -> sa.Select:
    """The agencies `actor` may see, by code."""
    stmt = sa.select(Agency).order_by(Agency.code)
    if scope.is_admin(actor):
        return stmt
    if actor.role == Role.AGENCY_LEAD:
        return stmt.where(Agency.id.in_(scope.led_agency_ids(actor)))
    ids = scope.unit_ids(actor)
    assigned_here = sa.select(AgencyAssignment.agency_id).where(AgencyAssignment.unit_id.in_(ids))
    visible = sa.or_(Agency.home_unit_id.in_(ids), Agency.id.in_(assigned_here))
    if actor.agency_id is not None:
        visible = sa.or_(visible, Agency.id == actor.agency_id)
    return stmt.where(visible)


def visible(actor: User, code_or_id: str | int) -> Agency:
    """The agency `code_or_id` if `actor` may see it, else Problem 404.20 (as if it did not
    exist: its name is not told outside)."""
    agency = find(code_or_id)
    if agency is None:
        raise Problem("404.20", agency=str(code_or_id))
    if actor is not None:
        ids = listed(actor).with_only_columns(Agency.id)
        if not db.session.scalar(sa.select(sa.literal(agency.id).in_(ids))):
            raise Problem("404.20", agency=str(code_or_id))
    return agency


# -- assignments ---------------------------------------------------------------------------


def phase_period(phase: str) -> tuple[str, dt.date, dt.date]:
    """("2021-2025", 2021-01-01, 2026-01-01) for "2021-2025"; Problem 400.30 otherwise."""
    match = _PHASE.match((phase or "").strip())
    if not match:
        raise Problem("400.30", phase=phase)
    first, last = int(match.group(1)), int(match.group(2))
    if not 1900 < first <= last < 2200:
        raise Problem("400.30", phase=phase)
    return f"{first}-{last}", dt.date(first, 1, 1), dt.date(last + 1, 1, 1)


def period_text(starts_on: dt.date, ends_on: dt.date | None) -> str:
    return f"{starts_on.isoformat()} – {ends_on.isoformat() if ends_on else '…'}"


def _overlapping(agency: Agency, unit: AdminUnit, starts_on: dt.date, ends_on: dt.date | None):
    stmt = sa.select(AgencyAssignment).where(
        AgencyAssignment.agency_id == agency.id,
        AgencyAssignment.unit_id == unit.id,
        sa.or_(AgencyAssignment.ends_on.is_(None), AgencyAssignment.ends_on > starts_on),
    )
    if ends_on is not None:
        stmt = stmt.where(AgencyAssignment.starts_on < ends_on)
    return db.session.scalar(stmt.limit(1))


def require_assigner(actor: User | None, unit: AdminUnit) -> None:
    """Problem 403.1 unless `actor` manages assignments, 403.2 outside their scope."""
    if actor is None or scope.is_admin(actor):
        return
    scope.require_role(actor, *MANAGERS)
    scope.require_unit(actor, unit)


@transactional
def assign(
    agency: Agency,
    unit: AdminUnit,
    category: UnitCategory | str = UnitCategory.POOR,
    phase: str | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    note: str | None = None,
    actor: User | None = None,
) -> AgencyAssignment:
    """Assign `agency` to help commune or village `unit` for a phase or between dates.

    With a phase, the dates default to the phase's and must lie inside it (400.34); without
    one, the assignment starts on `starts_on` (today by default) and lasts until `ends_on`
    (open-ended by default). A province or district is refused (400.31), an overlapping
    assignment of the same agency to the same unit too (409.30).
    """
    if unit.level not in (UnitLevel.COMMUNE, UnitLevel.VILLAGE):
        raise Problem("400.31", unit=unit.name)
    category = _enum(UnitCategory, category, "category")
    require_assigner(actor, unit)
    if not agency.active:
        raise Problem("400.3", field="agency", reason=f"{agency.name} is not active")
    if phase:
        phase, first, end = phase_period(phase)
        starts_on, ends_on = starts_on or first, ends_on or end
        if starts_on < first or ends_on > end:
            raise Problem(
                "400.34", starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat(), phase=phase
            )
    starts_on = starts_on or today()
    if ends_on is not None and ends_on < starts_on:
        raise Problem("400.33", starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    _lock(agency)
    clash = _overlapping(agency, unit, starts_on, ends_on)
    if clash is not None:
        raise Problem(
            "409.30",
            agency=agency.name,
            unit=unit.name,
            period=clash.phase or period_text(clash.starts_on, clash.ends_on),
        )
    assignment = AgencyAssignment(
        agency=agency,
        unit=unit,
        category=category,
        phase=phase or None,
        starts_on=starts_on,
        ends_on=ends_on,
        note=(note or "").strip()[:1000] or None,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(assignment)
    audit.record(
        actor,
        "assignment.create",
        assignment,
        agency=agency.code,
        unit=unit.path,
        category=category.value,
        phase=assignment.phase,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else None,
    )
    return assignment


def _lock(agency: Agency) -> None:
    """Serialise assignments of one agency on PostgreSQL (SQLite's write lock already does)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Agency.id).where(Agency.id == agency.id).with_for_update())


@transactional
def end_assignment(
    assignment: AgencyAssignment, on: dt.date | None = None, actor: User | None = None
) -> AgencyAssignment:
    """End `assignment` on `on` (today by default; it no longer counts from that day)."""
    require_assigner(actor, assignment.unit)
    on = on or today()
    if assignment.ends_on is not None and assignment.ends_on <= on:
        raise Problem(
            "409.31",
            what=f"{assignment.agency.name} – {assignment.unit.name}",
            ends_on=assignment.ends_on.isoformat(),
        )
    if on < assignment.starts_on:
        raise Problem("400.33", starts_on=assignment.starts_on.isoformat(), ends_on=on.isoformat())
    before = assignment.ends_on.isoformat() if assignment.ends_on else None
    assignment.ends_on = on
    audit.record(
        actor,
        "assignment.end",
        assignment,
        before={"ends_on": before},
        after={"ends_on": on.isoformat()},
    )
    return assignment


def assignments(
    actor: User | None,
    agency: Agency | None = None,
    unit: AdminUnit | None = None,
    current: bool = False,
) -> sa.Select:
    """The assignments `actor` may read (None: all), newest first, optionally of one agency,
    of one unit (and the villages below it), or only those running today."""
    stmt = sa.select(AgencyAssignment).order_by(
        AgencyAssignment.starts_on.desc(), AgencyAssignment.id.desc()
    )
    if actor is not None and not scope.is_admin(actor):
        if actor.role == Role.AGENCY_LEAD:
            stmt = stmt.where(AgencyAssignment.agency_id.in_(scope.led_agency_ids(actor)))
        else:
            stmt = stmt.where(AgencyAssignment.unit_id.in_(scope.unit_ids(actor)))
    if agency is not None:
        stmt = stmt.where(AgencyAssignment.agency_id == agency.id)
    if unit is not None:
        below = sa.select(AdminUnit.id).where(
            sa.or_(AdminUnit.id == unit.id, AdminUnit.path.like(f"{unit.path}/%"))
        )
        stmt = stmt.where(AgencyAssignment.unit_id.in_(below))
    if current:
        stmt = stmt.where(current_clause(AgencyAssignment))
    return stmt
