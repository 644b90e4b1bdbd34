"""What the review site reads: a commune's dashboard, the review queue, the households list
and a household's page, within scope.

Read-only; every query starts from `server.services.access.scope` (households from
`household_review.visible`, duplicate cases from `duplicates.cases`), so an
official never counts or lists another commune's records.

What waits for review is a list of kinds (`WAITING_KINDS`); each kind is a
function counting that kind for a commune and the page that lists it. The
household pages add theirs (conflicts H3, possible duplicates D2, exits to
certify) with `register_waiting_kind`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload, undefer

from forms.library import REGISTRATION_FORM_ID, VISIT_FORM_ID
from forms.poverty import load_standards
from server import i18n
from server.db import db
from server.i18n import N_
from server.models import (
    AdminUnit,
    DuplicateCase,
    Form,
    FormVersion,
    Household,
    HouseholdConflict,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
    QuarantineItem,
    ReviewState,
    Role,
    Submission,
    UnitLevel,
    User,
)
from server.problems import Problem
from server.services.access import scope
from server.services.duplicates import cases as duplicates
from server.services.households import review as household_review
from server.services.households import search
from server.services.paging import Page, keyset_page
from server.services.receiving import quarantine
from server.services.review import exits

PAGE_SIZE = 25


# -- communes ------------------------------------------------------------------------------


def communes(user: User) -> list[AdminUnit]:
    """The communes `user` reviews: in their scope (an official's own commune)."""
    stmt = sa.select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE)
    ids = scope.unit_ids(user)
    if ids is not None:
        stmt = stmt.where(AdminUnit.id.in_(ids))
    return list(db.session.scalars(stmt.order_by(AdminUnit.name, AdminUnit.id)))


def commune_for(user: User, commune_id: int | None) -> tuple[AdminUnit, list[AdminUnit]]:
    """The commune asked for (default: the first one), and every commune `user` reviews.

    404.1 when the commune is not one of theirs (the same answer as for none).
    """
    found = communes(user)
    if not found:
        raise Problem("404.1")
    if commune_id is None:
        return found[0], found
    chosen = next((c for c in found if c.id == commune_id), None)
    if chosen is None:
        raise Problem("404.1")
    return chosen, found


def villages(commune: AdminUnit) -> list[AdminUnit]:
    stmt = sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id)
    return list(db.session.scalars(stmt.order_by(AdminUnit.name, AdminUnit.id)))


def _senders(commune: AdminUnit) -> tuple[sa.Select, sa.Select]:
    """(who sent submissions placed in the commune, who working there sent unplaced ones).

    The first skips through the (commune, sender, form version) index from one sender to
    the next (a recursive "next larger sender"; PostgreSQL before 18 has no skip scan), so
    it reads one index entry per sender instead of every submission of the commune's years.
    """
    later = aliased(Submission)
    found = (
        sa.select(sa.func.min(Submission.submitter_id).label("id"))
        .where(Submission.commune_id == commune.id)
        .cte("senders", recursive=True)
    )
    following = (
        sa.select(sa.func.min(later.submitter_id))
        .where(later.commune_id == commune.id, later.submitter_id > found.c.id)
        .scalar_subquery()
    )
    found = found.union_all(sa.select(following).where(found.c.id.is_not(None)))
    placed = sa.select(found.c.id).where(found.c.id.is_not(None))
    units = sa.select(AdminUnit.id).where(
        sa.or_(AdminUnit.id == commune.id, AdminUnit.parent_id == commune.id)
    )
    workers = scope.senders(units)
    unplaced = workers.where(
        sa.exists().where(
            later.commune_id.is_(None),
            later.village_id.is_(None),
            later.submitter_id == workers.selected_columns[0],
        )
    )
    return placed, unplaced


def cadres(commune: AdminUnit) -> list[User]:
    """The people who sent submissions in the commune (cadres, mostly), by name."""
    placed, unplaced = _senders(commune)
    stmt = sa.select(User).where(sa.or_(User.id.in_(placed), User.id.in_(unplaced)))
    return list(db.session.scalars(stmt.order_by(User.full_name, User.id)))


