"""Households as ODK entities: created and updated by accepted submissions, never overwritten.

A registration (`meta/entity` with create) makes a household at version 1
(sync contract H1); a visit (update) whose `baseVersion` is the current
version makes the next version (H2). Each change is a `HouseholdVersion`
naming its submission, base and changed properties (H7). Every other update
is kept by `hold_for_merge`, the one place the three-way merge (H3-H5) will
replace: nothing is applied silently and nothing is dropped.

Tablets read households through the OpenRosa entity list (`entity_list`, a
CSV per user's scope) and the JSON pull (the `household` change kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from forms.instance import EntityRef
from forms.tree import Node
from server.db import db
from server.models import (
    Change,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
)
from server.models.base import utcnow
from server.services import changes
from server.services.form_models import LoadedForm
from server.services.submission_places import Place

#: The change kind tablets pull for households (see `server.services.changes`).
CHANGE_KIND = "household"
#: Columns every entity list starts with (ODK entities spec: the id, label and version).
LIST_COLUMNS = ("name", "label", "__version")


@dataclass(frozen=True)
class HouseholdEffect:
    """What a submission did to a household: a new version, or held for the merge (`held`)."""

    household_id: str
    version: int | None = None
    held: str | None = None


def normalise_id(entity_id: str) -> str:
    """An entity id as stored: lower case, without the `uuid:` prefix."""
    text = entity_id.strip().lower()
    return text[5:] if text.startswith("uuid:") else text


def get(household_id: str) -> Household | None:
    """The household with this entity id (with or without `uuid:`), or None."""
    return db.session.get(Household, normalise_id(household_id))


def properties_of(form: LoadedForm, root: Node, computed: dict[str, str]) -> dict[str, str]:
    """The entity properties a submission saves (`save_to`), with the server's calculations.

    A calculated property takes the value the server computed from the
    answers, not the one the tablet sent, so derived fields never disagree
    with the answers they come from.
    """
    declared = form.model.entity.properties if form.model.entity else {}
    values = {}
    for name, path in declared.items():
        if path in computed:
            values[name] = computed[path]
            continue
        node = root.find(path.split("/", 2)[2]) if path.count("/") >= 2 else None
        values[name] = node.text.strip() if node is not None and not node.children else ""
    return values


def label_of(form: LoadedForm, entity: EntityRef, computed: dict[str, str]) -> str | None:
    """The entity label: computed by the server when the form calculates it, else as sent."""
    path = f"{form.model.entity.path}/label" if form.model.entity else None
    label = computed.get(path) if path else None
    return (label or entity.label or "").strip()[:300] or None


@dataclass(frozen=True)
class HouseholdState:
    """A household's current row, as ingest reads it before changing it."""

    id: str
    version: int
    status: str
    village_id: int | None
    commune_id: int | None
    label: str | None
    properties: dict


HOUSEHOLDS = Household.__table__
VERSIONS = HouseholdVersion.__table__
PENDING = PendingHouseholdUpdate.__table__
CURRENT = sa.select(*(HOUSEHOLDS.c[name] for name in HouseholdState.__dataclass_fields__)).where(
    HOUSEHOLDS.c.id == sa.bindparam("hid")
)
UPDATE = (
    sa.update(HOUSEHOLDS)
    .where(HOUSEHOLDS.c.id == sa.bindparam("hid"), HOUSEHOLDS.c.version == sa.bindparam("base"))
    .values(
        version=sa.bindparam("new_version"),
        properties=sa.bindparam("new_properties", type_=HOUSEHOLDS.c.properties.type),
        label=sa.bindparam("new_label"),
        village_id=sa.bindparam("new_village"),
        commune_id=sa.bindparam("new_commune"),
        updated_submission_id=sa.bindparam("sid"),
        updated_at=sa.bindparam("now", type_=HOUSEHOLDS.c.updated_at.type),
    )
)
_MADE_BY = (
    sa.select(VERSIONS.c.household_id, VERSIONS.c.version, VERSIONS.c.base_version)
    .where(VERSIONS.c.submission_id == sa.bindparam("sid"))
    .order_by(VERSIONS.c.version.desc())
    .limit(1)
)
_CREATE: dict[str, sa.Insert] = {}


def current(household_id: str, *, lock: bool = False) -> HouseholdState | None:
    """The household's current row; `lock` holds it until the transaction ends (PostgreSQL).

    An update locks the row before reading its version, so two updates of one
    household cannot both build on the same version: the second waits, then
    finds the first's version and is held for the merge.
    """
    stmt = CURRENT.with_for_update() if lock else CURRENT
    row = db.session.connection().execute(stmt, {"hid": normalise_id(household_id)}).first()
    if row is None:
        return None
    found = row._asdict()
    found["status"] = HouseholdStatus(found["status"]).value
    return HouseholdState(**found)


def apply(
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    household: HouseholdState | None = None,
) -> HouseholdEffect | None:
    """Apply an accepted submission's entity block: create (H1), update on current (H2), or hold.

    `household` is the row the caller already read (locked) for an update.
    """
    if not entity.id:
        return None
    household_id = normalise_id(entity.id)
    if entity.update and household is None:
        household = current(household_id, lock=True)
    # A block with both flags (create-or-update) updates a household that exists.
    if entity.update and (household is not None or not entity.create):
        reason = update_refused(entity, household)
        if reason:
            return hold_for_merge(household_id, submission_id, entity.base_version, reason)
        return _new_version(household, submission_id, properties, label, place)
    if entity.create:
        return _create(household_id, entity.dataset, submission_id, properties, label, place)
    return None


