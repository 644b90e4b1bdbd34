"""Households as ODK entities: created and updated by accepted submissions, never overwritten.

A registration (`meta/entity` with create) makes a household at version 1
(sync contract H1), after the exact-key duplicate check (D1: a match turns it
into an update of the existing household). A visit whose `baseVersion` is the
current version makes the next version with one UPDATE and one version row
(H2, the fast path). Anything else goes through the merge
(`server.services.households.merge`: the household recomputed from the set of
its updates, H3/H4/H6). Each change is a `HouseholdVersion` naming its
submission (or decision), base, changes and conflicts (H7).

Updates that cannot apply yet are held (`hold`): the next member of an
offline chain whose predecessor has not arrived, an update of a household not
registered yet (H5), an update of a closed household (H9, flagged, never
applied by itself). `release` applies held updates once they can apply, or
after `HOLD_TIMEOUT_HOURS` anyway (flagged); an update of a household merged
into another applies to the survivor (H9), and so does an update of the id a
registration's tablet created when D1 linked that registration to an existing
household (`route_linked`, until a reviewer undoes the link). A person's decision (conflict
resolution, duplicate merge, undo) is `record_decision`.

Tablets read households through the OpenRosa entity list (`entity_list`, a
CSV per user's scope) and the JSON pull (the `household` change kind).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask import current_app

from forms.instance import EntityRef
from forms.tree import Node
from server.db import db
from server.models import (
    Change,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
    Submission,
)
from server.models.base import utcnow
from server.services.duplicates import detection as dedup
from server.services.forms.loaded import LoadedForm
from server.services.forms.places import Place
from server.services.households import merge as merging
from server.services.households import poverty
from server.services.households.derived import LABEL
from server.services.receiving.store import RowsUpdate, insert_rows, update_rows
from server.services.sync import changes
from sync.merge import SUBMISSION, chain_position

#: The change kind tablets pull for households (see `server.services.sync.changes`).
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
    # The status under the standard in force on the assessment date (the form's `today`).
    when = values.get("assessment_date") or getattr(root.find("today"), "text", None)
    return poverty.reclassify(values, poverty.assessment_date(when))


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
    merged_into_id: str | None = None
    open_conflicts: int = 0
    held_updates: int = 0
    flagged: bool = False
    flag_reason: str | None = None
    # The assessments summed up (`poverty.Tracked`), carried to the next version's write.
    assessed_status: str | None = None
    exit_version: int | None = None
    exit_from: str | None = None


HOUSEHOLDS = Household.__table__
VERSIONS = HouseholdVersion.__table__
PENDING = PendingHouseholdUpdate.__table__
SUBMISSIONS = Submission.__table__
CURRENT = sa.select(*(HOUSEHOLDS.c[name] for name in HouseholdState.__dataclass_fields__)).where(
    HOUSEHOLDS.c.id == sa.bindparam("hid")
)


#: The columns every write sets from the new properties and version (`summed`).
SUMMED = ("poverty_status", "assessed_status", "exit_version", "exit_from")


def summed(
    household: HouseholdState | None, properties: dict, changes: dict, version: int
) -> dict[str, object]:
    """The columns `SUMMED` of a household written with `properties` by its version `version`
    that set `changes` (None: a new household), so the dashboard counts them from an index."""
    before = poverty.Tracked() if household is None else poverty.tracked_of(household)
    columns = poverty.track(before, changes, version).columns()
    return {"poverty_status": poverty.status_column(properties), **columns}


def _summed_params(*args) -> dict[str, object]:
    return {f"new_{name}": value for name, value in summed(*args).items()}


def _versioned_update(**columns) -> sa.Update:
    """UPDATE of a household guarded by the version it was read at, setting what every
    change sets plus `columns` (statements built once, at import)."""
    return (
        sa.update(HOUSEHOLDS)
        .where(HOUSEHOLDS.c.id == sa.bindparam("hid"), HOUSEHOLDS.c.version == sa.bindparam("base"))
        .values(
            version=sa.bindparam("new_version"),
            properties=sa.bindparam("new_properties", type_=HOUSEHOLDS.c.properties.type),
            label=sa.bindparam("new_label"),
            village_id=sa.bindparam("new_village"),
            commune_id=sa.bindparam("new_commune"),
            updated_at=sa.bindparam("now", type_=HOUSEHOLDS.c.updated_at.type),
            **{name: sa.bindparam(f"new_{name}", type_=HOUSEHOLDS.c[name].type) for name in SUMMED},
            **columns,
        )
    )


UPDATE = _versioned_update(updated_submission_id=sa.bindparam("sid"))
#: The fast path's write (`UPDATE`) and the merge's (with every column it sets) for many
#: households at once (`update_rows`: on PostgreSQL one statement reading the rows from one
#: JSON document).
_SET = (
    ("version", "new_version"), ("properties", "new_properties"), ("label", "new_label"),
    ("village_id", "new_village"), ("commune_id", "new_commune"), ("updated_at", "now"),
    *((name, f"new_{name}") for name in SUMMED),
)  # fmt: skip
_GUARD = (("id", "hid"), ("version", "base"))
UPDATE_ROWS = RowsUpdate(HOUSEHOLDS, _GUARD, (*_SET, ("updated_submission_id", "sid")))
MERGED_ROWS = RowsUpdate(
    HOUSEHOLDS,
    _GUARD,
    (
        *_SET, ("updated_submission_id", "sid"), ("open_conflicts", "conflicts"),
        ("flagged", "flagged"), ("flag_reason", "reason"), ("status", "status"),
        ("merged_into_id", "merged_into"),
    ),
    kept=frozenset({"updated_submission_id"}),
)  # fmt: skip
_MADE_BY = (
    sa.select(
        VERSIONS.c.household_id,
        VERSIONS.c.version,
        VERSIONS.c.base_version,
        VERSIONS.c.branch_id,
        VERSIONS.c.branch_position,
    )
    .where(VERSIONS.c.submission_id == sa.bindparam("sid"))
    .order_by(VERSIONS.c.version.desc())
    .limit(1)
)
_PREDECESSOR = sa.select(VERSIONS.c.version).where(
    VERSIONS.c.household_id == sa.bindparam("hid"),
    VERSIONS.c.branch_id == sa.bindparam("branch"),
    VERSIONS.c.branch_position == sa.bindparam("position"),
)
_CREATE: dict[str, sa.Insert] = {}
#: Reasons a held update waits for something that may still arrive (H5).
WAITING = ("unknown_household", "chain_gap")


def current(household_id: str, *, lock: bool = False) -> HouseholdState | None:
    """The household's current row; `lock` holds it until the transaction ends (PostgreSQL).

    An update locks the row before reading its version, so two updates of one
    household cannot both build on the same version: the second waits, then
    finds the first's version and goes through the merge.
    """
    stmt = CURRENT.with_for_update() if lock else CURRENT
    row = db.session.connection().execute(stmt, {"hid": normalise_id(household_id)}).first()
    if row is None:
        return None
    return state_of_row(row._asdict())


def state_of_row(found: dict) -> HouseholdState:
    found["status"] = HouseholdStatus(found["status"]).value
    return HouseholdState(**found)


def values_of(properties: dict[str, str], label: str | None) -> dict[str, str]:
    """What an update sends, as the merge reads it: its properties and its label."""
    return {**properties, LABEL: label} if label else dict(properties)


def apply(
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    household: HouseholdState | None = None,
    *,
    applied: list[tuple[int, str]] | None = None,
) -> HouseholdEffect | None:
    """Apply an accepted submission's entity block: create (H1, D1), update (H2-H5, H9).

    `household` is the row the caller already read (locked) for an update. `applied`: add
    (submission, household) to it for the caller's D4 check of a whole batch, instead of
    checking here.
    """
    if not entity.id:
        return None
    household_id = normalise_id(entity.id)
    if entity.update and household is None:
        household = current(household_id, lock=True)
    # A block with both flags (create-or-update) updates a household that exists.
    if entity.update and (household is not None or not entity.create):
        effect = update(household_id, household, submission_id, entity, properties, label, place)
    elif entity.create:
        linked = dedup.exact_match(household_id, properties, place, submission_id)
        if linked is not None and normalise_id(linked) != household_id:
            effect = link(household_id, linked, submission_id, properties, label, place)
        else:
            effect = _create(household_id, entity.dataset, submission_id, properties, label, place)
    else:
        return None
    if effect.version is not None:
        if applied is None:
            dedup.double_entry(submission_id, effect.household_id)
        else:
            applied.append((submission_id, effect.household_id))
    return effect


def update(
    household_id: str,
    household: HouseholdState | None,
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    *,
    force: bool = False,
) -> HouseholdEffect:
    """An update of an existing household: the fast path, the merge, a redirect or a hold.

    `force` applies an update whose hold timed out even if its predecessor is missing.
    """
    position = chain_position(entity.base_version, entity.trunk_version, entity.branch_id)
    args = (submission_id, entity, properties, label, place)
    if household is None:
        linked = dedup.linked_to(household_id)
        if linked is not None:  # D1: the tablet's own id of a household linked to another
            base = entity.base_version
            return route_linked(household_id, linked, submission_id, properties, label, base)
        return hold(household_id, *args, reason="unknown_household")
    if household.status == HouseholdStatus.MERGED and household.merged_into_id:
        return _redirect(household, submission_id, properties, label, place)
    if household.status != HouseholdStatus.ACTIVE:
        return hold(household.id, *args, reason="not_active", flag="closed_update")
    base = entity.base_version if entity.base_version is not None else household.version
    if position > 0:
        found = db.session.connection().execute(
            _PREDECESSOR,
            {"hid": household.id, "branch": entity.branch_id, "position": position - 1},
        )
        if found.first() is None and not force:
            effect = hold(household.id, *args, reason="chain_gap")
            if household.held_updates:  # what waited too long applies now
                release(household.id)
            return effect
        base = entity.trunk_version
    elif household.open_conflicts == 0 and base == household.version:
        return _new_version(household, submission_id, properties, label, place, entity=entity)
    incoming = arriving(household, submission_id, entity, properties, label, base, position)
    if force:
        incoming = replace(incoming, note="hold_timeout")
    return merge(household, incoming, place)


def arriving(
    household: HouseholdState,
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    base: int | None = None,
    position: int = 0,
) -> merging.Incoming:
    """An update as the merge takes it; `base`: the version it builds on (default: the one
    the tablet names, else the current)."""
    if base is None:
        base = entity.base_version if entity.base_version is not None else household.version
    return merging.Incoming(
        submission_id,
        values_of(properties, label),
        min(base, household.version),
        entity.branch_id,
        position,
        # A base the server has not reached (a restored server) merges on the current one;
        # the note keeps that it was merged (H6 ran), which the stored base no longer shows.
        note="base_ahead" if base > household.version else None,
    )


def link(
    own_id: str,
    linked_id: str,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
) -> HouseholdEffect:
    """D1: apply a registration to the existing household `linked_id` its exact keys matched;
    updates of `own_id` (the id its tablet created) that waited for it follow it there."""
    target = current(linked_id, lock=True)
    effect = link_registration(target, submission_id, properties, label, place)
    # The tablet that created `own_id` learns at its next pull that the id now redirects.
    _record_change(own_id, place.village_id or place.commune_id)
    waiting = db.session.connection().execute(
        sa.select(PENDING.c.id)
        .where(PENDING.c.household_id == own_id, PENDING.c.resolved_at.is_(None))
        .limit(1)
    )
    if waiting.first() is not None:
        release(own_id)
    return effect


def route_linked(
    own_id: str,
    linked_id: str,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    base_version: int | None = None,
) -> HouseholdEffect:
    """D1 with H9: an update the tablet sent for its own id of a registration linked to an
    existing household applies to that household (as a redirect) until a reviewer undoes
    the link; otherwise it would wait for a household that never comes, then make a second
    one, undoing the link.

    What it changed is measured against what its tablet knew of the household when it
    made the update (its registration and its earlier updates, by `baseVersion`), so values
    it merely re-sends never overwrite what others recorded; and a property a later update
    of the same tablet already wrote is left alone (a chain arriving out of order, H5)."""
    target = current(linked_id, lock=True)
    known, later = _tablet_view(own_id, linked_id, base_version)
    changed = {k: v for k, v in properties.items() if known.get(k) != v and k not in later}
    return _apply_redirected(target, changed, submission_id, properties, label)


_ROUTED = (
    sa.select(
        VERSIONS.c.household_id,
        VERSIONS.c.version,
        VERSIONS.c.submission_id,
        VERSIONS.c.changes,
        VERSIONS.c.sent,
        VERSIONS.c.note,
        SUBMISSIONS.c.form_version_id,
        SUBMISSIONS.c.village_id,
        SUBMISSIONS.c.commune_id,
        SUBMISSIONS.c.answers["meta"]["entity"].label("entity"),
    )
    .join(SUBMISSIONS, SUBMISSIONS.c.id == VERSIONS.c.submission_id)
    .where(
        VERSIONS.c.household_id.in_(sa.bindparam("hids", expanding=True)),
        VERSIONS.c.note.in_(("auto_linked", "redirected")),
    )
    .order_by(VERSIONS.c.created_at, VERSIONS.c.id)
)


def routed(own_id: str, linked_id: str) -> list:
    """The version rows made by the registration of `own_id` linked to `linked_id` (D1) and by
    the updates its tablet sent for `own_id` since (note `redirected`), oldest first, along
    the redirects from `linked_id`; each with its submission's entity block (`entity`)."""
    chain, hid = [linked_id], linked_id
    while hid is not None and len(chain) < 16:
        found = current(hid)
        hid = found.merged_into_id if found is not None else None
        if hid is not None and hid not in chain:
            chain.append(hid)
    return [
        row
        for row in db.session.connection().execute(_ROUTED, {"hids": chain})
        if isinstance(row.entity, dict) and normalise_id(str(row.entity.get("@id") or "")) == own_id
    ]


