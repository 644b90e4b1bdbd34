"""A commune's review campaign, from its list to the commune's decision (Thông tư 07/2021).

Steps, each one transaction with its audit event: open (the list is built from data: the
households on the current poor and near-poor lists, those a cadre flagged) → add applicants →
assign reviewers → attach each household's assessment (the household version a submission of
an assessment form wrote, with its `poverty_status`) → the village meeting (date, attendance,
the households it agreed) → the commune's proposed list → the commune's decision (number,
date), which writes each household's `HouseholdYearStatus` for the campaign's year.

Who: the commune's officials and administrators run it; coordinators read the campaigns in
their area; a reviewer (cadre) sees the households assigned to them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.models import (
    AdminUnit,
    CampaignKind,
    CampaignStage,
    EntryReason,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    HouseholdYearStatus,
    ReviewCampaign,
    ReviewEntry,
    Role,
    Submission,
    UnitLevel,
    User,
    instance_is,
)
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope

STATUS = "poverty_status"
LISTED = ("poor", "near_poor")  # the statuses a commune keeps lists of
RUNNERS = frozenset({Role.COMMUNE_OFFICIAL, Role.ADMIN})
READERS = RUNNERS | {Role.COORDINATOR, Role.AGENCY_LEAD}
#: The annual review's window (domain.md): 1 September - 14 December of its year.
ANNUAL_OPENS, ANNUAL_CLOSES = (9, 1), (12, 14)
STAGE_WORDS = {
    CampaignStage.OPEN: N_("under review"),
    CampaignStage.MET: N_("meeting held"),
    CampaignStage.PROPOSED: N_("list proposed"),
    CampaignStage.DECIDED: N_("decided"),
}


# -- reading -----------------------------------------------------------------------------------


def _readable(user: User) -> sa.Select:
    stmt = sa.select(ReviewCampaign)
    if user.role == Role.CADRE:
        mine = sa.select(ReviewEntry.campaign_id).where(ReviewEntry.reviewer_id == user.id)
        return stmt.where(ReviewCampaign.id.in_(mine))
    if user.role not in READERS:
        raise Problem("403.95")
    ids = scope.unit_ids(user)
    return stmt if ids is None else stmt.where(ReviewCampaign.commune_id.in_(ids))


def listed(user: User, limit: int = 100) -> list[ReviewCampaign]:
    """The campaigns `user` may read, the latest first (bounded by scope and `limit`)."""
    stmt = _readable(user).order_by(
        ReviewCampaign.year.desc(), ReviewCampaign.opens_on.desc(), ReviewCampaign.id.desc()
    )
    return list(db.session.scalars(stmt.limit(limit)))


def campaign_for(user: User, campaign_id: int, *, run: bool = False) -> ReviewCampaign:
    """The campaign, if `user` may read it (404.95 otherwise); `run`: and run it (403.95)."""
    found = db.session.scalar(_readable(user).where(ReviewCampaign.id == campaign_id))
    if found is None:
        raise Problem("404.95", campaign=campaign_id)
    if run and user.role not in RUNNERS:
        raise Problem("403.95")
    return found


def entries(user: User, campaign: ReviewCampaign) -> list[ReviewEntry]:
    """The campaign's households `user` sees (a reviewer: those assigned to them)."""
    stmt = sa.select(ReviewEntry).where(ReviewEntry.campaign_id == campaign.id)
    if user.role == Role.CADRE:
        stmt = stmt.where(ReviewEntry.reviewer_id == user.id)
    return list(db.session.scalars(stmt.order_by(ReviewEntry.village_id, ReviewEntry.id)))


def households_of(entries_: list[ReviewEntry]) -> dict[str, Household]:
    ids = {e.household_id for e in entries_}
    if not ids:
        return {}
    return {h.id: h for h in db.session.scalars(sa.select(Household).where(Household.id.in_(ids)))}


def progress(campaign: ReviewCampaign) -> list[dict]:
    """Per village: households listed, assessed, agreed by the meeting."""
    stmt = (
        sa.select(
            ReviewEntry.village_id,
            sa.func.count(),
            sa.func.count(ReviewEntry.assessed_status),
            sa.func.count().filter(ReviewEntry.agreed.is_(True)),
        )
        .where(ReviewEntry.campaign_id == campaign.id)
        .group_by(ReviewEntry.village_id)
    )
    rows = db.session.execute(stmt).all()
    names = dict(
        db.session.execute(
            sa.select(AdminUnit.id, AdminUnit.name).where(
                AdminUnit.id.in_([r[0] for r in rows if r[0] is not None])
            )
        ).all()
    )
    return sorted(
        (
            {"village_id": v, "village": names.get(v, ""), "listed": n, "assessed": a,
             "agreed": g}
            for v, n, a, g in rows
        ),
        key=lambda r: (r["village"], r["village_id"] or 0),
    )  # fmt: skip