def forms_of(commune: AdminUnit) -> list[Form]:
    """The forms submissions in the commune were filled with: per form version, one look-up
    in the (commune, sender, form version) index for each of the commune's senders."""
    placed, unplaced = _senders(commune)
    placed_here = sa.exists().where(
        Submission.commune_id == commune.id,
        Submission.submitter_id.in_(placed),
        Submission.form_version_id == FormVersion.id,
    )
    unplaced_here = sa.exists().where(
        Submission.commune_id.is_(None),
        Submission.village_id.is_(None),
        Submission.submitter_id.in_(unplaced),
        Submission.form_version_id == FormVersion.id,
    )
    used = sa.select(FormVersion.form_pk).where(sa.or_(placed_here, unplaced_here))
    stmt = sa.select(Form).where(Form.id.in_(used))
    return list(db.session.scalars(stmt.order_by(Form.title)))


# -- what waits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingKind:
    """One kind of thing waiting for a decision: its key, an English label (translated by the
    site), the page that lists it (endpoint and arguments) and how to count it."""

    key: str
    label: str
    endpoint: str
    args: Callable[[AdminUnit], dict]
    count: Callable[[User, AdminUnit], int]


def reviews_whole_commune(user: User, commune: AdminUnit) -> bool:
    """Whether every submission of `commune`'s queue (`scope.in_commune`) is in `user`'s scope:
    a reviewer (not a cadre, whose scope is their villages and what they sent) whose units
    hold the commune, so its villages and whoever works there too (`scope.submissions`)."""
    if user.role == Role.CADRE:
        return False
    return bool(db.session.scalar(scope.in_scope(user, commune)))


def commune_submissions(
    user: User, commune: AdminUnit, part: sa.ColumnElement[bool] | None = None
) -> sa.Select:
    """Submissions of `commune`'s queue (or of one `part` of it, `queue_parts`) that `user`
    may read. For a reviewer of the whole commune the scope's subqueries (every unit and
    sender of their scope, in an OR that PostgreSQL can only check row by row) are left
    out: they would keep nothing out."""
    where = scope.in_commune(commune) if part is None else part
    if reviews_whole_commune(user, commune):
        return sa.select(Submission).where(where)
    return scope.submissions(user).where(where)


def queue_parts(commune: AdminUnit) -> tuple[sa.ColumnElement[bool], ...]:
    """`scope.in_commune` as its two disjoint parts, placed in the commune and unplaced from
    someone working there: each is a range of the (commune, superseded, received) index, so
    a count or a newest-first page reads the index, where their OR reads every row."""
    units = sa.select(AdminUnit.id).where(
        sa.or_(AdminUnit.id == commune.id, AdminUnit.parent_id == commune.id)
    )
    return Submission.commune_id == commune.id, scope.unplaced_from(units)


def _in_state(state: ReviewState) -> Callable[[User, AdminUnit], int]:
    def count(user: User, commune: AdminUnit) -> int:
        stmt = (
            commune_submissions(user, commune)
            .where(Submission.review_state == state, Submission.superseded.is_(False))
            .with_only_columns(sa.func.count())
            .order_by(None)
        )
        return db.session.scalar(stmt) or 0

    return count


def quarantine_page(
    user: User, commune: AdminUnit, state: str = "open", after: int | None = None, limit: int = 50
) -> tuple[list[QuarantineItem], int | None]:
    """One page of the commune's quarantine, oldest first, and the `after` of the next page."""
    page = quarantine.visible(user, state=state, commune=commune, after=after, limit=limit)
    return page.items, page.next_after


def _quarantine(user: User, commune: AdminUnit) -> int:
    """Payloads of the commune kept in quarantine, not resolved yet. For a reviewer of the
    commune (the dashboard's readers: `commune_for` found it in their scope) every payload
    of the commune is in scope (`scope.quarantine_items`: sent by someone working in their
    units, or linked to a submission they may read), so the scope's subqueries over every
    submission they may read are left out."""
    if user.role in scope.REVIEWERS and db.session.scalar(scope.in_scope(user, commune)):
        stmt = sa.select(sa.func.count()).where(quarantine.in_commune(commune))
    else:
        stmt = quarantine.of_commune(user, commune).with_only_columns(sa.func.count())
    stmt = stmt.where(QuarantineItem.resolved_at.is_(None))
    return db.session.scalar(stmt) or 0