def _tablet_view(
    own_id: str, linked_id: str, base_version: int | None
) -> tuple[dict[str, str], set[str]]:
    """The values the tablet that created `own_id` had for it when it made an update from
    `base_version` (its registration, then its updates routed since from an earlier base),
    and the properties its updates from a later base wrote (the rare path)."""
    view: dict[str, str] = {}
    later: set[str] = set()
    for row in routed(own_id, linked_id):
        base = _int(row.entity.get("@baseVersion")) if row.note == "redirected" else 0
        if base_version is None or base is None or base < base_version:
            view.update(row.sent or {})
        else:
            later |= set(row.sent or {})
    return view, later


def _int(text) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def link_registration(
    target: HouseholdState,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    note: str = "auto_linked",
) -> HouseholdEffect:
    """A registration of a household that exists (D1 exact key, or the same id): an update
    concurrent with everything the household has, so whatever it disagrees on is a conflict."""
    if target.status == HouseholdStatus.MERGED and target.merged_into_id:
        return _redirect(target, submission_id, properties, label, place)
    incoming = merging.Incoming(submission_id, values_of(properties, label), None, note=note)
    return merge(target, incoming, place)


def record_decision(
    household_id: str,
    values: dict[str, str],
    *,
    kind: str,
    actor_id: int | None,
    status: HouseholdStatus | None = None,
    merged_into: str | None = None,
) -> int:
    """A person's decision as the household's next version; returns the version number.

    The decision (a conflict resolution, a duplicate merge, an undo...) is a
    causal successor of every update applied so far, so each value it gives
    wins and settles the conflicts on those properties; the rebuild (H8)
    replays it. `status`, when given, becomes the household's status with
    `merged_into` as its redirect (None clears it).
    """
    household = current(household_id, lock=True)
    if household is None:
        raise LookupError(f"no household {household_id}")
    incoming = merging.Incoming(
        None,
        {k: "" if v is None else str(v) for k, v in values.items()},
        household.version,
        kind=kind,
        actor_id=actor_id,
        status=HouseholdStatus(status).value if status is not None else None,
        merged_into=normalise_id(merged_into) if merged_into else None,
    )
    effect = merge(household, incoming, Place())
    return effect.version