# -- opening -----------------------------------------------------------------------------------


def _commune(user: User, commune_id: int) -> AdminUnit:
    commune = db.session.get(AdminUnit, commune_id)
    if commune is None or commune.level != UnitLevel.COMMUNE:
        raise Problem("404.50", unit=commune_id)
    if not db.session.scalar(scope.in_scope(user, commune)):
        raise Problem("403.95")
    return commune


def _previous_statuses(commune: AdminUnit, before_year: int) -> dict[str, str]:
    """The latest decided status, before `before_year`, of the commune's households."""
    latest = (
        sa.select(HouseholdYearStatus.household_id, sa.func.max(HouseholdYearStatus.year))
        .where(HouseholdYearStatus.commune_id == commune.id, HouseholdYearStatus.year < before_year)
        .group_by(HouseholdYearStatus.household_id)
        .subquery()
    )
    stmt = sa.select(HouseholdYearStatus.household_id, HouseholdYearStatus.status).join(
        latest,
        sa.and_(
            latest.c.household_id == HouseholdYearStatus.household_id,
            latest.c[1] == HouseholdYearStatus.year,
        ),
    )
    return dict(db.session.execute(stmt).all())


@transactional
def open_campaign(
    user: User,
    commune_id: int,
    year: int,
    kind: str = CampaignKind.ANNUAL,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
) -> ReviewCampaign:
    """Open a campaign and build its list from data: the households whose latest decided status
    (or, before any decision, their assessed status) is poor or near-poor, and those flagged."""
    if user.role not in RUNNERS:
        raise Problem("403.95")
    if kind not in set(CampaignKind):
        raise Problem("400.95", field="kind", hint="annual | ongoing")
    if not 2016 <= year <= 2100:
        raise Problem("400.95", field="year", hint="2016-2100")
    commune = _commune(user, commune_id)
    if kind == CampaignKind.ANNUAL:
        opens_on = opens_on or dt.date(year, *ANNUAL_OPENS)
        closes_on = closes_on or dt.date(year, *ANNUAL_CLOSES)
    elif opens_on is None or closes_on is None:
        raise Problem("400.95", field="opens_on, closes_on", hint="YYYY-MM-DD")
    if closes_on < opens_on:
        raise Problem("400.96", date=closes_on.isoformat(), earlier=opens_on.isoformat())
    clash = sa.select(ReviewCampaign.id).where(
        ReviewCampaign.commune_id == commune.id,
        ReviewCampaign.year == year,
        ReviewCampaign.kind == kind,
        ReviewCampaign.opens_on == opens_on,
    )
    if db.session.scalar(clash) is not None:
        raise Problem("409.95", commune=commune.name, opens=opens_on.isoformat())
    campaign = ReviewCampaign(
        commune_id=commune.id, year=year, kind=CampaignKind(kind), opens_on=opens_on,
        closes_on=closes_on, stage=CampaignStage.OPEN, created_by_id=user.id,
    )  # fmt: skip
    db.session.add(campaign)
    db.session.flush()
    decided = _previous_statuses(commune, year)
    stmt = sa.select(Household).where(
        Household.commune_id == commune.id, Household.status == HouseholdStatus.ACTIVE
    )
    count = 0
    for household in db.session.scalars(stmt.order_by(Household.id)):
        status = decided.get(household.id) or (household.properties or {}).get(STATUS)
        if status in LISTED:
            reason = EntryReason(status)
        elif household.flagged:
            reason = EntryReason.FLAGGED
        else:
            continue
        db.session.add(_entry(campaign, household, reason, status))
        count += 1
    audit.record(user, "review.open", campaign, commune=commune.id, year=year, kind=kind,
                 listed=count)  # fmt: skip
    return campaign


def _entry(campaign, household, reason, status) -> ReviewEntry:
    return ReviewEntry(
        campaign_id=campaign.id, household_id=household.id, village_id=household.village_id,
        reason=reason, status_before=status,
    )  # fmt: skip


def _household_of(campaign: ReviewCampaign, household_id: str) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or household.commune_id != campaign.commune_id:
        commune = db.session.get(AdminUnit, campaign.commune_id)
        raise Problem("400.97", household=household_id, commune=commune.name)
    return household


def _open(campaign: ReviewCampaign) -> None:
    if campaign.stage == CampaignStage.DECIDED:
        raise Problem("409.98", number=campaign.decision_number)


