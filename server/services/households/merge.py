"""The household merge on the server (sync contract H3-H7): recompute from the set of updates.

The fast path (`households.apply` on the current version) needs none of this.
Everything else comes here: an update on a stale base, a registration of a
household that exists, an edit replacing history others built on, a held
chain member, a decision. The household's versions are read back as
`sync.merge.Update`s, the new one is added, `sync.merge.resolve` gives the
state of the whole set (so arrival order does not matter, H4), the form's
derived properties are recomputed (H6), and the result is written as the
next version with what changed and the conflicts open after it (H7); the
`HouseholdConflict` rows follow the open conflicts.

How a version row becomes an update: its id is the submission's root
instanceID (an edit keeps the id of the record it replaces, R4) or
`decision:<version>`; its values are the ones the last row with that id sent;
its base is every update of the versions up to `base_version`, plus the
earlier members of its offline branch (H5); its time is the visit's end (or
start) on the device, corrected by the device's clock offset (H4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from server.db import db
from server.models import (
    Household,
    HouseholdConflict,
    HouseholdVersion,
    Submission,
)
from server.services.forms import loaded as form_models
from server.services.households.derived import LABEL, derive, derived_names
from sync.merge import DECISION, SUBMISSION, Conflict, Resolution, Update, resolve

VERSIONS = HouseholdVersion.__table__
SUBMISSIONS = Submission.__table__
CONFLICTS = HouseholdConflict.__table__
HOUSEHOLDS = Household.__table__


@dataclass(frozen=True)
class Incoming:
    """An update about to become the next version: a submission's entity block or a decision."""

    submission_id: int | None
    values: dict[str, str]  # properties, and the label under LABEL when sent
    base_version: int | None
    branch_id: str | None = None
    branch_position: int = 0
    kind: str = SUBMISSION
    actor_id: int | None = None
    status: str | None = None
    merged_into: str | None = None
    note: str | None = None


@dataclass
class Row:
    """One version row with what the merge needs of its submission."""

    version: int
    submission_id: int | None
    base_version: int | None
    branch_id: str | None
    branch_position: int
    kind: str
    values: dict[str, str]
    key: str
    time: float
    form_version_id: int | None = None
    status: str | None = None
    merged_into: str | None = None
    created_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict)


#: The answers the visit time comes from, read in SQL (not the whole answers document).
_VISIT_ANSWERS = tuple(
    SUBMISSIONS.c.answers[name].as_string().label(f"answer_{name}") for name in ("end", "start")
)
_HISTORY = (
    sa.select(
        VERSIONS.c.version,
        VERSIONS.c.submission_id,
        VERSIONS.c.base_version,
        VERSIONS.c.branch_id,
        VERSIONS.c.branch_position,
        VERSIONS.c.kind,
        VERSIONS.c.sent,
        VERSIONS.c.changes,
        VERSIONS.c.label,
        VERSIONS.c.status,
        VERSIONS.c.merged_into_id,
        VERSIONS.c.created_at,
        VERSIONS.c.note,
        SUBMISSIONS.c.root_id,
        SUBMISSIONS.c.form_version_id,
        SUBMISSIONS.c.device_time,
        SUBMISSIONS.c.clock_offset_seconds,
        SUBMISSIONS.c.received_at,
        *_VISIT_ANSWERS,
    )
    .add_columns(VERSIONS.c.household_id)
    .select_from(VERSIONS.outerjoin(SUBMISSIONS, SUBMISSIONS.c.id == VERSIONS.c.submission_id))
    .where(VERSIONS.c.household_id.in_(sa.bindparam("hids", expanding=True)))
    .order_by(VERSIONS.c.household_id, VERSIONS.c.version)
)
_SUBMISSION = sa.select(
    SUBMISSIONS.c.root_id,
    SUBMISSIONS.c.form_version_id,
    SUBMISSIONS.c.device_time,
    SUBMISSIONS.c.clock_offset_seconds,
    SUBMISSIONS.c.received_at,
    *_VISIT_ANSWERS,
    SUBMISSIONS.c.id,
).where(SUBMISSIONS.c.id.in_(sa.bindparam("sids", expanding=True)))


def visit_time(answers, device_time, offset_seconds, received_at) -> float:
    """When the visit happened, on the server's clock (H4): the form's `end` (else `start`)
    answer, else the device time of the delivery, minus the device's clock offset; the
    receipt time when the device said nothing."""
    moment = None
    if isinstance(answers, dict):
        for name in ("end", "start"):
            text = answers.get(name)
            if isinstance(text, str) and text.strip():
                try:
                    moment = dt.datetime.fromisoformat(text.strip())
                except ValueError:
                    continue
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
                break
    if moment is None:
        moment = device_time
    if moment is None:
        return received_at.timestamp() if received_at else 0.0
    return moment.timestamp() - (offset_seconds or 0.0)


def _visit_answers(row) -> dict[str, str | None]:
    return {"end": row.answer_end, "start": row.answer_start}


