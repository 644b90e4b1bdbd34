"""Pairs: a cadre, team or organisation helps one household, with history.

A helper is a `User` (a cadre, or anyone who belongs to an agency) or an `Agency` of kind
team or organisation. A pair runs from `starts_on` until `ends_on` (half-open); ending it
keeps the row, and `reassign` ends it the day the new pair starts and links the two
(`replaced_by_id`), so who helped a household when stays readable.

Who pairs (and ends and reassigns) households:

* admin, or the operator's command (actor None): every household;
* coordinator: households inside their scope (their province or district);
* commune official: households of their commune(s);
* agency lead: only with their agency's members (users of the agency, the agency and its
  teams/organisations), and only households inside the communes and villages their agency is
  assigned to today.

A household must be active: a merged one names the survivor to pair instead (409.32), a
closed one is refused (409.33). Each change tells the helper's tablet at its next sync
(`server.services.sync.changes.pair_changed`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import Household, HouseholdStatus, Role, User
from server.models.programme import Agency, AgencyKind, Pair
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.access.users import ProblemRowError
from server.services.programme import agencies, today
from server.services.sheets import ImportReport, RowError, read_rows, require

#: Who may pair households (each inside their own bounds, see the module's docstring).
PAIRERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL, Role.AGENCY_LEAD})

Helper = User | Agency


def _tell_tablets(pair: Pair) -> None:
    """Record the change for the helper's tablet (the sync change log)."""
    from server.services.sync import changes

    changes.pair_changed(pair)


# -- who and what ---------------------------------------------------------------------------


def helper_name(helper: Helper) -> str:
    if isinstance(helper, Agency):
        return helper.name
    return f"{helper.full_name} ({helper.username})"


def household_name(household: Household) -> str:
    code = (household.properties or {}).get("household_code")
    label = household.label or household.id
    return f"{label} [{code}]" if code else label


def helper_of(pair: Pair) -> Helper:
    if pair.helper_user_id is not None:
        return db.session.get(User, pair.helper_user_id)
    return db.session.get(Agency, pair.helper_agency_id)


def _helper_columns(helper: Helper) -> dict[str, Any]:
    if isinstance(helper, Agency):
        return {"helper_user_id": None, "helper_agency_id": helper.id}
    return {"helper_user_id": helper.id, "helper_agency_id": None}


def _check_helper(helper: Helper) -> None:
    """Problem 400.32 unless `helper` can help households."""
    if isinstance(helper, Agency):
        ok = helper.active and AgencyKind(helper.kind) in (AgencyKind.TEAM, AgencyKind.ORGANISATION)
    else:
        ok = helper.active and (helper.role == Role.CADRE or helper.agency_id is not None)
    if not ok:
        raise Problem("400.32", helper=helper_name(helper))


def _check_household(household: Household) -> None:
    """Problem 409.32 for a merged household (naming the survivor), 409.33 for a closed one."""
    if household.status == HouseholdStatus.MERGED:
        survivor, seen = household, set()
        while survivor.merged_into_id and survivor.id not in seen:
            seen.add(survivor.id)
            survivor = db.session.get(Household, survivor.merged_into_id)
        raise Problem(
            "409.32", household=household_name(household), survivor=household_name(survivor)
        )
    if household.status != HouseholdStatus.ACTIVE:
        raise Problem("409.33", household=household_name(household))


def _member_of(helper: Helper, agency_ids: set[int]) -> bool:
    if isinstance(helper, Agency):
        return helper.id in agency_ids
    return helper.agency_id in agency_ids


def _units_of(household: Household) -> list[int]:
    return [u for u in (household.village_id, household.commune_id) if u is not None]


def require_pairer(actor: User | None, household: Household, helper: Helper) -> None:
    """Refuse `actor` pairing `household` with `helper`: 403.1 for a role that does not pair,
    403.2 outside their scope, 403.21/403.22 for an agency lead outside their agency or the
    units it is assigned to."""
    if actor is None or scope.is_admin(actor):
        return
    scope.require_role(actor, *PAIRERS)
    place = _place_name(household)
    if actor.role == Role.AGENCY_LEAD:
        own = set(db.session.scalars(scope.led_agency_ids(actor)))
        lead_agency = db.session.get(Agency, min(own)) if own else None
        if not own or not _member_of(helper, own):
            raise Problem(
                "403.21",
                helper=helper_name(helper),
                agency=lead_agency.name if lead_agency else "—",
            )
        if not _inside(household, scope.unit_ids(actor)):
            raise Problem("403.22", agency=lead_agency.name, place=place)
        return
    if not _inside(household, scope.unit_ids(actor)):
        raise Problem("403.2", what=place)


