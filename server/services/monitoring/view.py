"""What people see of monitoring: rates per commune, agency and cadre, the trend by month, the
list of flags and one flag with its evidence. Every query is bounded by the reader's scope.

Who reads: commune officials (their communes), coordinators (their district or province),
agency leads (the communes their agency is assigned to, and the visits of their agency's
members), administrators (everything). Cadres get no monitoring view of others (403.85).
A flag's reason is rendered from its check's message and its `params`, in the reader's
language with the language's numbers (`reason`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from babel.numbers import format_decimal

from server import i18n
from server.db import db
from server.models import AdminUnit, Agency, Household, Role, Submission, User
from server.models.monitoring import FlagState, FlagSubject, MonitoringFlag, VisitEvidence
from server.problems import Problem
from server.services.access import scope
from server.services.monitoring.catalogue import CHECKS
from server.services.paging import Page, keyset_page
from server.services.reports.periods import Period

#: Who reads monitoring (cadres do not: they would read their colleagues' flags).
MONITORS = scope.REVIEWERS | {Role.AGENCY_LEAD}
#: The groupings of the overview.
GROUPS = ("commune", "agency", "cadre")
_LOCALES = {"vi": "vi_VN", "en": "en_US"}


def require_monitor(user: User) -> None:
    if user.role not in MONITORS:
        raise Problem("403.85")


def _members(user: User) -> sa.Select:
    """Ids of the people of the agencies `user` leads (their cadres and teams)."""
    return sa.select(User.id).where(User.agency_id.in_(scope.led_agency_ids(user)))


def flag_scope(user: User) -> sa.ColumnElement[bool]:
    """SQL: a flag is `user`'s to read: in their communes, or about their agency or its people."""
    ids = scope.unit_ids(user)
    if ids is None:
        return sa.true()
    seen = MonitoringFlag.commune_id.in_(ids)
    if user.role == Role.AGENCY_LEAD:
        seen = sa.or_(
            seen,
            MonitoringFlag.agency_id.in_(scope.led_agency_ids(user)),
            MonitoringFlag.user_id.in_(_members(user)),
        )
    return seen


def evidence_scope(user: User) -> sa.ColumnElement[bool]:
    """SQL: a visit's evidence is `user`'s to read (as `flag_scope`)."""
    ids = scope.unit_ids(user)
    if ids is None:
        return sa.true()
    seen = VisitEvidence.commune_id.in_(ids)
    if user.role == Role.AGENCY_LEAD:
        seen = sa.or_(seen, VisitEvidence.user_id.in_(_members(user)))
    return seen


# -- reasons ---------------------------------------------------------------------------------


def _shown_param(value: Any, lang: str) -> Any:
    """A param as the language writes it: numbers `1.234,5` in Vietnamese, dates dd/mm/yyyy."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return format_decimal(value, locale=_LOCALES.get(lang, "vi_VN"))
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


def reason(flag: MonitoringFlag, lang: str) -> str:
    """The flag's reason in `lang`, filled with its params (a missing one shows as '?')."""
    check = CHECKS.get(flag.check)
    if check is None:
        return flag.check
    values = {name: "?" for name in check.params}
    values |= {k: _shown_param(v, lang) for k, v in (flag.params or {}).items()}
    return i18n.gettext(check.reason, lang) % values


def title(code: str, lang: str) -> str:
    check = CHECKS.get(code)
    return i18n.gettext(check.title, lang) if check is not None else code


# -- the overview ----------------------------------------------------------------------------


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time(), dt.UTC)
    return start, dt.datetime.combine(period.end, dt.time(), dt.UTC)


def visit_time():
    return sa.func.coalesce(VisitEvidence.started_at, VisitEvidence.received_at)


@dataclass
class GroupRow:
    """One commune, agency or cadre of the overview."""

    key: int | None
    name: str
    visits: int = 0
    flagged: int = 0  # visits with at least one flag
    by_check: dict[str, int] = field(default_factory=dict)  # flags per check
    states: dict[str, int] = field(default_factory=dict)  # flags per state

    def rate(self, code: str) -> float | None:
        return self.by_check.get(code, 0) / self.visits if self.visits else None

    @property
    def flagged_rate(self) -> float | None:
        return self.flagged / self.visits if self.visits else None