#: Notes of an update that flag the household for a person to look at.
FLAGGING_NOTES = ("hold_timeout", "auto_linked", "redirected")


def merge(household: HouseholdState, incoming: merging.Incoming, place: Place) -> HouseholdEffect:
    """Recompute the household with `incoming` added (H3, H4, H6) and write the next version."""
    return merge_many([(household, incoming, place)])[0]


def merge_many(
    merges: list[tuple[HouseholdState, merging.Incoming, Place]],
) -> list[HouseholdEffect]:
    """`merge` for updates of different households, with a few statements for all of them
    (a push batch's stale-base visits, `household_batch.apply_many`)."""
    now = utcnow()
    histories = merging.histories([household.id for household, _, _ in merges])
    new_rows = merging.incoming_rows([(i, h.version + 1) for h, i, _ in merges], now)
    params, versions, conflicted, touched, indexed, effects = [], [], [], [], [], []
    for (household, incoming, place), new_row in zip(merges, new_rows, strict=True):
        rows = [*histories.get(household.id, ()), new_row]
        version = household.version + 1
        _, values, open_conflicts = merging.state_of(rows)
        label = values.pop(LABEL, None) or household.label
        changed = {k: v for k, v in values.items() if household.properties.get(k) != v}
        submissions = {r.key: r.submission_id for r in rows}
        conflicts = [merging.conflict_json(c, submissions) for c in open_conflicts]
        status, merged_into = household.status, household.merged_into_id
        if incoming.status is not None:
            status, merged_into = incoming.status, incoming.merged_into
        flag = incoming.note if incoming.note in FLAGGING_NOTES else None
        flag = flag or ("conflict" if conflicts else None)
        keeps_flag = household.flagged and household.flag_reason not in (None, "conflict")
        moved = place.unit_id is not None
        village = place.village_id if moved else household.village_id
        commune = place.commune_id if moved else household.commune_id
        params.append({
            "hid": household.id,
            "base": household.version,
            "new_version": version,
            "new_properties": values,
            "new_label": label,
            "new_village": village,
            "new_commune": commune,
            "sid": incoming.submission_id,
            "now": now,
            "conflicts": len(conflicts),
            "flagged": bool(flag) or keeps_flag,
            "reason": flag or (household.flag_reason if keeps_flag else None),
            "status": status,
            "merged_into": merged_into,
            **_summed_params(household, values, changed, version),
        })  # fmt: skip
        row = version_row(
            household.id,
            version,
            incoming.submission_id,
            incoming.base_version,
            changed,
            label if label != household.label else None,
            now,
        )
        row.update(
            kind=incoming.kind,
            sent=dict(incoming.values),
            branch_id=incoming.branch_id,
            branch_position=incoming.branch_position,
            conflicts=conflicts or None,
            actor_id=incoming.actor_id,
            status=incoming.status,
            merged_into_id=incoming.merged_into,
            note=incoming.note,
        )
        versions.append(row)
        if conflicts or household.open_conflicts:
            conflicted.append((household.id, conflicts, version, incoming.actor_id))
        touched.append((household.id, village or commune))
        indexed.append((household.id, changed, label))
        effects.append(HouseholdEffect(household.id, version=version))
    changed_rows = update_rows(MERGED_ROWS, params)
    if len(params) == 1 and changed_rows != 1:  # only without the row lock: never lose it
        raise RuntimeError(f"household {params[0]['hid']} changed while it was merged")
    insert_rows(VERSIONS, versions)
    merging.sync_conflicts(conflicted, now)
    record_changes(touched, now)
    dedup.updated_many(indexed)
    for household, incoming, _ in merges:
        if household.held_updates and incoming.submission_id is not None:
            release(household.id)
    return effects