def _inside(household: Household, unit_ids: sa.Select) -> bool:
    """Whether `household`'s village or commune is one of `unit_ids`."""
    units = _units_of(household)
    if not units:
        return False
    return bool(db.session.scalar(sa.select(sa.or_(*(sa.literal(u).in_(unit_ids) for u in units)))))


def _place_name(household: Household) -> str:
    from server.models import AdminUnit

    unit_id = household.village_id or household.commune_id
    unit = db.session.get(AdminUnit, unit_id) if unit_id else None
    return unit.name if unit is not None else household_name(household)


def _current_pair(household: Household, helper: Helper, on: dt.date) -> Pair | None:
    columns = _helper_columns(helper)
    stmt = sa.select(Pair).where(
        Pair.household_id == household.id,
        sa.or_(Pair.ends_on.is_(None), Pair.ends_on > on),
    )
    if columns["helper_user_id"] is not None:
        stmt = stmt.where(Pair.helper_user_id == columns["helper_user_id"])
    else:
        stmt = stmt.where(Pair.helper_agency_id == columns["helper_agency_id"])
    return db.session.scalar(stmt.limit(1))


def _check(household: Household, helper: Helper, starts_on: dt.date, actor: User | None) -> None:
    """Every refusal of `pair`, before anything is written."""
    _check_household(household)
    _check_helper(helper)
    require_pairer(actor, household, helper)
    running = _current_pair(household, helper, starts_on)
    if running is not None:
        raise Problem(
            "409.34",
            helper=helper_name(helper),
            household=household_name(household),
            starts_on=running.starts_on.isoformat(),
        )