@dataclass
class Overview:
    period: Period
    group: str
    rows: list[GroupRow]
    months: list[tuple[str, int, int]]  # (yyyy-mm, visits, flagged visits)
    checks: list[str]


def _group_columns(group: str):
    """The evidence and flag columns a grouping counts by."""
    if group == "commune":
        return VisitEvidence.commune_id, MonitoringFlag.commune_id
    if group == "cadre":
        return VisitEvidence.user_id, MonitoringFlag.user_id
    return User.agency_id, sa.func.coalesce(MonitoringFlag.agency_id, User.agency_id)


def names_of(group: str, keys: set) -> dict:
    keys = {k for k in keys if k is not None}
    if not keys:
        return {}
    model = {"commune": AdminUnit, "cadre": User, "agency": Agency}[group]
    label = User.full_name if model is User else model.name
    return dict(db.session.execute(sa.select(model.id, label).where(model.id.in_(keys))).all())


def agency_names(ids: set) -> dict:
    return names_of("agency", ids)


def overview(user: User, period: Period, group: str = "commune") -> Overview:
    """Visits, flagged visits and flags per check and state, per `group`, in `period`."""
    require_monitor(user)
    if group not in GROUPS:
        raise Problem("400.88", field="group", reason=f"give one of {', '.join(GROUPS)}")
    start, end = bounds(period)
    ev_key, flag_key = _group_columns(group)
    when = visit_time()
    visits = (
        sa.select(ev_key, sa.func.count())
        .select_from(VisitEvidence)
        .outerjoin(User, User.id == VisitEvidence.user_id)
        .where(evidence_scope(user), when >= start, when < end)
        .group_by(ev_key)
    )
    rows: dict[Any, GroupRow] = {}

    def row(key) -> GroupRow:
        return rows.setdefault(key, GroupRow(key, ""))

    for key, count in db.session.execute(visits):
        row(key).visits = count
    flags = flags_in(user, period).outerjoin(User, User.id == MonitoringFlag.user_id)
    counted = flags.with_only_columns(
        flag_key, MonitoringFlag.check, MonitoringFlag.state, sa.func.count()
    ).group_by(flag_key, MonitoringFlag.check, MonitoringFlag.state)
    for key, code, state, count in db.session.execute(counted):
        r = row(key)
        r.by_check[code] = r.by_check.get(code, 0) + count
        r.states[FlagState(state).value] = r.states.get(FlagState(state).value, 0) + count
    flagged = (
        flags.where(MonitoringFlag.subject == FlagSubject.VISIT)
        .with_only_columns(flag_key, sa.func.count(sa.distinct(MonitoringFlag.submission_id)))
        .group_by(flag_key)
    )
    for key, count in db.session.execute(flagged):
        row(key).flagged = count
    names = names_of(group, set(rows))
    for key, r in rows.items():
        r.name = names.get(key, "") if key is not None else ""
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.name, r.key or 0))
    return Overview(period, group, ordered, months(user, period), list(CHECKS))


def flags_in(user: User, period: Period) -> sa.Select:
    return sa.select(MonitoringFlag).where(
        flag_scope(user),
        MonitoringFlag.observed_on >= period.start,
        MonitoringFlag.observed_on < period.end,
    )


def months(user: User, period: Period) -> list[tuple[str, int, int]]:
    """Visits and flagged visits per month of `period`, oldest first."""
    start, end = bounds(period)
    when = visit_time()
    year, month = sa.extract("year", when), sa.extract("month", when)
    visits = (
        sa.select(year, month, sa.func.count())
        .where(evidence_scope(user), when >= start, when < end)
        .group_by(year, month)
    )
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for y, m, count in db.session.execute(visits):
        by_month[f"{int(y):04d}-{int(m):02d}"][0] = count
    fy, fm = (
        sa.extract("year", MonitoringFlag.observed_on),
        sa.extract("month", MonitoringFlag.observed_on),
    )
    flagged = (
        flags_in(user, period)
        .where(MonitoringFlag.subject == FlagSubject.VISIT)
        .with_only_columns(fy, fm, sa.func.count(sa.distinct(MonitoringFlag.submission_id)))
        .group_by(fy, fm)
    )
    for y, m, count in db.session.execute(flagged):
        by_month[f"{int(y):04d}-{int(m):02d}"][1] = count
    return [(k, v[0], v[1]) for k, v in sorted(by_month.items())]