def _entry_of(campaign: ReviewCampaign, household_id: str) -> ReviewEntry:
    found = db.session.scalar(
        sa.select(ReviewEntry).where(
            ReviewEntry.campaign_id == campaign.id, ReviewEntry.household_id == household_id
        )
    )
    if found is None:
        raise Problem("404.96", household=household_id)
    return found


@transactional
def add_household(
    user: User, campaign_id: int, household_id: str, reason: str = EntryReason.APPLICANT
) -> ReviewEntry:
    """Add an applicant (or a household flagged by a cadre) to the list."""
    campaign = campaign_for(user, campaign_id, run=True)
    _open(campaign)
    if reason not in (EntryReason.APPLICANT, EntryReason.FLAGGED):
        raise Problem("400.95", field="reason", hint="applicant | flagged")
    household = _household_of(campaign, household_id)
    existing = db.session.scalar(
        sa.select(ReviewEntry).where(
            ReviewEntry.campaign_id == campaign.id, ReviewEntry.household_id == household.id
        )
    )
    if existing is not None:
        return existing
    entry = _entry(campaign, household, EntryReason(reason),
                   (household.properties or {}).get(STATUS))  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    audit.record(user, "review.add", campaign, household=household.id, reason=reason)
    return entry


@transactional
def assign(user: User, campaign_id: int, reviewer_id: int, household_ids: list[str]) -> int:
    """Assign a reviewer (a user working in the commune) to households of the list."""
    campaign = campaign_for(user, campaign_id, run=True)
    _open(campaign)
    commune = db.session.get(AdminUnit, campaign.commune_id)
    reviewer = db.session.get(User, reviewer_id)
    works_there = _works_in(reviewer, commune)
    if not works_there:
        raise Problem("400.98", user=reviewer_id, commune=commune.name)
    for household_id in household_ids:
        _entry_of(campaign, household_id).reviewer_id = reviewer.id
    audit.record(user, "review.assign", campaign, reviewer=reviewer.id,
                 households=sorted(household_ids))  # fmt: skip
    return len(household_ids)


def _works_in(reviewer: User | None, commune: AdminUnit) -> bool:
    """The reviewer works in the commune: assigned to it, one of its villages, or above it."""
    if reviewer is None or not reviewer.active:
        return False
    ids = scope.unit_ids(reviewer)
    if ids is None:
        return True
    inside = sa.select(AdminUnit.id).where(
        sa.or_(AdminUnit.id == commune.id, AdminUnit.parent_id == commune.id), AdminUnit.id.in_(ids)
    )
    return db.session.scalar(sa.select(sa.exists(inside))) or bool(
        db.session.scalar(scope.in_scope(reviewer, commune))
    )


def _opens_at(campaign: ReviewCampaign) -> dt.datetime:
    return dt.datetime.combine(campaign.opens_on, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=7)


@transactional
def attach_assessment(
    user: User, campaign_id: int, household_id: str, instance_id: str | None = None
) -> ReviewEntry:
    """Attach the household's assessment: the version written by submission `instance_id`
    (default: its latest version since the campaign opened that set `poverty_status`)."""
    campaign = campaign_for(user, campaign_id)
    if user.role not in RUNNERS and user.role != Role.CADRE:
        raise Problem("403.95")
    _open(campaign)
    entry = _entry_of(campaign, household_id)
    if user.role == Role.CADRE and entry.reviewer_id != user.id:
        raise Problem("404.96", household=household_id)
    stmt = sa.select(HouseholdVersion).where(
        HouseholdVersion.household_id == household_id,
        HouseholdVersion.created_at >= _opens_at(campaign),
        HouseholdVersion.submission_id.is_not(None),
    )
    if instance_id:
        stmt = stmt.join(Submission, Submission.id == HouseholdVersion.submission_id).where(
            instance_is(instance_id)
        )
    version = db.session.scalar(stmt.order_by(HouseholdVersion.version.desc()).limit(1))
    assessed = None if version is None else _status_at(household_id, version.version)
    if assessed is None:
        raise Problem("404.97", household=household_id, opens=campaign.opens_on.isoformat())
    entry.submission_id = version.submission_id
    entry.assessed_version = version.version
    entry.assessed_status = assessed
    entry.assessed_at = version.created_at
    entry.proposed_status = entry.assessed_status
    audit.record(user, "review.assess", campaign, household=household_id,
                 version=version.version, status=entry.assessed_status)  # fmt: skip
    return entry