def _priority(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Problem("400.3", field="priority", reason=f"{value!r}: a whole number") from None
    if not 1 <= number <= 32767:
        raise Problem("400.3", field="priority", reason=f"{value!r}: from 1 to 32767")
    return number


# -- writing ----------------------------------------------------------------------------------


@transactional
def pair(
    household: Household,
    helper: Helper,
    priority: int | None = None,
    capacity_note: str | None = None,
    starts_on: dt.date | None = None,
    actor: User | None = None,
) -> Pair:
    """Pair `household` with `helper` from `starts_on` (today by default)."""
    starts_on = starts_on or today()
    priority = _priority(priority)
    _check(household, helper, starts_on, actor)
    return _create(household, helper, priority, capacity_note, starts_on, actor)


def _create(household, helper, priority, capacity_note, starts_on, actor) -> Pair:
    new = Pair(
        household_id=household.id,
        priority=priority,
        capacity_note=(capacity_note or "").strip()[:1000] or None,
        starts_on=starts_on,
        created_by_id=actor.id if actor is not None else None,
        **_helper_columns(helper),
    )
    db.session.add(new)
    db.session.flush()
    audit.record(
        actor,
        "pair.create",
        new,
        household=household.id,
        helper=_helper_ref(helper),
        priority=priority,
        starts_on=starts_on.isoformat(),
    )
    _tell_tablets(new)
    return new


def _helper_ref(helper: Helper) -> str:
    return f"agency:{helper.code}" if isinstance(helper, Agency) else f"user:{helper.username}"


def _require_running(pair_: Pair, on: dt.date) -> None:
    if pair_.ends_on is not None and pair_.ends_on <= on:
        raise Problem("409.31", what=N_("entity.pair"), ends_on=pair_.ends_on.isoformat())
    if on < pair_.starts_on:
        raise Problem("400.33", starts_on=pair_.starts_on.isoformat(), ends_on=on.isoformat())


@transactional
def end_pair(
    pair_: Pair, on: dt.date | None = None, reason: str | None = None, actor: User | None = None
) -> Pair:
    """End `pair_` on `on` (today by default): the helper no longer has the household then."""
    on = on or today()
    household = db.session.get(Household, pair_.household_id)
    require_pairer(actor, household, helper_of(pair_))
    _require_running(pair_, on)
    _close(pair_, actor, "pair.end", ends_on=on, end_reason=(reason or "").strip()[:200] or None)
    return pair_


def _close(pair_: Pair, actor: User | None, action: str, **fields: Any) -> None:
    """Set `fields` on `pair_` (its end, and why or by whom), audited with before and after,
    and tell the helper's tablets."""

    def shown(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    before = {name: shown(getattr(pair_, name)) for name in fields}
    for name, value in fields.items():
        setattr(pair_, name, value)
    after = {name: shown(value) for name, value in fields.items()}
    audit.record(actor, action, pair_, before=before, after=after)
    _tell_tablets(pair_)


@transactional
def reassign(
    pair_: Pair,
    helper: Helper,
    actor: User | None = None,
    reason: str | None = None,
    on: dt.date | None = None,
) -> Pair:
    """Give `pair_`'s household to `helper` from `on` (today): the old pair ends that day,
    points to the new one, and the priority and capacity note carry over."""
    on = on or today()
    household = db.session.get(Household, pair_.household_id)
    require_pairer(actor, household, helper_of(pair_))
    _require_running(pair_, on)
    if _helper_columns(helper) == _helper_columns(helper_of(pair_)):
        raise Problem(
            "409.34",
            helper=helper_name(helper),
            household=household_name(household),
            starts_on=pair_.starts_on.isoformat(),
        )
    _check(household, helper, on, actor)
    new = _create(household, helper, pair_.priority, pair_.capacity_note, on, actor)
    pair_.end_reason = (reason or "").strip()[:200] or N_("pair.reassigned")
    _close(pair_, actor, "pair.reassign", ends_on=on, replaced_by_id=new.id)
    return new


# -- reading --------------------------------------------------------------------------------


def _household_ids_in(ids: sa.Select) -> sa.Select:
    return sa.select(Household.id).where(
        sa.or_(Household.commune_id.in_(ids), Household.village_id.in_(ids))
    )


def listed(
    actor: User | None,
    household: Household | None = None,
    helper: Helper | None = None,
    current: bool = True,
) -> sa.Select:
    """The pairs `actor` may read (None: all), newest first; only today's when `current`.

    Coordinators and commune officials read the pairs of the households of their units; an
    agency lead those of their agency's members inside the units it is assigned to; a cadre
    their own (and their team's).
    """
    stmt = sa.select(Pair).order_by(Pair.starts_on.desc(), Pair.id.desc())
    if actor is not None and not scope.is_admin(actor):
        if actor.role == Role.AGENCY_LEAD:
            own = scope.led_agency_ids(actor)
            members = sa.select(User.id).where(User.agency_id.in_(own))
            stmt = stmt.where(
                sa.or_(Pair.helper_user_id.in_(members), Pair.helper_agency_id.in_(own)),
                Pair.household_id.in_(_household_ids_in(scope.unit_ids(actor))),
            )
        elif actor.role == Role.CADRE:
            mine = Pair.helper_user_id == actor.id
            if actor.agency_id is not None:
                mine = sa.or_(mine, Pair.helper_agency_id == actor.agency_id)
            stmt = stmt.where(mine)
        else:
            stmt = stmt.where(Pair.household_id.in_(_household_ids_in(scope.unit_ids(actor))))
    if household is not None:
        stmt = stmt.where(Pair.household_id == household.id)
    if helper is not None:
        columns = _helper_columns(helper)
        if columns["helper_user_id"] is not None:
            stmt = stmt.where(Pair.helper_user_id == helper.id)
        else:
            stmt = stmt.where(Pair.helper_agency_id == helper.id)
    if current:
        stmt = stmt.where(agencies.current_clause(Pair))
    return stmt


def readable(actor: User | None, pair_id: int) -> Pair:
    """Pair `pair_id` if `actor` may read it, else Problem 404.22."""
    found = db.session.scalar(listed(actor, current=False).where(Pair.id == pair_id))
    if found is None:
        raise Problem("404.22", pair=pair_id)
    return found


# -- finding what people write ---------------------------------------------------------------


def households_in_scope(actor: User | None) -> sa.Select:
    """The households `actor` may pair (all for the admin and the operator)."""
    stmt = sa.select(Household)
    if actor is None or scope.is_admin(actor):
        return stmt
    return stmt.where(Household.id.in_(_household_ids_in(scope.unit_ids(actor))))


def find_households(actor: User | None, text: str) -> list[Household]:
    """The households `actor` may pair that `text` names: its id, else its household code
    (the registration form's `household_code`), else its label; several when ambiguous."""
    text = text.strip()
    if not text:
        return []
    base = households_in_scope(actor)
    found = db.session.scalar(base.where(Household.id == text))
    if found is not None:
        return [found]
    code = Household.properties["household_code"].as_string()
    by_code = list(db.session.scalars(base.where(code == text).limit(5)))
    if by_code:
        return by_code
    return list(db.session.scalars(base.where(Household.label == text).limit(5)))


def find_household(actor: User | None, text: str) -> Household:
    """The one household `text` names for `actor`; Problem 404.23 if none or several."""
    found = find_households(actor, text)
    if len(found) != 1:
        raise Problem("404.23", household=text)
    return found[0]


def find_helper(text: str) -> Helper:
    """The helper `text` names: a username, else an agency code ("user:" or "agency:" before
    it says which); Problem 404.24."""
    from server.services.access import users

    text = text.strip()
    kind, _, name = text.partition(":")
    if kind in ("user", "agency") and name:  # "agency:HPN" when a username is also a code
        found = users.find(name.lower()) if kind == "user" else agencies.find(name)
        if found is None:
            raise Problem("404.24", helper=text)
        return found
    user = users.find(text.lower()) if text else None
    if user is not None:
        return user
    agency = agencies.find(text) if text and not text.isdigit() else None
    if agency is None:
        raise Problem("404.24", helper=text)
    return agency


# -- import ---------------------------------------------------------------------------------

#: The columns of a pairs file (lower-cased headers), with the other names people use.
COLUMNS = {
    "household": ("household", "household_id", "household_code", "hộ", "mã hộ"),
    "helper": ("helper", "username", "agency", "người giúp", "cán bộ"),
    "priority": ("priority", "thứ tự ưu tiên", "ưu tiên"),
    "capacity_note": ("capacity_note", "capacity note", "capacity", "khả năng thoát nghèo"),
    "starts_on": ("starts_on", "start", "start date", "from", "ngày bắt đầu"),
}


def _value(row, column: str) -> str:
    return next((row.get(n) for n in COLUMNS[column] if row.get(n)), "")


def _date(text: str) -> dt.date:
    text = text.strip()
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            return parse(text[:10] if "-" in text else text)
        except ValueError:
            continue
    raise ValueError(text)


@transactional
def import_pairs(data: bytes, filename: str, actor: User | None = None) -> ImportReport:
    """Pairs from an XLSX or CSV file: columns household (its id, household code or label),
    helper (a username or an agency code), priority, capacity_note, starts_on (YYYY-MM-DD or
    DD/MM/YYYY; today when empty).

    Every row is checked as `pair` would check it (household active and in the actor's
    scope, a helper who can help, no running pair of the same two, the agency lead's
    bounds); a file with any bad row creates nothing, and says what is wrong row by row.
    """
    if actor is not None:
        scope.require_role(actor, *PAIRERS)
    rows = read_rows(data, filename)
    errors: list[RowError] = []
    planned: list[tuple] = []
    seen: dict[tuple, int] = {}
    if not rows:
        errors.append(RowError(0, "", N_("The file has no data rows.")))
    for row in rows:
        before = len(errors)
        household_text, helper_text = _value(row, "household"), _value(row, "helper")
        if not household_text:
            require(row, "household", errors)
        if not helper_text:
            require(row, "helper", errors)
        starts_on, priority = today(), None
        if _value(row, "starts_on"):
            try:
                starts_on = _date(_value(row, "starts_on"))
            except ValueError:
                errors.append(
                    RowError(
                        row.number,
                        "starts_on",
                        N_("'%(value)s' is not a date: write YYYY-MM-DD or DD/MM/YYYY."),
                        {"value": _value(row, "starts_on")},
                    )
                )
        try:
            priority = _priority(_value(row, "priority"))
        except Problem:
            errors.append(
                RowError(
                    row.number,
                    "priority",
                    N_("'%(value)s' is not a priority: write a whole number, 1 first."),
                    {"value": _value(row, "priority")},
                )
            )
        if len(errors) > before:
            continue
        households = find_households(actor, household_text)
        elsewhere = find_households(None, household_text) if not households else []
        if len(elsewhere) == 1:  # there, but outside the actor's area: a refusal
            refusal = Problem("403.2", what=_place_name(elsewhere[0]))
            errors.append(ProblemRowError(row.number, "household", "", problem=refusal))
            continue
        if len(households) != 1:
            message = (
                N_("No household in your area of work has the id or code '%(value)s'.")
                if not households
                else N_(
                    "Several households have the code '%(value)s': give the household's id instead."
                )
            )
            errors.append(RowError(row.number, "household", message, {"value": household_text}))
            continue
        try:
            helper = find_helper(helper_text)
        except Problem:
            errors.append(
                RowError(
                    row.number,
                    "helper",
                    N_("No user or agency is called '%(value)s'."),
                    {"value": helper_text},
                )
            )
            continue
        household = households[0]
        key = (household.id, _helper_ref(helper))
        if key in seen:
            errors.append(
                RowError(
                    row.number,
                    "household",
                    N_("Row %(other)s already pairs this household with this helper."),
                    {"other": seen[key]},
                )
            )
            continue
        seen[key] = row.number
        try:
            _check(household, helper, starts_on, actor)
        except Problem as problem:
            column = "helper" if problem.code in ("400.32", "403.21") else "household"
            if problem.status == 403:
                errors.append(ProblemRowError(row.number, column, "", problem=problem))
            else:
                errors.append(RowError(row.number, column, problem.type.message, problem.params))
            continue
        planned.append((household, helper, priority, _value(row, "capacity_note"), starts_on))
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    for household, helper, priority, note, starts_on in planned:
        report.created.append(_create(household, helper, priority, note, starts_on, actor))
    return report