def _redirect(
    absorbed: HouseholdState,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
) -> HouseholdEffect:
    """H9: an update of a household merged into another applies to the survivor: what it
    changed of the absorbed household, on top of the survivor as it is now."""
    changed = {k: v for k, v in properties.items() if absorbed.properties.get(k) != v}
    return _apply_redirected(absorbed, changed, submission_id, properties, label, place)


def _apply_redirected(
    start: HouseholdState,
    changed: dict[str, str],
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place | None = None,
) -> HouseholdEffect:
    """`changed` on top of `start` as it is now, or of the survivor it was merged into (H9)."""
    survivor, seen = start, {start.id}
    while survivor.status == HouseholdStatus.MERGED and survivor.merged_into_id not in seen:
        seen.add(survivor.merged_into_id)
        found = current(survivor.merged_into_id, lock=True)
        if found is None:
            break
        survivor = found
    if survivor.status != HouseholdStatus.ACTIVE:
        entity = EntityRef("households", survivor.id, update=True)
        args = (submission_id, entity, properties, label, place or Place())
        return hold(survivor.id, *args, reason="not_active", flag="closed_update")
    incoming = merging.Incoming(submission_id, changed, survivor.version, note="redirected")
    return merge(survivor, incoming, Place())


def replace_edit(
    previous_id: int,
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
) -> HouseholdEffect | None:
    """Apply an edit (R4): its values replace those of the update it supersedes.

    The edit keeps the update's id (the record's root instanceID), so in the
    merge it takes the superseded update's place: updates built on the old
    one are now built on the new one. When the superseded one made the
    latest version, that is the fast path; otherwise the household is
    recomputed. An edit of a held update is held in its place.
    """
    if _settle_pending(previous_id):
        return apply(submission_id, entity, properties, label, place)
    made = db.session.connection().execute(_MADE_BY, {"sid": previous_id}).first()
    if made is None:  # the old version changed nothing: the edit is an ordinary submission
        return apply(submission_id, entity, properties, label, place)
    household = current(made.household_id, lock=True)
    if household.version == made.version and household.open_conflicts == 0:
        effect = _new_version(
            household, submission_id, properties, label, place, made.base_version, made=made
        )
    else:
        incoming = merging.Incoming(
            submission_id,
            values_of(properties, label),
            made.base_version,
            made.branch_id,
            made.branch_position,
        )
        effect = merge(household, incoming, place)
    dedup.double_entry(submission_id, effect.household_id)
    return effect