def _status_at(household_id: str, version: int) -> str | None:
    """The household's `poverty_status` as of `version` (a version records what changed: a
    visit that confirms the status does not repeat it)."""
    status = HouseholdVersion.changes[STATUS].as_string()
    stmt = (
        sa.select(status)
        .where(
            HouseholdVersion.household_id == household_id,
            HouseholdVersion.version <= version,
            status.is_not(None),
            status != "",
        )
        .order_by(HouseholdVersion.version.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)


def _date_after(date: dt.date, earlier: dt.date | None) -> None:
    if earlier is not None and date < earlier:
        raise Problem("400.96", date=date.isoformat(), earlier=earlier.isoformat())


@transactional
def record_meeting(
    user: User,
    campaign_id: int,
    date: dt.date,
    attendance: int,
    disagreed: dict[str, str] | None = None,
    note: str = "",
) -> ReviewCampaign:
    """The village meeting's result: its date and attendance; it agrees every assessed
    household except those in `disagreed` (household id -> the status the meeting set)."""
    campaign = campaign_for(user, campaign_id, run=True)
    _open(campaign)
    if campaign.stage == CampaignStage.PROPOSED:  # a meeting again: before the proposal only
        raise Problem("409.96", stage=STAGE_WORDS[campaign.stage],
                      needed=N_("record the commune's decision"))  # fmt: skip
    if attendance < 1:
        raise Problem("400.95", field="attendance", hint="> 0")
    _date_after(date, campaign.opens_on)
    listed = entries(user, campaign)
    missing = [e for e in listed if e.assessed_status is None]
    if missing:
        raise Problem("409.97", count=len(missing))
    disagreed = disagreed or {}
    known = {e.household_id for e in listed}
    for household_id in disagreed:
        if household_id not in known:
            raise Problem("404.96", household=household_id)
    for entry in listed:
        entry.agreed = entry.household_id not in disagreed
        entry.proposed_status = disagreed.get(entry.household_id, entry.assessed_status)
    campaign.meeting_date, campaign.meeting_attendance = date, attendance
    campaign.meeting_note = note.strip() or None
    campaign.stage = CampaignStage.MET
    audit.record(user, "review.meeting", campaign, date=date.isoformat(), attendance=attendance,
                 disagreed=disagreed)  # fmt: skip
    return campaign


@transactional
def propose(user: User, campaign_id: int, date: dt.date) -> ReviewCampaign:
    """The commune's proposed list: the meeting's result, posted on `date`."""
    campaign = campaign_for(user, campaign_id, run=True)
    _open(campaign)
    if campaign.stage != CampaignStage.MET:
        raise Problem("409.96", stage=STAGE_WORDS[campaign.stage],
                      needed=N_("record the village meeting"))  # fmt: skip
    _date_after(date, campaign.meeting_date)
    campaign.proposed_on, campaign.stage = date, CampaignStage.PROPOSED
    audit.record(user, "review.propose", campaign, date=date.isoformat())
    return campaign


@transactional
def decide(user: User, campaign_id: int, number: str, date: dt.date) -> ReviewCampaign:
    """The commune's decision (number, date): each household's status for the campaign's year,
    in force from the decision's date; the household's earlier status ends the day before."""
    campaign = campaign_for(user, campaign_id, run=True)
    _open(campaign)
    if campaign.stage != CampaignStage.PROPOSED:
        needed = (N_("record the village meeting") if campaign.stage == CampaignStage.OPEN
                  else N_("propose the commune's list"))  # fmt: skip
        raise Problem("409.96", stage=STAGE_WORDS[campaign.stage], needed=needed)
    number = (number or "").strip()
    if not number or len(number) > 60:
        raise Problem("400.95", field="number", hint="1-60 characters, e.g. 125/QĐ-UBND")
    _date_after(date, campaign.proposed_on)
    for entry in entries(user, campaign):
        _set_status(campaign, entry, date)
    campaign.decision_number, campaign.decision_date = number, date
    campaign.stage = CampaignStage.DECIDED
    audit.record(user, "review.decide", campaign, number=number, date=date.isoformat())
    return campaign


def _set_status(campaign: ReviewCampaign, entry: ReviewEntry, date: dt.date) -> None:
    current = db.session.scalar(
        sa.select(HouseholdYearStatus).where(
            HouseholdYearStatus.household_id == entry.household_id,
            HouseholdYearStatus.effective_to.is_(None),
        )
    )
    if current is not None and current.year == campaign.year:
        row = current  # an ongoing review in the same year replaces the year's status
    else:
        if current is not None:
            current.effective_to = date - dt.timedelta(days=1)
        row = HouseholdYearStatus(household_id=entry.household_id, year=campaign.year)
        db.session.add(row)
    row.status = entry.proposed_status
    row.effective_from, row.effective_to = date, None
    row.commune_id, row.village_id = campaign.commune_id, entry.village_id
    row.campaign_id = campaign.id
