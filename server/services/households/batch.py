"""Household effects of a whole JSON push batch, with grouped statements.

`apply_many` decides exactly as `households.apply` does, submission by
submission, for submissions that each touch a different household (the
batch guarantees it, see `server.services.receiving.batch`). Registrations,
updates on the current version (the fast path) and three-way merges of
updates on an older one go out as a few multi-row statements instead of
several per submission; everything else (a hold, a chain, a redirect, a D1
link) takes `households.apply` one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from forms.instance import EntityRef
from server.db import db
from server.models import HouseholdStatus
from server.models.base import utcnow
from server.services.duplicates import detection as dedup
from server.services.forms.places import Place
from server.services.households import versions as households
from server.services.households.versions import (
    HOUSEHOLDS,
    PENDING,
    UPDATE_ROWS,
    VERSIONS,
    HouseholdEffect,
    HouseholdState,
    create_statement,
    fast_path,
    normalise_id,
    record_changes,
    state_of_row,
    update_refused,
    version_row,
)
from server.services.receiving.store import insert_rows, update_rows


@dataclass(frozen=True)
class EntityChange:
    """One accepted submission's entity block, for `apply_many`."""

    submission_id: int
    entity: EntityRef
    properties: dict[str, str]
    label: str | None
    place: Place
    household: HouseholdState | None  # the locked row, for an update
    fingerprint: str | None = None  # of its answers, for D4 (`dedup.double_entries`)


def current_many(ids: list[str]) -> dict[str, HouseholdState | None]:
    """The current rows of these households, locked (in id order, so batches never deadlock)."""
    keys = sorted({normalise_id(i) for i in ids})
    found: dict[str, HouseholdState | None] = dict.fromkeys(keys)
    if not keys:
        return found
    stmt = (
        sa.select(*(HOUSEHOLDS.c[name] for name in HouseholdState.__dataclass_fields__))
        .where(HOUSEHOLDS.c.id.in_(keys))
        .order_by(HOUSEHOLDS.c.id)
        .with_for_update()
    )
    for row in db.session.connection().execute(stmt):
        state = state_of_row(row._asdict())
        found[state.id] = state
    return found


def apply_many(requests: list[EntityChange]) -> list[HouseholdEffect | None]:
    """`apply` for submissions that touch different households, with grouped statements.

    Same decisions as `apply`, one after the other; the writes of the
    registrations and fast-path updates go out as a few multi-row statements.
    """
    results: list[HouseholdEffect | None] = [None] * len(requests)
    creates, updates, merges, singles = [], [], [], []
    applied: list[tuple[int, str]] = []  # (submission, household) for one D4 check
    for index, r in enumerate(requests):
        if not r.entity.id:
            continue
        household_id = normalise_id(r.entity.id)
        if r.entity.update and (r.household is not None or not r.entity.create):
            refused = update_refused(r.entity, r.household)
            if refused == "stale_base" and not r.household.held_updates:
                merges.append((index, r))
            elif refused or r.household.held_updates:
                singles.append((index, r))
            else:
                updates.append((index, r))
        elif r.entity.create:
            linked = dedup.exact_match(household_id, r.properties, r.place, r.submission_id)
            if linked is not None and normalise_id(linked) != household_id:
                effect = households.link(
                    household_id, linked, r.submission_id, r.properties, r.label, r.place
                )
                results[index] = effect
                applied.append((r.submission_id, effect.household_id))
            else:
                creates.append((index, household_id, r))
    now = utcnow()
    versions, touched = [], []
    inserted = _insert_many(creates, now)
    new = []
    for index, household_id, r in creates:
        if household_id not in inserted:  # it exists: the single path links it
            singles.append((index, r))
            continue
        versions.append(
            version_row(household_id, 1, r.submission_id, None, r.properties, r.label, now)
        )
        touched.append((household_id, r.place.unit_id))
        results[index] = HouseholdEffect(household_id, version=1)
        new.append((household_id, r))
    updated = _update_many(updates, now, versions, touched, results)
    insert_rows(VERSIONS, versions)
    if touched:
        record_changes(touched, now)
    dedup.registered_many(
        [(household_id, r.properties, r.label, r.place, r.submission_id) for household_id, r in new]
    )
    applied += [(r.submission_id, household_id) for household_id, r in new]
    dedup.updated_many([
        (r.household.id, step.changed, step.label)
        for (_index, r), step in zip(updates, updated, strict=True)
    ])  # fmt: skip
    applied += [(r.submission_id, r.household.id) for _index, r in updates]
    _merge_many(merges, results, applied)
    _release_waiting([household_id for household_id, _ in new])
    for index, r in sorted(singles, key=lambda item: item[0]):
        results[index] = households.apply(
            r.submission_id, r.entity, r.properties, r.label, r.place, r.household, applied=applied
        )
    dedup.double_entries(applied, {r.submission_id: r.fingerprint for r in requests})
    return results


def _merge_many(merges: list, results: list, applied: list) -> None:
    """The three-way merges of updates made on an older version (H3), grouped."""
    if not merges:
        return
    effects = households.merge_many([
        (r.household, households.arriving(r.household, r.submission_id, r.entity, r.properties,
                                          r.label), r.place)
        for _index, r in merges
    ])  # fmt: skip
    for (index, r), effect in zip(merges, effects, strict=True):
        results[index] = effect
        applied.append((r.submission_id, effect.household_id))


def _release_waiting(created: list[str]) -> None:
    """Updates held for households this batch registered apply now (one query for all)."""
    if not created:
        return
    waiting = db.session.connection().execute(
        sa.select(PENDING.c.household_id)
        .where(PENDING.c.household_id.in_(created), PENDING.c.resolved_at.is_(None))
        .distinct()
    )
    for household_id in sorted(waiting.scalars()):
        households.created(household_id)


def _insert_many(creates: list, now) -> set[str]:
    if not creates:
        return set()
    conn = db.session.connection()
    rows = [
        {
            "id": household_id,
            "dataset": r.entity.dataset or "households",
            "label": r.label,
            "version": 1,
            "properties": dict(r.properties),
            "status": HouseholdStatus.ACTIVE,
            "village_id": r.place.village_id,
            "commune_id": r.place.commune_id,
            "created_submission_id": r.submission_id,
            "updated_submission_id": r.submission_id,
            "created_at": now,
            "updated_at": now,
            "flagged": False,
            "flag_reason": None,
            **households.summed(None, r.properties, r.properties, 1),
        }
        for _, household_id, r in sorted(creates, key=lambda c: c[1])
    ]
    return set(conn.execute(create_statement(conn.dialect.name), rows).scalars())


def _update_many(updates: list, now, versions: list, touched: list, results: list) -> list:
    """The fast-path updates (H2) with one UPDATE for all of them; their `FastPath`s."""
    if not updates:
        return []
    steps = []
    for index, r in updates:
        step = fast_path(r.household, r.submission_id, r.properties, r.label, r.place, now)
        step.row["branch_id"] = r.entity.branch_id
        versions.append(step.row)
        touched.append((r.household.id, step.unit))
        results[index] = HouseholdEffect(r.household.id, version=r.household.version + 1)
        steps.append(step)
    update_rows(UPDATE_ROWS, [step.params for step in steps])  # rows locked
    return steps