def history(household_id: str) -> list[Row]:
    """Every version of the household, as the merge reads them."""
    return histories([household_id]).get(household_id, [])


def histories(household_ids: list[str]) -> dict[str, list[Row]]:
    """`history` of several households with one query."""
    found: dict[str, list[Row]] = {}
    if not household_ids:
        return found
    for r in db.session.connection().execute(_HISTORY, {"hids": sorted(set(household_ids))}):
        rows = found.setdefault(r.household_id, [])
        values = dict(r.sent) if r.sent is not None else dict(r.changes or {})
        if r.sent is None and r.label:
            values[LABEL] = r.label
        if r.submission_id is not None:
            key = r.root_id
            time = visit_time(_visit_answers(r), r.device_time, r.clock_offset_seconds,
                              r.received_at)  # fmt: skip
        else:
            key, time = f"decision:{r.version}", r.created_at.timestamp()
        rows.append(
            Row(
                r.version,
                r.submission_id,
                r.base_version,
                r.branch_id,
                r.branch_position or 0,
                r.kind or SUBMISSION,
                values,
                key,
                time,
                r.form_version_id,
                r.status,
                r.merged_into_id,
                r.created_at,
                {"restricted": r.note == "redirected", "note": r.note},
            )
        )
    return found


def incoming_rows(arriving: list[tuple[Incoming, int]], now) -> list[Row]:
    """The rows the incoming updates (each with the version it will be) will be, read like
    the stored ones, with one query for all of them."""
    sids = [incoming.submission_id for incoming, _ in arriving if incoming.submission_id]
    submissions = {}
    if sids:
        found = db.session.connection().execute(_SUBMISSION, {"sids": sids})
        submissions = {s.id: s for s in found}
    return [_incoming_row(incoming, version, now, submissions) for incoming, version in arriving]


def _incoming_row(incoming: Incoming, version: int, now, submissions: dict) -> Row:
    if incoming.submission_id is None:
        key, time, form_version_id = f"decision:{version}", now.timestamp(), None
    else:
        s = submissions[incoming.submission_id]
        key, form_version_id = s.root_id, s.form_version_id
        time = visit_time(_visit_answers(s), s.device_time, s.clock_offset_seconds, s.received_at)
    return Row(
        version,
        incoming.submission_id,
        incoming.base_version,
        incoming.branch_id,
        incoming.branch_position,
        incoming.kind,
        dict(incoming.values),
        key,
        time,
        form_version_id,
        incoming.status,
        incoming.merged_into,
        now,
    )


def updates_of(rows: list[Row]) -> list[Update]:
    """The merge's updates of these version rows (see the module docstring)."""
    first: dict[str, Row] = {}
    last: dict[str, Row] = {}
    for row in rows:
        first.setdefault(row.key, row)
        last[row.key] = row
    found = []
    for key, origin in first.items():
        base = {r.key for r in rows if origin.base_version and r.version <= origin.base_version}
        if origin.branch_id and origin.branch_position:
            base |= {
                r.key
                for r in rows
                if r.branch_id == origin.branch_id and r.branch_position < origin.branch_position
            }
        if origin.kind != SUBMISSION and origin.submission_id is None:
            base = {r.key for r in rows if r.version < origin.version}
        base.discard(key)
        latest = last[key]
        kind = DECISION if latest.submission_id is None else SUBMISSION
        found.append(Update(key, latest.values, frozenset(base), latest.time, kind))
    return found


def state_of(rows: list[Row]) -> tuple[Resolution, dict[str, str], list[Conflict]]:
    """The resolution of these versions, the values after H6 (label under LABEL), and the
    open conflicts. A conflict on a property the form derives from others is left out:
    its value follows the merged inputs, where any real disagreement shows."""
    resolution = resolve(updates_of(rows))
    values, derived_names = derived(rows, resolution)
    conflicts = [c for c in resolution.conflicts if c.property not in derived_names]
    return resolution, values, conflicts


def replayed(rows: list[Row]) -> tuple[dict[str, str], list[Conflict]]:
    """The values (label under LABEL) and open conflicts ingest left after these stored
    versions (the rebuild, H8): `state_of`'s, except that a history ingest applied on the fast
    path alone was never merged, so H6 never recomputed anything in it."""
    if fast_forward(rows):
        return dict(resolve(updates_of(rows)).values), []
    _, values, conflicts = state_of(rows)
    return values, conflicts


def fast_forward(rows: list[Row]) -> bool:
    """Whether every one of these stored versions took the fast path (H1, H2): a registration
    as version 1, then each submission on the version just before it, with no decision,
    edit (an id again), offline-chain member, redirect or hold among them. Every other way
    in (a stale base, an open conflict, a link, a held update) goes through `merge` and
    leaves one of those marks on its row or on an earlier one."""
    keys: set[str] = set()
    for number, row in enumerate(rows, 1):
        base = None if number == 1 else number - 1
        if (row.version != number or row.base_version != base or row.kind != SUBMISSION
                or row.submission_id is None or row.key in keys or row.branch_position
                or row.status is not None or row.extra.get("note") is not None):  # fmt: skip
            return False
        keys.add(row.key)
    return True