# -- the list of flags -----------------------------------------------------------------------


@dataclass(frozen=True)
class FlagFilter:
    check: str | None = None
    state: FlagState | None = None
    commune_id: int | None = None
    user_id: int | None = None
    agency_id: int | None = None
    month: str | None = None  # yyyy-mm

    @classmethod
    def parse(cls, args: dict[str, str]) -> FlagFilter:
        """From query parameters; 400.88 names the one that is wrong."""
        check = args.get("check") or None
        if check is not None and check not in CHECKS:
            raise Problem("400.88", field="check", reason=f"give one of {', '.join(CHECKS)}")
        state = args.get("state") or None
        if state is not None and state not in {s.value for s in FlagState}:
            raise Problem("400.88", field="state", reason="give open, confirmed or dismissed")
        month = args.get("month") or None
        if month is not None:
            try:
                dt.date.fromisoformat(f"{month}-01")
            except ValueError:
                raise Problem("400.88", field="month", reason="give a month like 2026-06") from None
        ids = {name: parse_id(args, name) for name in ("commune", "cadre", "agency")}
        return cls(
            check,
            FlagState(state) if state else None,
            ids["commune"],
            ids["cadre"],
            ids["agency"],
            month,
        )

    def args(self) -> dict[str, str]:
        """The query parameters naming this filter again (links to the next page)."""
        values = {
            "check": self.check,
            "state": self.state.value if self.state else None,
            "commune": self.commune_id,
            "cadre": self.user_id,
            "agency": self.agency_id,
            "month": self.month,
        }
        return {k: str(v) for k, v in values.items() if v is not None}


def parse_id(args: dict[str, str], name: str) -> int | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise Problem("400.88", field=name, reason="give a number")
    return int(text)


def flags(user: User, f: FlagFilter, after: int | None, limit: int = 50) -> Page:
    """The flags `user` may read that match `f`, newest first, a page at a time."""
    require_monitor(user)
    stmt = sa.select(MonitoringFlag).where(flag_scope(user))
    if f.check:
        stmt = stmt.where(MonitoringFlag.check == f.check)
    if f.state:
        stmt = stmt.where(MonitoringFlag.state == f.state)
    if f.commune_id is not None:
        stmt = stmt.where(MonitoringFlag.commune_id == f.commune_id)
    if f.user_id is not None:
        stmt = stmt.where(MonitoringFlag.user_id == f.user_id)
    if f.agency_id is not None:
        members = sa.select(User.id).where(User.agency_id == f.agency_id)
        stmt = stmt.where(
            sa.or_(MonitoringFlag.agency_id == f.agency_id, MonitoringFlag.user_id.in_(members))
        )
    if f.month:
        first = dt.date.fromisoformat(f"{f.month}-01")
        after_month = (first + dt.timedelta(days=32)).replace(day=1)
        stmt = stmt.where(
            MonitoringFlag.observed_on >= first, MonitoringFlag.observed_on < after_month
        )
    return keyset_page(stmt, MonitoringFlag.id, after, limit, descending=True)


def readable_flag(user: User, flag_id: int, *, lock: bool = False) -> MonitoringFlag:
    """The flag `flag_id`, or 404.85 when `user` may not read it (as for none)."""
    require_monitor(user)
    stmt = sa.select(MonitoringFlag).where(MonitoringFlag.id == flag_id, flag_scope(user))
    if lock:
        stmt = stmt.with_for_update()
    found = db.session.scalar(stmt)
    if found is None:
        raise Problem("404.85", flag_id=flag_id)
    return found


# -- one flag and its evidence ---------------------------------------------------------------