def _held_updates(user: User, commune: AdminUnit) -> int:
    """Household updates held for the three-way merge (H3, H5) in the commune."""
    stmt = (
        sa.select(sa.func.count())
        .select_from(PendingHouseholdUpdate)
        .join(Submission, Submission.id == PendingHouseholdUpdate.submission_id)
        .where(PendingHouseholdUpdate.resolved_at.is_(None), Submission.commune_id == commune.id)
    )
    return db.session.scalar(stmt) or 0


def _queue_args(state: str) -> Callable[[AdminUnit], dict]:
    return lambda commune: {"commune": commune.id, "state": state}


WAITING_KINDS: list[WaitingKind] = [
    WaitingKind(
        "received", "Submissions received", "web.queue", _queue_args("received"),
        _in_state(ReviewState.RECEIVED),
    ),
    WaitingKind(
        "has_issues", "Submissions with issues", "web.queue", _queue_args("has_issues"),
        _in_state(ReviewState.HAS_ISSUES),
    ),
    WaitingKind(
        "returned", "Returned, waiting for the cadre", "web.queue", _queue_args("returned"),
        _in_state(ReviewState.RETURNED),
    ),
    WaitingKind(
        "quarantine", "Kept in quarantine", "web.quarantine", lambda c: {"commune": c.id},
        _quarantine,
    ),
    WaitingKind(
        "held_updates", "Household updates held for merging", "web.dashboard",
        lambda c: {"commune": c.id}, _held_updates,
    ),
]  # fmt: skip


def _open_duplicates(user: User, commune: AdminUnit) -> int:
    """Possible duplicate households (D2) of the commune waiting for a reviewer."""
    stmt = (
        duplicates.cases(user)
        .where(DuplicateCase.commune_id == commune.id, DuplicateCase.status == "open")
        .with_only_columns(sa.func.count())
    )
    return db.session.scalar(stmt) or 0


def _conflicted_households(user: User, commune: AdminUnit) -> int:
    """Households of the commune with conflicting edits to resolve (H3)."""
    stmt = (
        household_review.visible(user)
        .where(Household.commune_id == commune.id, Household.open_conflicts > 0)
        .with_only_columns(sa.func.count())
    )
    return db.session.scalar(stmt) or 0


def _household_kinds() -> None:
    """The household pages' kinds: conflicts (H3), possible duplicates (D2), exits to certify."""
    register_waiting_kind(
        WaitingKind(
            "conflicts", "Households with conflicting edits", "web.households",
            lambda c: {"commune": c.id, "conflicts": "1"}, _conflicted_households,
        )
    )  # fmt: skip
    register_waiting_kind(
        WaitingKind(
            "duplicates", "Possible duplicate households", "web.duplicates",
            lambda c: {"commune": c.id}, _open_duplicates,
        )
    )  # fmt: skip
    register_waiting_kind(
        WaitingKind(
            "exits", "Poverty exits to certify", "web.exits", lambda c: {"commune": c.id},
            exits.count_waiting,
        )
    )  # fmt: skip


def register_waiting_kind(kind: WaitingKind) -> None:
    """Add a kind to the dashboard (household conflicts, possible duplicates), once."""
    if all(k.key != kind.key for k in WAITING_KINDS):
        WAITING_KINDS.append(kind)


# -- the dashboard -------------------------------------------------------------------------


@dataclass
class CadreVisits:
    user_id: int
    name: str
    visits: int = 0
    registrations: int = 0
    other: int = 0


@dataclass
class Dashboard:
    commune: AdminUnit
    waiting: list[tuple[WaitingKind, int]]
    poverty: list[tuple[str, dict, int]]  # (status, labels by language, households)
    households: int
    month_start: dt.date
    visits: list[CadreVisits] = field(default_factory=list)
    exits_certified: int = 0
    year_start: dt.date | None = None


def dashboard(user: User, commune: AdminUnit) -> Dashboard:
    _household_kinds()
    waiting = [(kind, kind.count(user, commune)) for kind in WAITING_KINDS]
    poverty, total = poverty_counts(commune)
    start = month_start()
    local = start.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    year = exits.year_start()
    return Dashboard(
        commune, waiting, poverty, total, local, visits_by_cadre(commune, start),
        exits.certified_since(commune, year), year,
    )  # fmt: skip