def derived(rows: list[Row], resolution: Resolution) -> tuple[dict[str, str], set[str]]:
    """H6: the calculated properties recomputed by every form that wrote the household,
    the form of the latest update last (they agree when forms share expressions)."""
    position = {key: i for i, key in enumerate(resolution.order)}
    forms: dict[int, int] = {}
    for row in rows:
        if row.form_version_id is not None:
            forms[row.form_version_id] = max(
                forms.get(row.form_version_id, -1), position.get(row.key, -1)
            )
    values = dict(resolution.values)
    models = [
        form_models.loaded(version_id).model
        for version_id, _ in sorted(forms.items(), key=lambda item: (item[1], item[0]))
    ]
    derives = [derived_names(model) for model in models]
    names: set[str] = set().union(*derives)
    for i, model in enumerate(models):
        # What a later form recomputes again from the same inputs, an earlier one need not
        # (the later form runs its own calculates for them): skip the earlier form's
        # calculates for those, and the form when that is all it derives.
        later = set().union(*derives[i + 1 :])
        if derives[i] <= later:
            continue
        values = derive(model, values, derives[i] - later if later else None)
    return values, names


def status_of(rows: Iterable[Row]) -> tuple[str | None, str | None]:
    """The status and redirect the latest decision that set one gave (None: never set)."""
    status = merged = None
    for row in rows:
        if row.status is not None:
            status, merged = row.status, row.merged_into
    return status, merged


def conflict_json(conflict: Conflict, submissions: dict[str, int | None]) -> dict:
    return {
        "property": conflict.property,
        "base": conflict.base,
        "provisional": conflict.provisional,
        "provisional_update": conflict.provisional_update,
        "writes": [
            {
                "update": w.update,
                "submission_id": submissions.get(w.update),
                "value": w.value,
                "base_value": w.base_value,
            }
            for w in conflict.writes
        ],
    }


def sync_conflicts(merged: list[tuple[str, list[dict], int, int | None]], now) -> None:
    """Make the open `HouseholdConflict` rows of each (household, conflicts, version,
    actor) the conflicts open after that version, with a few statements for all of them.

    One open row per property: its writes are updated when a new concurrent
    write joins; it is settled (with this version) when no conflict remains on
    the property, by a person when the version is their decision.
    """
    if not merged:
        return
    conn = db.session.connection()
    open_rows: dict[str, dict] = {}
    ids = sorted({household_id for household_id, *_ in merged})
    for r in conn.execute(_OPEN_CONFLICTS, {"hids": ids}):
        open_rows.setdefault(r.household_id, {})[r.property] = r
    settled, changed, new = [], [], []
    for household_id, conflicts, version, actor_id in merged:
        opened = open_rows.get(household_id, {})
        wanted = {c["property"]: c for c in conflicts}
        settled += [
            {"cid": row.id, "now": now, "actor": actor_id, "version": version}
            for prop, row in opened.items()
            if prop not in wanted
        ]
        for prop, c in wanted.items():
            values = {
                "base_value": c["base"],
                "writes": c["writes"],
                "provisional": c["provisional"],
                "provisional_update": c["provisional_update"],
            }
            if prop in opened:
                if opened[prop].writes != c["writes"]:
                    changed.append(
                        {"cid": opened[prop].id, **{f"new_{k}": v for k, v in values.items()}}
                    )
            else:
                new.append({"household_id": household_id, "property": prop,
                            "detected_version": version, "created_at": now, **values})  # fmt: skip
    if settled:
        conn.execute(_SETTLE_CONFLICT, settled)
    if changed:
        conn.execute(_CHANGE_CONFLICT, changed)
    if new:
        conn.execute(sa.insert(CONFLICTS), new)


_OPEN_CONFLICTS = sa.select(
    CONFLICTS.c.id, CONFLICTS.c.household_id, CONFLICTS.c.property, CONFLICTS.c.writes
).where(
    CONFLICTS.c.household_id.in_(sa.bindparam("hids", expanding=True)),
    CONFLICTS.c.resolved_at.is_(None),
)
_SETTLE_CONFLICT = (
    sa.update(CONFLICTS)
    .where(CONFLICTS.c.id == sa.bindparam("cid"))
    .values(
        resolved_at=sa.bindparam("now", type_=CONFLICTS.c.resolved_at.type),
        resolved_by_id=sa.bindparam("actor", type_=CONFLICTS.c.resolved_by_id.type),
        resolution_version=sa.bindparam("version", type_=CONFLICTS.c.resolution_version.type),
    )
)
_CHANGE_CONFLICT = (
    sa.update(CONFLICTS)
    .where(CONFLICTS.c.id == sa.bindparam("cid"))
    .values(
        {
            name: sa.bindparam(f"new_{name}", type_=CONFLICTS.c[name].type)
            for name in ("base_value", "writes", "provisional", "provisional_update")
        }
    )
)
