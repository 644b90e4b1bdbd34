"""Households for reviewers: list and filter in scope, history, conflicts and their resolution.

Read and write functions for `server.api.households`; scope comes from
`server.services.access.scope` (a household is visible when its village or commune
is in the caller's units), and a resolution is a decision version through
`households.record_decision` (H3), audited in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from server.db import db
from server.models import (
    Household,
    HouseholdConflict,
    HouseholdStatus,
    HouseholdVersion,
    User,
)
from server.problems import Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.households import search
from server.services.households import versions as households
from server.services.paging import Page, keyset_page

#: A scope of at most this many units (a cadre's villages, a commune official's commune)
#: holds few enough households to read them all and sort them for a page; a larger one is
#: left to the planner, for which a walk in id order finds a page quickly.
SMALL_SCOPE_UNITS = 64


def visible(user: User) -> sa.Select:
    """Households in `user`'s scope (every status)."""
    stmt = sa.select(Household)
    ids = scope.unit_id_list(user)  # literals: an index scan per list, bounded by the scope
    if ids is not None:
        stmt = stmt.where(sa.or_(Household.village_id.in_(ids), Household.commune_id.in_(ids)))
    return stmt


def list_households(
    user: User,
    *,
    commune: int | None = None,
    village: int | None = None,
    status: str | None = None,
    flagged: bool | None = None,
    q: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of households in scope, by id; filters combine."""
    stmt = visible(user)
    if commune is not None:
        stmt = stmt.where(Household.commune_id == commune)
    if village is not None:
        stmt = stmt.where(Household.village_id == village)
    if status:
        stmt = stmt.where(Household.status == HouseholdStatus(status))
    if flagged is not None:
        stmt = stmt.where(Household.flagged.is_(flagged))
    stmt = search.matching(stmt, q)
    ids = scope.unit_id_list(user)
    if ids is not None and len(ids) <= SMALL_SCOPE_UNITS:
        # Read the scope's households first (OFFSET 0 keeps PostgreSQL from pulling the
        # filter up), then sort them: otherwise it may walk the whole primary key in id order
        # and test each row against the scope, which reads the table for a cadre's page
        # (EXPLAIN at 50,000 rows: 18,000 rows read for a page of 200 of 500).
        kept = aliased(Household, stmt.offset(0).subquery())
        return keyset_page(sa.select(kept), kept.id, after, limit)
    return keyset_page(stmt, Household.id, after, limit)


def household_for(user: User, household_id: str) -> Household:
    """A household in scope, or 404.1 (the same answer as for one that does not exist)."""
    key = households.normalise_id(household_id)
    found = db.session.scalar(visible(user).where(Household.id == key))
    if found is None:
        raise Problem("404.1")
    return found


def versions_of(household: Household) -> list[HouseholdVersion]:
    return list(
        db.session.scalars(
            sa.select(HouseholdVersion)
            .where(HouseholdVersion.household_id == household.id)
            .order_by(HouseholdVersion.version)
        )
    )


def conflicts_of(household: Household, *, open_only: bool = False) -> list[HouseholdConflict]:
    stmt = sa.select(HouseholdConflict).where(HouseholdConflict.household_id == household.id)
    if open_only:
        stmt = stmt.where(HouseholdConflict.resolved_at.is_(None))
    return list(db.session.scalars(stmt.order_by(HouseholdConflict.id)))


@transactional
def resolve_conflicts(user: User, household_id: str, values: dict[str, str]) -> Household:
    """A reviewer chooses the value of properties: a decision version (H3) that settles
    their open conflicts (or corrects a value). Every property named must be one the
    household has (400.3 otherwise)."""
    scope.require_role(user, *scope.REVIEWERS)
    household = household_for(user, household_id)
    if not values:
        raise Problem("400.2", field="values")
    unknown = sorted(set(values) - set(household.properties or {}))
    if unknown:
        raise Problem("400.3", field="values", reason=f"unknown property {', '.join(unknown)}")
    version = households.record_decision(
        household.id, dict(values), kind="resolve", actor_id=user.id
    )
    audit.record(user, "household.resolve", household, version=version, values=dict(values))
    db.session.expire(household)
    return household
