"""Poverty exits: households whose latest assessment took them out of poverty or near-poverty,
listed for the commune to certify, and the official's decision (certify with the date of the
commune's decision, or decline with a reason).

An exit is read from the household's versions (H7): each version that set
`poverty_status` is an assessment (the shipped forms save `poverty_status`
and `poverty_standard`); the latest one that changed the status from poor or
near-poor to a better status is the household's exit, when the household
still has that status. Poor to anything better is "thoát nghèo", near-poor to
average or above "thoát cận nghèo" (domain.md: reported apart). The decision
is a `PovertyExit` row, one per household and assessment version, written in
one transaction with its audit event.

Each household row carries its versions' reading summed up as they are written
(`households.poverty.track`: `assessed_status`, `exit_version`, `exit_from`),
so the exits of a commune are found from an index (`waiting_query`) and only
their own versions are read; nothing counts by loading a commune's households.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import (
    AdminUnit,
    ExitDecision,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PovertyExit,
    User,
)
from server.problems import N_
from server.services import audit, transactional
from server.services.households import review as household_review
from server.services.households.poverty import TRANSITIONS, ranks
from server.services.review import decisions as review_service
from server.services.review.decisions import ReviewRefused

STATUS = "poverty_status"
STANDARD = "poverty_standard"
DECISIONS = {"certify": ExitDecision.CERTIFIED, "decline": ExitDecision.DECLINED}
MAX_REASON = 2000


@dataclass(frozen=True)
class Assessment:
    """A household version that set the poverty status."""

    version: int
    at: dt.datetime
    status: str
    standard: str | None
    submission_id: int | None


@dataclass
class Exit:
    """A household's assessed exit, and the decision taken on it (None: waiting)."""

    household: Household
    version: int
    from_status: str
    to_status: str
    standard: str | None
    assessed_at: dt.datetime
    decision: PovertyExit | None = None

    @property
    def transition(self) -> str:
        return TRANSITIONS[self.from_status]