def hold(
    household_id: str,
    submission_id: int,
    entity: EntityRef,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    *,
    reason: str,
    flag: str | None = None,
) -> HouseholdEffect:
    """Keep an update that cannot apply yet, with what applying it later needs (H5, H9)."""
    details = {
        "entity": {
            "dataset": entity.dataset,
            "id": entity.id,
            "create": entity.create,
            "update": entity.update,
            "base_version": entity.base_version,
            "trunk_version": entity.trunk_version,
            "branch_id": entity.branch_id,
        },
        "properties": dict(properties),
        "label": label,
        "place": {
            "village_id": place.village_id,
            "commune_id": place.commune_id,
            "name": place.name,
        },
    }
    conn = db.session.connection()
    conn.execute(
        sa.insert(PENDING),
        {
            "household_id": household_id,
            "submission_id": submission_id,
            "reason": reason,
            "base_version": entity.base_version,
            "created_at": utcnow(),
            "details": details,
        },
    )
    values: dict = {"held_updates": HOUSEHOLDS.c.held_updates + 1}
    if flag:
        values.update(flagged=True, flag_reason=flag)
    conn.execute(sa.update(HOUSEHOLDS).where(HOUSEHOLDS.c.id == household_id).values(values))
    return HouseholdEffect(household_id, held=reason)