def poverty_counts(commune: AdminUnit) -> tuple[list[tuple[str, dict, int]], int]:
    """Active households of the commune by the shipped forms' `poverty_status` property (its
    column: one GROUP BY read from the (commune, status, poverty status) index)."""
    status = Household.poverty_status
    stmt = (
        sa.select(status, sa.func.count())
        .where(Household.commune_id == commune.id, Household.status == HouseholdStatus.ACTIVE)
        .group_by(status)
    )
    counts = {key or "": n for key, n in db.session.execute(stmt)}
    rows = []
    for key, text in load_standards().statuses.items():
        rows.append((key, {"vi": text.vi, "en": text.en}, counts.pop(key, 0)))
    unknown = sum(counts.values())
    if unknown:
        unclassified = {lang: i18n.gettext(N_("Not classified"), lang) for lang in i18n.LANGUAGES}
        rows.append(("", unclassified, unknown))
    return rows, sum(n for *_, n in rows)


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    """The first instant of this month in the server's time zone, in UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.astimezone(dt.UTC)


def visits_by_cadre(commune: AdminUnit, since: dt.datetime) -> list[CadreVisits]:
    """Submissions received in the commune since `since`, per sender and kind of form."""
    stmt = (
        sa.select(User.id, User.full_name, Form.form_id, sa.func.count())
        .select_from(Submission)
        .join(User, User.id == Submission.submitter_id)
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .join(Form, Form.id == FormVersion.form_pk)
        .where(
            scope.in_commune(commune),
            Submission.received_at >= since,
            Submission.superseded.is_(False),
            User.role == Role.CADRE,
        )
        .group_by(User.id, User.full_name, Form.form_id)
    )
    by_user: dict[int, CadreVisits] = {}
    for uid, name, form_id, n in db.session.execute(stmt):
        row = by_user.setdefault(uid, CadreVisits(uid, name))
        if form_id == VISIT_FORM_ID:
            row.visits += n
        elif form_id == REGISTRATION_FORM_ID:
            row.registrations += n
        else:
            row.other += n
    return sorted(by_user.values(), key=lambda r: (-r.visits, -r.registrations, r.name))


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    state: str | None = None
    village_id: int | None = None
    submitter_id: int | None = None
    form_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1


@dataclass
class QueuePage:
    items: list[Submission]
    total: int
    page: int
    pages: int


def _queue_query(
    user: User, commune: AdminUnit, f: QueueFilter, part: sa.ColumnElement[bool] | None = None
) -> sa.Select:
    """The current versions of submissions in the commune (or `part` of its queue), in
    `user`'s scope, matching `f`."""
    stmt = commune_submissions(user, commune, part).where(Submission.superseded.is_(False))
    if f.state:
        stmt = stmt.where(Submission.review_state == ReviewState(f.state))
    if f.village_id:
        stmt = stmt.where(Submission.village_id == f.village_id)
    if f.submitter_id:
        stmt = stmt.where(Submission.submitter_id == f.submitter_id)
    if f.form_id:
        versions = sa.select(FormVersion.id).join(Form).where(Form.form_id == f.form_id)
        stmt = stmt.where(Submission.form_version_id.in_(versions))
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time(), zone)
        stmt = stmt.where(Submission.received_at >= start)
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), zone)
        stmt = stmt.where(Submission.received_at < end)
    return stmt


#: The states a submission waits in for a reviewer's decision.
WAITING_STATES = (ReviewState.RECEIVED, ReviewState.HAS_ISSUES)


def queue(user: User, commune: AdminUnit, f: QueueFilter) -> QueuePage:
    """The current versions of submissions in the commune matching `f`, newest first.

    Counted and paged per part of the queue (`queue_parts`), so PostgreSQL reads the page
    from the index in order and counts from it, instead of sorting the commune's years."""
    parts = [_queue_query(user, commune, f, part) for part in queue_parts(commune)]
    counts = [p.with_only_columns(sa.func.count()).order_by(None).scalar_subquery() for p in parts]
    total = db.session.scalar(sa.select(sum(counts[1:], counts[0]))) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    newest = (Submission.received_at.desc(), Submission.id.desc())
    end = page * PAGE_SIZE
    heads = [
        p.with_only_columns(Submission.id, Submission.received_at).order_by(*newest).limit(end)
        for p in parts
    ]
    merged = sa.union_all(*(h.subquery().select() for h in heads)).subquery()
    ids = sa.select(merged.c.id).order_by(merged.c.received_at.desc(), merged.c.id.desc())
    chosen = list(db.session.scalars(ids.limit(PAGE_SIZE).offset(end - PAGE_SIZE)))
    if not chosen:
        return QueuePage([], total, page, pages)
    rows = (
        sa.select(Submission)
        .where(Submission.id.in_(chosen))
        .options(joinedload(Submission.form_version).joinedload(FormVersion.form))
        .order_by(*newest)
    )
    return QueuePage(list(db.session.scalars(rows)), total, page, pages)


