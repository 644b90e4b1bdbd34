"""Household effects of a whole JSON push batch, with grouped statements.

`apply_many` decides exactly as `households.apply` does, submission by
submission, for submissions that each touch a different household (the
batch guarantees it, see `server.services.ingest_batch`); the writes of all
of them go out as a few multi-row statements instead of four per submission.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from forms.instance import EntityRef
from server.db import db
from server.models import HouseholdStatus
from server.models.base import utcnow
from server.services.households import (
    HOUSEHOLDS,
    PENDING,
    UPDATE,
    VERSIONS,
    HouseholdEffect,
    HouseholdState,
    create_statement,
    normalise_id,
    record_changes,
    update_refused,
    version_row,
)
from server.services.submission_places import Place


@dataclass(frozen=True)
class EntityChange:
    """One accepted submission's entity block, for `apply_many`."""

    submission_id: int
    entity: EntityRef
    properties: dict[str, str]
    label: str | None
    place: Place
    household: HouseholdState | None  # the locked row, for an update


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
        values = row._asdict()
        values["status"] = HouseholdStatus(values["status"]).value
        found[values["id"]] = HouseholdState(**values)
    return found


def apply_many(requests: list[EntityChange]) -> list[HouseholdEffect | None]:
    """`apply` for submissions that touch different households, with grouped statements.

    Same decisions as `apply`, one after the other; the writes of all of them
    go out as a few multi-row statements instead of four per submission.
    """
    results: list[HouseholdEffect | None] = [None] * len(requests)
    creates, updates, holds = [], [], []
    for index, r in enumerate(requests):
        if not r.entity.id:
            continue
        household_id = normalise_id(r.entity.id)
        if r.entity.update and (r.household is not None or not r.entity.create):
            reason = update_refused(r.entity, r.household)
            if reason:
                holds.append((index, household_id, r.submission_id, r.entity.base_version, reason))
            else:
                updates.append((index, r))
        elif r.entity.create:
            creates.append((index, household_id, r))
    now = utcnow()
    versions, touched = [], []
    inserted = _insert_many(creates, now)
    for index, household_id, r in creates:
        if household_id not in inserted:
            holds.append((index, household_id, r.submission_id, None, "exists"))
            continue
        versions.append(
            version_row(household_id, 1, r.submission_id, None, r.properties, r.label, now)
        )
        touched.append((household_id, r.place.unit_id))
        results[index] = HouseholdEffect(household_id, version=1)
    _update_many(updates, now, versions, touched, results)
    _hold_many(holds, now, results)
    conn = db.session.connection()
    if versions:
        conn.execute(sa.insert(VERSIONS), versions)
    if touched:
        record_changes(touched, now)
    return results


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
        }
        for _, household_id, r in sorted(creates, key=lambda c: c[1])
    ]
    return set(conn.execute(create_statement(conn.dialect.name), rows).scalars())


def _update_many(updates: list, now, versions: list, touched: list, results: list) -> None:
    if not updates:
        return
    params = []
    for index, r in updates:
        h = r.household
        changed = {k: v for k, v in r.properties.items() if h.properties.get(k) != v}
        new_label = r.label if r.label and r.label != h.label else None
        moved = r.place.unit_id is not None
        village = r.place.village_id if moved else h.village_id
        commune = r.place.commune_id if moved else h.commune_id
        params.append(
            {
                "hid": h.id,
                "base": h.version,
                "new_version": h.version + 1,
                "new_properties": {**h.properties, **changed},
                "new_label": new_label or h.label,
                "new_village": village,
                "new_commune": commune,
                "sid": r.submission_id,
                "now": now,
            }
        )
        versions.append(
            version_row(h.id, h.version + 1, r.submission_id, h.version, changed, new_label, now)
        )
        touched.append((h.id, village or commune))
        results[index] = HouseholdEffect(h.id, version=h.version + 1)
    db.session.connection().execute(UPDATE, params)  # the rows are locked: each one matches


def _hold_many(holds: list, now, results: list) -> None:
    """`hold_for_merge` for many updates at once."""
    if not holds:
        return
    rows = [
        {
            "household_id": hid,
            "submission_id": sid,
            "reason": reason,
            "base_version": base,
            "created_at": now,
        }
        for _, hid, sid, base, reason in holds
    ]
    db.session.connection().execute(sa.insert(PENDING), rows)
    for index, hid, _, _, reason in holds:
        results[index] = HouseholdEffect(hid, held=reason)