def release(household_id: str, *, now: dt.datetime | None = None) -> list[HouseholdEffect]:
    """Apply the held updates of a household that can apply now (H5): the next member of a
    chain whose predecessor arrived, updates of a household now registered, and, after
    `HOLD_TIMEOUT_HOURS`, any waiting update anyway (flagged). Chain order is kept."""
    now = now or utcnow()
    timeout = dt.timedelta(hours=float(current_app.config.get("HOLD_TIMEOUT_HOURS", 120.0)))
    applied: list[HouseholdEffect] = []
    progress = True
    while progress:
        progress = False
        for held in _waiting(household_id):
            effect = _try_release(held, now - held.created_at >= timeout)
            if effect is not None:
                applied.append(effect)
                progress = True
                break  # the household changed: read what still waits again
    return applied


def release_timed_out(now: dt.datetime | None = None) -> int:
    """`release` every household with an update held longer than the timeout (the command)."""
    now = now or utcnow()
    hours = float(current_app.config.get("HOLD_TIMEOUT_HOURS", 120.0))
    cutoff = now - dt.timedelta(hours=hours)
    ids = db.session.scalars(
        sa.select(PENDING.c.household_id)
        .where(
            PENDING.c.resolved_at.is_(None),
            PENDING.c.reason.in_(WAITING),
            PENDING.c.created_at <= cutoff,
        )
        .distinct()
        .order_by(PENDING.c.household_id)
    ).all()
    return sum(len(release(hid, now=now)) for hid in ids)