def next_waiting(user: User, commune: AdminUnit, f: QueueFilter, decided: int) -> Submission | None:
    """After a decision on submission `decided`, the next one of the same queue (its commune
    and filters) that still waits for a reviewer (its state, else received or has issues)."""
    stmt = _queue_query(user, commune, f).where(Submission.id != decided)
    if not f.state:
        stmt = stmt.where(Submission.review_state.in_(WAITING_STATES))
    stmt = stmt.options(joinedload(Submission.form_version))
    return db.session.scalars(
        stmt.order_by(Submission.received_at.desc(), Submission.id.desc()).limit(1)
    ).first()


def sent_values(submission_id: int) -> dict | None:
    """The household properties submission `submission_id` sent, as the server computed
    them (its poverty status and standard included); None when it wrote no household.
    A registration's version keeps them as its changes (every property is new)."""
    stmt = (
        sa.select(HouseholdVersion.sent, HouseholdVersion.changes, HouseholdVersion.version)
        .where(HouseholdVersion.submission_id == submission_id)
        .order_by(HouseholdVersion.id)
        .limit(1)
    )
    found = db.session.execute(stmt).first()
    if found is None:
        return None
    sent, changes, version = found
    return sent or (changes if version == 1 else None)


def names(ids: set[int | None]) -> dict[int, str]:
    """Full names of users by id."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(
        db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all()
    )


def unit_names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    stmt = sa.select(AdminUnit.id, AdminUnit.name).where(AdminUnit.id.in_(ids))
    return dict(db.session.execute(stmt).all())


# -- households ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdFilter:
    village_id: int | None = None
    status: str | None = None  # a HouseholdStatus value
    poverty: str | None = None  # a poverty status id
    flagged: bool = False
    conflicts: bool = False
    q: str | None = None
    page: int = 1


def households(user: User, commune: AdminUnit, f: HouseholdFilter) -> QueuePage:
    """The commune's households in `user`'s scope matching `f`, by label."""
    stmt = household_review.visible(user).where(Household.commune_id == commune.id)
    if f.village_id:
        stmt = stmt.where(Household.village_id == f.village_id)
    if f.status:
        stmt = stmt.where(Household.status == HouseholdStatus(f.status))
    if f.poverty:
        stmt = stmt.where(Household.poverty_status == f.poverty)
    if f.flagged:
        stmt = stmt.where(Household.flagged.is_(True))
    if f.conflicts:
        stmt = stmt.where(Household.open_conflicts > 0)
    stmt = search.matching(stmt, f.q)
    total = db.session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    rows = stmt.order_by(Household.label, Household.id).limit(PAGE_SIZE)
    items = list(db.session.scalars(rows.offset((page - 1) * PAGE_SIZE)))
    return QueuePage(items, total, page, pages)


@dataclass(frozen=True)
class Deprivation:
    """One indicator of the household's poverty standard and whether the household lacks it
    (None: not assessed)."""

    name: dict
    deprived_when: dict
    deprived: bool | None


def deprivations(household: Household) -> list[tuple[dict, list[Deprivation]]]:
    """The household's deprivation checklist by dimension, in the words of the standard it
    was assessed with (its `poverty_standard`, else the first the programme applies)."""
    standards = load_standards()
    properties = household.properties or {}
    known = {st.id: st for st in standards.standards}
    standard = known.get(properties.get("poverty_standard") or "", standards.standards[0])
    found = []
    for key, label in standard.dimensions.items():
        rows = [
            Deprivation(
                {"vi": i.name.vi, "en": i.name.en},
                {"vi": i.deprived_when.vi, "en": i.deprived_when.en},
                {"1": True, "0": False}.get(str(properties.get(i.id, ""))),
            )
            for i in standard.indicators
            if i.dimension == key
        ]
        if rows:
            found.append(({"vi": label.vi, "en": label.en}, rows))
    return found


def members(household: Household) -> list:
    """The people of the household as its registration lists them (head first)."""
    from server.services.duplicates import detection

    profile = detection.profile_of(household.id)
    if profile is None:
        return []
    return list(profile.members)


def households_in_scope(user: User) -> int:
    """How many active households are in `user`'s units (a cadre's landing page)."""
    stmt = household_review.visible(user).where(Household.status == HouseholdStatus.ACTIVE)
    return db.session.scalar(stmt.with_only_columns(sa.func.count()).order_by(None)) or 0


def poverty_statuses() -> list[tuple[str, dict]]:
    """The standards' status ids with their words by language."""
    return [(key, {"vi": t.vi, "en": t.en}) for key, t in load_standards().statuses.items()]


