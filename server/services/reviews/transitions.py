"""Transitions per year, read from the decided per-year statuses (`HouseholdYearStatus`).

A household's transition in year Y compares its status for Y with its latest status of an
earlier year (domain.md): newly poor / newly near-poor (not on a list before, ever), poor →
near-poor, near-poor → poor, escaped poverty (poor → average or above), escaped near-poverty
(near-poor → average or above), fell back (tái nghèo: on a list again after leaving it).
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from server.db import db
from server.models import HouseholdYearStatus

LISTED = ("poor", "near_poor")
KINDS = ("newly_poor", "newly_near_poor", "poor_to_near_poor", "near_poor_to_poor",
         "escaped_poor", "escaped_near_poor", "fell_back")  # fmt: skip


def transition(history: list[str]) -> str | None:
    """The transition of the last status of `history` (statuses, oldest year first)."""
    if not history:
        return None
    now, before = history[-1], history[:-1]
    last = before[-1] if before else None
    if now in LISTED and last not in LISTED:
        if any(s in LISTED for s in before):
            return "fell_back"
        return "newly_poor" if now == "poor" else "newly_near_poor"
    if last in LISTED and now != last:
        if now in LISTED:
            return "poor_to_near_poor" if last == "poor" else "near_poor_to_poor"
        return "escaped_poor" if last == "poor" else "escaped_near_poor"
    return None


def counts(commune_ids: sa.Select | list[int] | None, year: int) -> dict[int | None, Counter]:
    """Per village (None: the households without one) of the communes `commune_ids` (None:
    everywhere), the count of each transition in `year`."""
    this_year = sa.select(HouseholdYearStatus.household_id).where(HouseholdYearStatus.year == year)
    if commune_ids is not None:
        this_year = this_year.where(HouseholdYearStatus.commune_id.in_(commune_ids))
    stmt = (
        sa.select(
            HouseholdYearStatus.household_id,
            HouseholdYearStatus.status,
            HouseholdYearStatus.village_id,
        )
        .where(HouseholdYearStatus.household_id.in_(this_year), HouseholdYearStatus.year <= year)
        .order_by(HouseholdYearStatus.household_id, HouseholdYearStatus.year)
    )
    histories: dict[str, list[str]] = {}
    villages: dict[str, int | None] = {}
    for household_id, status, village_id in db.session.execute(stmt):
        histories.setdefault(household_id, []).append(status)
        villages[household_id] = village_id
    found: dict[int | None, Counter] = {}
    for household_id, history in histories.items():
        kind = transition(history)
        if kind is not None:
            found.setdefault(villages[household_id], Counter())[kind] += 1
    return found


def totals(commune_ids, year: int) -> Counter:
    total: Counter = Counter()
    for counter in counts(commune_ids, year).values():
        total.update(counter)
    return total