def _waiting(household_id: str) -> list:
    stmt = (
        sa.select(PENDING)
        .where(
            PENDING.c.household_id == household_id,
            PENDING.c.resolved_at.is_(None),
            PENDING.c.reason.in_(WAITING),
            PENDING.c.details.is_not(None),
        )
        .order_by(PENDING.c.id)
    )
    rows = list(db.session.connection().execute(stmt))
    position = lambda r: chain_position(  # noqa: E731 - a sort key
        r.details["entity"]["base_version"],
        r.details["entity"]["trunk_version"],
        r.details["entity"]["branch_id"],
    )
    return sorted(rows, key=lambda r: (position(r), r.id))


def _try_release(held, timed_out: bool) -> HouseholdEffect | None:
    d = held.details
    e = d["entity"]
    entity = EntityRef(
        e["dataset"],
        e["id"],
        e["create"],
        e["update"],
        e["base_version"],
        e["trunk_version"],
        e["branch_id"],
    )
    place = Place(d["place"]["village_id"], d["place"]["commune_id"], d["place"]["name"])
    household = current(held.household_id, lock=True)
    args = (held.submission_id, entity, d["properties"], d["label"], place)
    if household is None:
        linked = dedup.linked_to(held.household_id)
        if linked is not None:  # its registration was linked to another household (D1)
            _resolve_pending(held.id, held.household_id)
            sid, _, properties, label, _ = args
            base = entity.base_version
            return route_linked(held.household_id, linked, sid, properties, label, base)
        if not timed_out:
            return None
        _resolve_pending(held.id, held.household_id)
        sid, _, properties, label, place = args
        return _create(held.household_id, entity.dataset, sid, properties, label, place, held=True)
    else:
        position = chain_position(entity.base_version, entity.trunk_version, entity.branch_id)
        if position > 0 and not timed_out:
            found = db.session.connection().execute(
                _PREDECESSOR,
                {"hid": household.id, "branch": entity.branch_id, "position": position - 1},
            )
            if found.first() is None:
                return None
        _resolve_pending(held.id, held.household_id)
        household = current(held.household_id, lock=True)
        return update(household.id, household, *args, force=timed_out)


def _resolve_pending(pending_id: int, household_id: str) -> None:
    conn = db.session.connection()
    conn.execute(sa.update(PENDING).where(PENDING.c.id == pending_id).values(resolved_at=utcnow()))
    conn.execute(
        sa.update(HOUSEHOLDS)
        .where(HOUSEHOLDS.c.id == household_id, HOUSEHOLDS.c.held_updates > 0)
        .values(held_updates=HOUSEHOLDS.c.held_updates - 1)
    )


def _settle_pending(previous_id: int) -> bool:
    """An update held for the merge is settled once an edit supersedes its submission."""
    conn = db.session.connection()
    rows = conn.execute(
        sa.select(PENDING.c.id, PENDING.c.household_id).where(
            PENDING.c.submission_id == previous_id, PENDING.c.resolved_at.is_(None)
        )
    ).all()
    for row in rows:
        _resolve_pending(row.id, row.household_id)
    return bool(rows)


def _create(
    household_id: str,
    dataset: str,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    *,
    held: bool = False,
) -> HouseholdEffect:
    """Insert version 1; a household with this id that exists takes it as an update.

    `held` marks a household created from an update whose registration never came
    (applied after the hold timeout, flagged).
    """
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
        "flagged": held,
        "flag_reason": "hold_timeout" if held else None,
        **summed(None, properties, properties, 1),
    }
    if conn.execute(create_statement(conn.dialect.name), row).first() is None:
        existing = current(household_id, lock=True)
        return link_registration(existing, submission_id, properties, label, place, "same_id")
    version = version_row(household_id, 1, submission_id, None, dict(properties), label, now)
    if held:
        version["note"] = "hold_timeout"
    conn.execute(sa.insert(VERSIONS), version)
    _record_change(household_id, place.unit_id)
    dedup.registered(household_id, properties, label, place, submission_id)
    created(household_id)
    return HouseholdEffect(household_id, version=1)


_WAITING_COUNT = (
    sa.select(sa.func.count())
    .select_from(PENDING)
    .where(PENDING.c.household_id == sa.bindparam("hid"), PENDING.c.resolved_at.is_(None))
)