def poverty_transitions() -> dict[str, dict]:
    """The standards' transition ids (thoát nghèo, ...) with their words by language."""
    return {key: {"vi": t.vi, "en": t.en} for key, t in load_standards().transitions.items()}


@dataclass
class VersionRow:
    """One version of a household for the timeline: what changed, from which value to which."""

    version: HouseholdVersion
    who: str
    submission: Submission | None
    changed: list[tuple[str, str | None, str | None]]  # (property, before, after)


@dataclass
class ConflictChoice:
    """An open conflict (H3) with what each side sent, for the resolution form."""

    conflict: HouseholdConflict
    options: list[dict]  # {"value", "submission", "who", "at", "base"}


@dataclass
class HouseholdPage:
    household: Household
    versions: list[VersionRow]
    years: list[tuple[int, object]]  # (year, exits.Assessment): the year's last assessment
    conflicts: list[ConflictChoice]
    visits: list[Submission]
    cadres: list[tuple[str, int, dt.datetime]]  # (name, visits, last received)
    held: int
    merged_into: Household | None = None
    absorbed: list[str] = field(default_factory=list)


def household_page(user: User, household_id: str) -> HouseholdPage:
    """Everything the household page shows, read within `user`'s scope (404.1 outside it)."""
    household = household_review.household_for(user, household_id)
    versions = household_review.versions_of(household)
    absorbed = duplicates.absorbed_ids(household.id)
    visits = household_visits(household, absorbed, versions)
    by_id = {s.id: s for s in visits}
    people = names({s.submitter_id for s in visits} | {v.actor_id for v in versions})
    rows, values = [], {}
    for v in versions:
        changed = [(k, values.get(k), new) for k, new in sorted((v.changes or {}).items())]
        values.update(v.changes or {})
        submission = by_id.get(v.submission_id)
        who = people.get(submission.submitter_id if submission else v.actor_id, "")
        rows.append(VersionRow(v, who, submission, changed))
    rows.reverse()  # newest first
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    years: dict[int, object] = {}
    for a in exits.assessments([household.id]).get(household.id, []):
        years[a.at.astimezone(zone).year] = a
    conflicts = [
        ConflictChoice(c, _options(c, by_id, people))
        for c in household_review.conflicts_of(household, open_only=True)
    ]
    cadres: dict[str, list] = {}
    for s in visits:
        name = people.get(s.submitter_id, "")
        seen = cadres.setdefault(name, [name, 0, s.received_at])
        seen[1] += 1
        seen[2] = max(seen[2], s.received_at)
    merged_into = (
        db.session.get(Household, household.merged_into_id) if household.merged_into_id else None
    )
    return HouseholdPage(
        household,
        rows,
        sorted(years.items(), reverse=True),
        conflicts,
        visits,
        sorted((tuple(c) for c in cadres.values()), key=lambda c: (-c[1], c[0])),
        household.held_updates,
        merged_into,
        [a for a in absorbed if a != household.id],
    )