@dataclass
class Compared:
    """One answer of the visit beside the previous visit's."""

    name: str
    now: Any
    before: Any

    @property
    def same(self) -> bool:
        return self.now == self.before


@dataclass
class FlagPage:
    flag: MonitoringFlag
    evidence: VisitEvidence | None
    submission: Submission | None
    household: Household | None
    previous: VisitEvidence | None = None
    previous_submission: Submission | None = None
    compared: list[Compared] = field(default_factory=list)
    run: list[tuple[VisitEvidence, Submission | None]] = field(default_factory=list)
    people: dict[int, str] = field(default_factory=dict)  # full names by user id
    places: dict[int, str] = field(default_factory=dict)  # unit names by id


#: Answers that say nothing about the household (same on every visit by construction).
TRIVIAL = {"meta", "start", "end", "today", "deviceid", "username", "instanceID", "audit"}
#: How many visits of a fast run a page shows at most.
RUN_LIMIT = 20


def flag_page(user: User, flag_id: int) -> FlagPage:
    flag = readable_flag(user, flag_id)
    evidence = submission = None
    if flag.submission_id is not None:
        submission = db.session.get(Submission, flag.submission_id)
        evidence = db.session.scalar(
            sa.select(VisitEvidence).where(VisitEvidence.submission_id == flag.submission_id)
        )
    household_id = flag.household_id or (evidence.household_id if evidence else None)
    household = db.session.get(Household, household_id) if household_id else None
    page = FlagPage(flag, evidence, submission, household)
    if evidence is not None and flag.check == "copied":
        _compare_previous(page, evidence, submission)
    if evidence is not None and flag.check == "fast_run":
        _fast_run(page, evidence)
    people = {flag.user_id, flag.decided_by_id, evidence.user_id if evidence else None}
    page.people = names_of("cadre", people | {e.user_id for e, _s in page.run})
    page.places = names_of("commune", {flag.commune_id, flag.village_id})
    return page


def _compare_previous(page: FlagPage, evidence: VisitEvidence, submission: Submission | None):
    """The household's visit before this one, and each answer beside its previous value."""
    if evidence.household_id is None or evidence.started_at is None or submission is None:
        return
    previous = db.session.scalar(
        sa.select(VisitEvidence)
        .where(
            VisitEvidence.household_id == evidence.household_id,
            VisitEvidence.started_at < evidence.started_at,
            VisitEvidence.id != evidence.id,
        )
        .order_by(VisitEvidence.started_at.desc())
        .limit(1)
    )
    if previous is None:
        return
    page.previous = previous
    page.previous_submission = db.session.get(Submission, previous.submission_id)
    now = _flat(submission.answers or {})
    before = _flat(page.previous_submission.answers or {}) if page.previous_submission else {}
    page.compared = [Compared(k, now.get(k), before.get(k)) for k in sorted(set(now) | set(before))]


def _flat(answers: dict, prefix: str = "") -> dict[str, Any]:
    """Answers as `group/name` -> value, the trivial fields left out."""
    out: dict[str, Any] = {}
    for key, value in answers.items():
        if key in TRIVIAL:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flat(value, f"{name}/")
        else:
            out[name] = value
    return out


def _fast_run(page: FlagPage, evidence: VisitEvidence) -> None:
    """The cadre's other visits within the run's minutes of this one."""
    if evidence.user_id is None or evidence.started_at is None:
        return
    minutes = page.flag.params.get("minutes")
    span = dt.timedelta(minutes=float(minutes) if isinstance(minutes, int | float) else 30)
    stmt = (
        sa.select(VisitEvidence, Submission)
        .outerjoin(Submission, Submission.id == VisitEvidence.submission_id)
        .where(
            VisitEvidence.user_id == evidence.user_id,
            VisitEvidence.started_at >= evidence.started_at - span,
            VisitEvidence.started_at <= evidence.started_at + span,
            VisitEvidence.id != evidence.id,
        )
        .order_by(VisitEvidence.started_at)
        .limit(RUN_LIMIT)
    )
    page.run = [(e, s) for e, s in db.session.execute(stmt).all()]