def replace_edit(
    previous_id: int,
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
) -> HouseholdEffect | None:
    """Apply an edit (R4): its household effects replace those of the version it supersedes.

    When the superseded submission made the household's latest version, the
    edit's values become the next version. When later changes were built on
    it, replacing it needs the merge, so the edit is held.
    """
    _settle_pending(previous_id)
    made = db.session.connection().execute(_MADE_BY, {"sid": previous_id}).first()
    if made is None:  # the old version changed nothing: the edit is an ordinary submission
        return apply(submission_id, entity, properties, label, place)
    household = current(made.household_id, lock=True)
    if household.version != made.version:
        return hold_for_merge(household.id, submission_id, made.base_version, "edit_after_changes")
    return _new_version(household, submission_id, properties, label, place, made.base_version)


def hold_for_merge(
    household_id: str, submission_id: int, base_version: int | None, reason: str
) -> HouseholdEffect:
    """Keep an update the server cannot apply on its own for the three-way merge (H3-H5).

    This is the one function the merge replaces; until then the update is
    recorded on the household's id and shown to reviewers, never applied.
    """
    db.session.connection().execute(
        sa.insert(PENDING),
        {
            "household_id": household_id,
            "submission_id": submission_id,
            "reason": reason,
            "base_version": base_version,
            "created_at": utcnow(),
        },
    )
    return HouseholdEffect(household_id, held=reason)


def _settle_pending(previous_id: int) -> None:
    """An update held for the merge is settled once an edit supersedes its submission."""
    db.session.connection().execute(
        sa.update(PENDING)
        .where(PENDING.c.submission_id == previous_id, PENDING.c.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )


def _create(
    household_id: str,
    dataset: str,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
) -> HouseholdEffect:
    """Insert version 1, unless a household with this id exists (then hold: the merge decides)."""
    conn = db.session.connection()
    now = utcnow()
    row = {
        "id": household_id,
        "dataset": dataset or "households",
        "label": label,
        "version": 1,
        "properties": dict(properties),
        "status": HouseholdStatus.ACTIVE,
        "village_id": place.village_id,
        "commune_id": place.commune_id,
        "created_submission_id": submission_id,
        "updated_submission_id": submission_id,
        "created_at": now,
        "updated_at": now,
    }
    if conn.execute(create_statement(conn.dialect.name), row).first() is None:
        return hold_for_merge(household_id, submission_id, None, "exists")
    _add_version(household_id, 1, submission_id, None, dict(properties), label, now)
    _record_change(household_id, place.unit_id)
    return HouseholdEffect(household_id, version=1)


def create_statement(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id: a registration of an id that exists
    (or is being inserted concurrently) returns no row instead of failing the transaction.
    (RETURNING, because psycopg reports no row count for this statement.)"""
    if dialect not in _CREATE:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(HOUSEHOLDS).on_conflict_do_nothing(index_elements=["id"])
        _CREATE[dialect] = statement.returning(HOUSEHOLDS.c.id)
    return _CREATE[dialect]


def _new_version(
    household: HouseholdState,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    base: int | None = None,
) -> HouseholdEffect:
    """Record the next version of `household` with the properties that differ (H2, H7)."""
    changed = {k: v for k, v in properties.items() if household.properties.get(k) != v}
    new_label = label if label and label != household.label else None
    moved = place.unit_id is not None
    version, now = household.version + 1, utcnow()
    updated = db.session.connection().execute(
        UPDATE,
        {
            "hid": household.id,
            "base": household.version,
            "new_version": version,
            "new_properties": {**household.properties, **changed},
            "new_label": new_label or household.label,
            "new_village": place.village_id if moved else household.village_id,
            "new_commune": place.commune_id if moved else household.commune_id,
            "sid": submission_id,
            "now": now,
        },
    )
    if updated.rowcount != 1:  # changed since it was read (only possible without the lock)
        return hold_for_merge(household.id, submission_id, household.version, "stale_base")
    base = household.version if base is None else base
    _add_version(household.id, version, submission_id, base, changed, new_label, now)
    unit = (
        (place.village_id or place.commune_id)
        if moved
        else (household.village_id or household.commune_id)
    )
    _record_change(household.id, unit)
    return HouseholdEffect(household.id, version=version)


def _add_version(household_id, version, submission_id, base, changed, label, now) -> None:
    row = version_row(household_id, version, submission_id, base, changed, label, now)
    db.session.connection().execute(sa.insert(VERSIONS), row)


def _record_change(household_id: str, unit_id: int | None) -> None:
    """Tell tablets the household changed (in this transaction)."""
    record_changes([(household_id, unit_id)], utcnow())


def record_changes(touched: list[tuple[str, int | None]], now) -> None:
    """`changes.record` for many households in one statement, on the ingest connection
    (the same row, with the writing transaction's id: see `server.models.audit`)."""
    rows = [
        {"kind": CHANGE_KIND, "entity_id": hid, "op": "upsert", "unit_id": unit, "at": now}
        for hid, unit in touched
    ]
    statement = sa.insert(Change.__table__).values(txid=changes.current_txid())
    db.session.connection().execute(statement, rows)


def update_refused(entity: EntityRef, household: HouseholdState | None) -> str | None:
    """Why an update cannot be applied on its own (the reasons `apply` holds it for)."""
    if household is None:
        return "unknown_household"
    if household.status != HouseholdStatus.ACTIVE:
        return "not_active"
    if entity.base_version != household.version:
        return "stale_base"
    return None


def version_row(household_id, version, submission_id, base, changed, label, now) -> dict:
    return {
        "household_id": household_id,
        "version": version,
        "submission_id": submission_id,
        "base_version": base,
        "changes": dict(changed),
        "label": label,
        "created_at": now,
    }