def assessments(household_ids: Iterable[str]) -> dict[str, list[Assessment]]:
    """The assessments of each household, oldest first."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    status = HouseholdVersion.changes[STATUS].as_string()
    standard = HouseholdVersion.changes[STANDARD].as_string()
    stmt = (
        sa.select(
            HouseholdVersion.household_id,
            HouseholdVersion.version,
            HouseholdVersion.created_at,
            status,
            standard,
            HouseholdVersion.submission_id,
        )
        .where(HouseholdVersion.household_id.in_(ids), status.is_not(None), status != "")
        .order_by(HouseholdVersion.household_id, HouseholdVersion.version)
    )
    found: dict[str, list[Assessment]] = {}
    for hid, version, at, value, std, sid in db.session.execute(stmt):
        earlier = found.setdefault(hid, [])
        std = std or (earlier[-1].standard if earlier else None)  # a version sets what changed
        earlier.append(Assessment(version, at, value, std, sid))
    return found


def exit_of(household: Household, history: list[Assessment]) -> Exit | None:
    """The household's exit: its latest change of status, when it left poor or near-poor for
    a better status that the household still has."""
    order = ranks()
    before, change = None, None
    for a in history:
        if before is not None and a.status != before.status:
            change = (before, a)
        before = a
    if change is None:
        return None
    old, new = change
    current = (household.properties or {}).get(STATUS)
    if old.status not in TRANSITIONS or current != new.status:
        return None
    if order.get(new.status, -1) <= order.get(old.status, -1):
        return None
    return Exit(household, new.version, old.status, new.status, new.standard, new.at)


def _exits(households: list[Household]) -> list[Exit]:
    history = assessments(h.id for h in households)
    found = [e for h in households if (e := exit_of(h, history.get(h.id, []))) is not None]
    if found:
        keys = {(e.household.id, e.version) for e in found}
        stmt = sa.select(PovertyExit).where(
            PovertyExit.household_id.in_(sorted({hid for hid, _ in keys}))
        )
        decided = {
            (d.household_id, d.version): d
            for d in db.session.scalars(stmt)
            if (d.household_id, d.version) in keys
        }
        for e in found:
            e.decision = decided.get((e.household.id, e.version))
    return found


def exits_query(user: User, commune: AdminUnit) -> sa.Select:
    """Active households of the commune (in `user`'s scope) with an exit they still have: the
    latest change of their assessed status was an exit and their status is its result."""
    return household_review.visible(user).where(
        Household.commune_id == commune.id,
        Household.exit_version.is_not(None),
        Household.status == HouseholdStatus.ACTIVE,
        Household.poverty_status == Household.assessed_status,
    )


def waiting_query(user: User, commune: AdminUnit) -> sa.Select:
    """`exits_query` less the exits already decided."""
    decided = sa.exists().where(
        PovertyExit.household_id == Household.id, PovertyExit.version == Household.exit_version
    )
    return exits_query(user, commune).where(~decided)


def _candidates(user: User, commune: AdminUnit) -> list[Household]:
    return list(
        db.session.scalars(exits_query(user, commune).order_by(Household.label, Household.id))
    )


def exits(user: User, commune: AdminUnit) -> list[Exit]:
    """Every assessed exit of the commune's households, decided or not, by label."""
    return _exits(_candidates(user, commune))


@dataclass
class HeldExit:
    """An exit a visit claimed that an open conflict holds back: the status derived from the
    merged values (H6) reads one of the conflicting values, so the household still shows its
    old status until a person chooses. Listed so the claim is seen before anyone resolves
    the conflict; certified once it is resolved (issue 20, point 5)."""

    household: Household
    version: int
    from_status: str
    claimed_status: str | None  # what the visit assessed, when it was better
    claimed: bool  # the household said it escaped poverty (exit_claimed = yes)
    assessed_at: dt.datetime


def held(user: User, commune: AdminUnit) -> list[HeldExit]:
    """The commune's poor or near-poor households with an open conflict whose latest claim of
    an exit (a visit that assessed a better status, or the household's own claim) is
    pending on that conflict."""
    stmt = household_review.visible(user).where(
        Household.commune_id == commune.id,
        Household.status == HouseholdStatus.ACTIVE,
        Household.open_conflicts > 0,
        Household.poverty_status.in_(sorted(TRANSITIONS)),
    )
    households = list(db.session.scalars(stmt.order_by(Household.label, Household.id)))
    if not households:
        return []
    versions = sa.select(
        HouseholdVersion.household_id,
        HouseholdVersion.version,
        HouseholdVersion.created_at,
        HouseholdVersion.sent,
        HouseholdVersion.changes,
    ).where(
        HouseholdVersion.household_id.in_([h.id for h in households]),
        HouseholdVersion.submission_id.is_not(None),
    )
    latest: dict[str, tuple] = {}
    for hid, version, at, sent, changes in db.session.execute(
        versions.order_by(HouseholdVersion.household_id, HouseholdVersion.version)
    ):
        latest[hid] = (version, at, sent if sent is not None else changes or {})
    order, found = ranks(), []
    for household in households:
        if household.id not in latest:
            continue
        version, at, sent = latest[household.id]
        current = household.properties[STATUS]
        assessed = sent.get(STATUS)
        better = assessed if order.get(assessed, -1) > order.get(current, -1) else None
        claimed = sent.get("exit_claimed") == "yes"
        if better or claimed:
            found.append(HeldExit(household, version, current, better, claimed, at))
    return found


def waiting(user: User, commune: AdminUnit) -> list[Exit]:
    return [e for e in exits(user, commune) if e.decision is None]


def count_waiting(user: User, commune: AdminUnit) -> int:
    """How many exits of the commune wait for a decision (one statement, from an index)."""
    stmt = waiting_query(user, commune).with_only_columns(sa.func.count()).order_by(None)
    return db.session.scalar(stmt) or 0


def today() -> dt.date:
    """Today in the server's time zone (where the commune's decisions are dated)."""
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def year_start(on: dt.date | None = None) -> dt.date:
    on = on or today()
    return dt.date(on.year, 1, 1)


def certified_since(commune: AdminUnit, since: dt.date) -> int:
    """Exits of the commune certified by a decision dated `since` or later."""
    stmt = sa.select(sa.func.count()).where(
        PovertyExit.commune_id == commune.id,
        PovertyExit.decision == ExitDecision.CERTIFIED,
        PovertyExit.decision_date >= since,
    )
    return db.session.scalar(stmt) or 0


def decided(user: User, commune: AdminUnit, limit: int = 100) -> list[PovertyExit]:
    """The commune's latest decisions, newest first."""
    ids = household_review.visible(user).with_only_columns(Household.id)
    stmt = (
        sa.select(PovertyExit)
        .where(PovertyExit.commune_id == commune.id, PovertyExit.household_id.in_(ids))
        .order_by(PovertyExit.decided_at.desc(), PovertyExit.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def exit_for(user: User, household_id: str) -> Exit | None:
    """The household's assessed exit (a household outside `user`'s scope: 404.1)."""
    household = household_review.household_for(user, household_id)
    if household.status != HouseholdStatus.ACTIVE:
        return None
    found = _exits([household])
    return found[0] if found else None


@transactional
def decide(
    user: User,
    household_id: str,
    version: int | None,
    decision: str,
    decision_date: dt.date | None = None,
    reason: str = "",
) -> PovertyExit:
    """Certify (with the date of the commune's decision) or decline (with the reason) the
    household's exit assessed at `version`; audited."""
    review_service.require_reviewer(user)
    if decision not in DECISIONS:
        raise ReviewRefused(N_("Choose certify or decline."))
    found = exit_for(user, household_id)
    if found is None or found.version != version:
        raise ReviewRefused(
            N_(
                "This household has no assessed exit to decide (a newer assessment may have "
                "changed it): reload the list of exits."
            )
        )
    if found.decision is not None:
        raise ReviewRefused(N_("This exit was already decided."))
    reason = (reason or "").strip()
    if DECISIONS[decision] == ExitDecision.CERTIFIED:
        _check_date(decision_date, found)
        reason = reason or None
    else:
        decision_date = None
        if not reason:
            raise ReviewRefused(
                N_("Write the reason for declining: the cadre and the household read it.")
            )
        if len(reason) > MAX_REASON:
            raise ReviewRefused(
                N_("The reason is too long: at most %(limit)s characters."), limit=MAX_REASON
            )
    row = PovertyExit(
        household_id=found.household.id,
        version=found.version,
        commune_id=found.household.commune_id,
        from_status=found.from_status,
        to_status=found.to_status,
        transition=found.transition,
        standard=found.standard,
        assessed_at=found.assessed_at,
        decision=DECISIONS[decision],
        decision_date=decision_date,
        reason=reason,
        decided_by_id=user.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        user, f"exit.{decision}", row, household=row.household_id, version=row.version,
        transition=row.transition, decision_date=decision_date.isoformat() if decision_date
        else None, reason=reason,
    )  # fmt: skip
    return row


def _check_date(decision_date: dt.date | None, found: Exit) -> None:
    if decision_date is None:
        raise ReviewRefused(N_("Enter the date of the commune's decision recognising the exit."))
    assessed = found.assessed_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    if decision_date > today() or decision_date < assessed:
        raise ReviewRefused(
            N_("The decision date must be between the assessment (%(assessed)s) and today."),
            assessed=f"{assessed:%d/%m/%Y}",
        )