def created(household_id: str) -> None:
    """Updates that waited for this household's registration apply now (H5)."""
    conn = db.session.connection()
    waiting = conn.execute(_WAITING_COUNT, {"hid": household_id}).scalar()
    if waiting:
        conn.execute(
            sa.update(HOUSEHOLDS)
            .where(HOUSEHOLDS.c.id == household_id)
            .values(held_updates=waiting)
        )
        release(household_id)


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


@dataclass(frozen=True)
class FastPath:
    """What a fast-path update (H2) writes: the UPDATE's parameters, the version row, the
    unit whose tablets hear of it, and what changed (H7)."""

    params: dict
    row: dict
    unit: int | None
    changed: dict[str, str]
    label: str | None  # the new label, None when unchanged


def fast_path(
    household: HouseholdState,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    now: dt.datetime,
    base: int | None = None,
) -> FastPath:
    """The next version of `household` with the properties that differ (one update or a
    batch's, `household_batch`). On the current version with no open conflict, the
    merge's result is the current state plus what this update changed (it is a causal
    successor of every update applied), so no history is read."""
    changed = {k: v for k, v in properties.items() if household.properties.get(k) != v}
    new_label = label if label and label != household.label else None
    moved = place.unit_id is not None
    village = place.village_id if moved else household.village_id
    commune = place.commune_id if moved else household.commune_id
    version = household.version + 1
    new_properties = {**household.properties, **changed}
    params = {
        "hid": household.id,
        "base": household.version,
        "new_version": version,
        "new_properties": new_properties,
        "new_label": new_label or household.label,
        "new_village": village,
        "new_commune": commune,
        "sid": submission_id,
        "now": now,
        **_summed_params(household, new_properties, changed, version),
    }
    base = household.version if base is None else base
    row = version_row(household.id, version, submission_id, base, changed, new_label, now)
    row["sent"] = values_of(properties, label)
    return FastPath(params, row, village or commune, changed, new_label)


def _new_version(
    household: HouseholdState,
    submission_id: int,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    base: int | None = None,
    *,
    entity: EntityRef | None = None,
    made=None,
) -> HouseholdEffect:
    """The fast path (H2) for one update: `fast_path`, written."""
    now = utcnow()
    step = fast_path(household, submission_id, properties, label, place, now, base)
    updated = db.session.connection().execute(UPDATE, step.params)
    if updated.rowcount != 1:  # changed since it was read (only possible without the lock)
        raise RuntimeError(f"household {household.id} changed while it was updated")
    if made is not None:
        step.row.update(branch_id=made.branch_id, branch_position=made.branch_position)
    elif entity is not None:
        step.row["branch_id"] = entity.branch_id
    db.session.connection().execute(sa.insert(VERSIONS), step.row)
    record_changes([(household.id, step.unit)], now)
    dedup.updated(household.id, step.changed, step.label)
    if household.held_updates:
        release(household.id)
    return HouseholdEffect(household.id, version=household.version + 1)


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
    txid = _TXID.get(db.session.connection().dialect.name)
    if txid is None:
        txid = _TXID[db.session.connection().dialect.name] = changes.current_txid()
    insert_rows(Change.__table__, rows, sql=(("txid", txid),))


_TXID: dict[str, sa.ColumnElement[int]] = {}


def update_refused(entity: EntityRef, household: HouseholdState | None) -> str | None:
    """Why an update cannot take the fast path (None: it can, see `_new_version`)."""
    if household is None:
        return "unknown_household"
    if household.status != HouseholdStatus.ACTIVE:
        return "not_active"
    if chain_position(entity.base_version, entity.trunk_version, entity.branch_id) > 0:
        return "chain"
    if household.open_conflicts or (
        entity.base_version is not None and entity.base_version != household.version
    ):
        return "stale_base"
    return None


def version_row(household_id, version, submission_id, base, changed, label, now) -> dict:
    """A `household_versions` row; the merge columns default to a submission's."""
    return {
        "household_id": household_id,
        "version": version,
        "submission_id": submission_id,
        "base_version": base,
        "changes": dict(changed),
        "label": label,
        "created_at": now,
        "kind": SUBMISSION,
        "sent": None,
        "branch_id": None,
        "branch_position": 0,
        "conflicts": None,
        "actor_id": None,
        "status": None,
        "merged_into_id": None,
        "note": None,
    }