def _options(conflict: HouseholdConflict, by_id: dict, people: dict) -> list[dict]:
    options, seen = [], set()
    for w in conflict.writes or []:
        value = w.get("value") or ""
        if value in seen:
            continue
        seen.add(value)
        submission = by_id.get(w.get("submission_id"))
        options.append(
            {
                "value": value,
                "submission": submission,
                "who": people.get(submission.submitter_id) if submission else "",
                "at": submission.received_at if submission else None,
                "base": False,
            }
        )
    base = conflict.base_value or ""
    if base not in seen:
        options.append({"value": base, "submission": None, "who": "", "at": None, "base": True})
    return options


def household_visits(
    household: Household, ids: list[str], versions: list[HouseholdVersion]
) -> list[Submission]:
    """The submissions about the household (and the households merged into it), newest first:
    those that made its versions, and those naming it that were not applied (R6, held)."""
    entity = Submission.answers["meta"]["entity"]["@id"].as_string()
    named = [*ids, *(f"uuid:{i}" for i in ids)]
    communes = {household.commune_id} if household.commune_id else set()
    applied = {v.submission_id for v in versions if v.submission_id is not None}
    stmt = (
        sa.select(Submission)
        .options(
            joinedload(Submission.form_version).joinedload(FormVersion.form),
            undefer(Submission.answers),
        )
        .where(
            sa.or_(
                Submission.id.in_(sorted(applied)),
                sa.and_(Submission.commune_id.in_(communes), entity.in_(named))
                if communes
                else sa.false(),
            )
        )
        .order_by(Submission.received_at.desc(), Submission.id.desc())
    )
    return list(db.session.scalars(stmt).unique())


# -- duplicates ------------------------------------------------------------------------------


def households_of(submission_ids) -> dict[int, tuple[str, str]]:
    """The household each submission registered or updated: submission id -> (household id,
    label), for pages that name records by the people they are about."""
    ids = sorted({i for i in submission_ids if i})
    if not ids:
        return {}
    stmt = (
        sa.select(HouseholdVersion.submission_id, Household.id, Household.label)
        .join(Household, Household.id == HouseholdVersion.household_id)
        .where(HouseholdVersion.submission_id.in_(ids))
    )
    return {sid: (hid, label or hid) for sid, hid, label in db.session.execute(stmt)}


def household_labels(ids) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    stmt = sa.select(Household.id, Household.label).where(Household.id.in_(sorted(ids)))
    return {hid: label or hid for hid, label in db.session.execute(stmt)}


def created_form_version(household_ids) -> int | None:
    """The form version of the registration that created the first of these households."""
    ids = sorted({i for i in household_ids if i})
    if not ids:
        return None
    stmt = (
        sa.select(Submission.form_version_id)
        .join(Household, Household.created_submission_id == Submission.id)
        .where(Household.id.in_(ids))
        .limit(1)
    )
    return db.session.scalar(stmt)


# -- the queue as the JSON API lists it ------------------------------------------------------


def listed(
    user: User,
    *,
    commune: AdminUnit | None = None,
    state: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """Current submissions `user` may read (`scope.submissions`), by id, one keyset page
    at a time.

    `commune`: only its queue (placed there, or without a place and sent by someone who
    works there: `scope.in_commune`), 404.1 unless it is in the user's scope.
    """
    stmt = scope.submissions(user).where(Submission.superseded.is_(False))
    if commune is not None:
        if not db.session.scalar(scope.in_scope(user, commune)):
            raise Problem("404.1")
        stmt = stmt.where(scope.in_commune(commune))
    if state:
        stmt = stmt.where(Submission.review_state == ReviewState(state))
    stmt = stmt.options(joinedload(Submission.form_version).joinedload(FormVersion.form))
    return keyset_page(stmt, Submission.id, after, limit)


def describe_submissions(items: list[Submission]) -> list[dict]:
    """A page of submissions as the API shows them: names and paths instead of ids."""
    people = names({s.submitter_id for s in items})
    ids = {u for s in items for u in (s.commune_id, s.village_id) if u is not None}
    paths = (
        dict(
            db.session.execute(
                sa.select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    return [
        {
            "id": s.id,
            "instance_id": s.instance_id,
            "form_id": s.form_version.form.form_id,
            "version": s.form_version.version,
            "review_state": s.review_state.value,
            "commune": paths.get(s.commune_id),
            "village": paths.get(s.village_id),
            "submitter": people.get(s.submitter_id),
            "received_at": s.received_at,
        }
        for s in items
    ]
