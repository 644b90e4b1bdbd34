"""Rebuild every household from the stored submissions and decisions (sync contract H8).

For each household, every version that came from a submission is read again
from the submission's raw payload (parsed, validated and computed as ingest
does), decision versions from their stored values; the set of updates is
merged (`sync.merge`), its derived properties recomputed (H6), and the result
compared with the live row: properties, label, version, status, redirect and
the open conflicts. Zero differences is the normal result; `fix=True` writes
the rebuilt state back (a repair, audited) where they differ.

At scale (issue 19) the rebuild runs as one job per commune (`rebuild_commune`, task
`households.rebuild_commune`), `BATCH` households per transaction in id order: each
transaction reads its batch with a few queries (rows, histories, payloads, open conflicts),
stores the differences it found and moves the commune's checkpoint (`RebuildCheckpoint`),
so memory stays bounded by a batch and a stopped rebuild continues where it stopped.
`begin()` starts a run (or continues an unfinished one), `progress()` reads how far it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from forms.errors import SubmissionError
from forms.instance import Submission as ParsedSubmission
from forms.instance import from_answers, parse_submission
from server import json_codec
from server.db import db
from server.models import (
    AdminUnit,
    Household,
    HouseholdConflict,
    HouseholdStatus,
    RebuildCheckpoint,
    RebuildDifference,
    SubmissionPayload,
    UnitLevel,
)
from server.models.base import utcnow
from server.models.rebuild import NO_COMMUNE
from server.services import audit, transactional
from server.services.forms import loaded as form_models
from server.services.households import merge as merging
from server.services.households import versions as households

#: Households rebuilt per transaction (and per checkpoint).
BATCH = 500


@dataclass(frozen=True)
class Difference:
    """One way a household's live state differs from its rebuild."""

    household_id: str
    field: str
    live: object
    rebuilt: object


def reparse(submission_id: int, form_version_id: int) -> dict[str, str] | None:
    """The values a stored submission's payload saves to its household, as ingest computed
    them (properties and label); None when the payload cannot be read any more."""
    payload = db.session.get(SubmissionPayload, submission_id)
    if payload is None:
        return None
    return _values_of(payload.content_type, payload.body, form_version_id)


def reread(submission_id: int, form_version_id: int):
    """(form, parsed submission, computed values) of a stored payload, read again as ingest
    read it; None when the payload cannot be read any more."""
    payload = db.session.get(SubmissionPayload, submission_id)
    if payload is None:
        return None
    return _reread(payload.content_type, payload.body, form_version_id)


def _reread(content_type: str, body: bytes, form_version_id: int, *, checked: bool = True):
    form = form_models.loaded(form_version_id)
    try:
        if content_type == "application/json":
            item = json_codec.loads(body)
            if isinstance(item.get("xml"), str):
                parsed = parse_submission(item["xml"].encode("utf-8"))
            else:
                entities: list = []  # found as the tree is built: no walk of it after
                root = from_answers(item["answers"], form.model, entities=entities)
                parsed = ParsedSubmission.from_root(root, entity_nodes=entities)
        else:
            parsed = parse_submission(body)
    except (SubmissionError, ValueError, KeyError):
        return None
    if not checked:
        return form, parsed, form.validator.computed(parsed.root, _saved_paths(form.model))
    return form, parsed, form.validator.validate(parsed.root).computed


def _saved_paths(model) -> frozenset[str]:
    """The paths whose computed values `households.properties_of` and `label_of` read."""
    entity = model.entity
    if entity is None:
        return frozenset()
    return frozenset(entity.properties.values()) | {f"{entity.path}/label"}


def _values_of(content_type: str, body: bytes, form_version_id: int) -> dict[str, str] | None:
    # The values only: the constraints were checked when the submission was received.
    found = _reread(content_type, body, form_version_id, checked=False)
    if found is None:
        return None
    form, parsed, computed = found
    properties = households.properties_of(form, parsed.root, computed)
    label = households.label_of(form, parsed.entity, computed) if parsed.entity else None
    return households.values_of(properties, label)


_LIVE = sa.select(
    Household.id,
    Household.properties,
    Household.label,
    Household.version,
    Household.status,
    Household.merged_into_id,
).where(Household.id.in_(sa.bindparam("hids", expanding=True)))
_PAYLOADS = sa.select(
    SubmissionPayload.submission_id, SubmissionPayload.content_type, SubmissionPayload.body
).where(SubmissionPayload.submission_id.in_(sa.bindparam("sids", expanding=True)))
_OPEN = sa.select(
    HouseholdConflict.household_id, HouseholdConflict.property, HouseholdConflict.writes
).where(
    HouseholdConflict.household_id.in_(sa.bindparam("hids", expanding=True)),
    HouseholdConflict.resolved_at.is_(None),
)


@dataclass
class _Loaded:
    """What a batch's rebuild reads, with one query per kind for the whole batch."""

    live: dict
    histories: dict[str, list]
    payloads: dict[int, tuple[str, bytes]]
    conflicts: dict[str, list]

    @classmethod
    def of(cls, household_ids: list[str]) -> _Loaded:
        conn = db.session.connection()
        live = {r.id: r for r in conn.execute(_LIVE, {"hids": household_ids})}
        histories = merging.histories(household_ids)
        sids = sorted({r.submission_id for rows in histories.values() for r in rows
                       if r.submission_id is not None})  # fmt: skip
        payloads = {}
        if sids:
            payloads = {
                r.submission_id: (r.content_type, r.body)
                for r in conn.execute(_PAYLOADS, {"sids": sids})
            }
        conflicts: dict[str, list] = {}
        for r in conn.execute(_OPEN, {"hids": household_ids}):
            conflicts.setdefault(r.household_id, []).append(r)
        return cls(live, histories, payloads, conflicts)


def rebuild_one(household_id: str) -> tuple[list[Difference], dict]:
    """The differences between one household and its rebuild, and the rebuilt state."""
    return _rebuild(household_id, _Loaded.of([household_id]))


def _rebuild(household_id: str, loaded: _Loaded) -> tuple[list[Difference], dict]:
    live = loaded.live[household_id]
    rows = loaded.histories.get(household_id, [])
    found: list[Difference] = []
    for row in rows:
        if row.submission_id is None:
            continue
        payload = loaded.payloads.get(row.submission_id)
        again = _values_of(*payload, row.form_version_id) if payload is not None else None
        if again is None:
            found.append(Difference(household_id, f"v{row.version}.payload", "stored", None))
            continue
        if row.extra.get("restricted"):
            again = {k: v for k, v in again.items() if k in row.values}  # redirected (H9)
        if again != row.values:
            found.append(Difference(household_id, f"v{row.version}.sent", row.values, again))
        row.values = again
    values, conflicts = merging.replayed(rows)
    label = values.pop(merging.LABEL, None) or (rows[0].values.get(merging.LABEL) if rows else None)
    status, merged_into = merging.status_of(rows)
    rebuilt = {
        "properties": values,
        "label": label or live.label,
        "version": rows[-1].version if rows else 0,
        "status": status or HouseholdStatus.ACTIVE.value,
        "merged_into_id": merged_into if status else None,
        "conflicts": sorted(
            (c.property, tuple(sorted((w.update, w.value) for w in c.writes))) for c in conflicts
        ),
    }
    keys = {r.key for r in rows}
    current = {
        "properties": dict(live.properties or {}),
        "label": live.label,
        "version": live.version,
        "status": HouseholdStatus(live.status).value,
        "merged_into_id": live.merged_into_id,
        "conflicts": sorted(
            (
                c.property,
                tuple(sorted((w["update"], w["value"]) for w in c.writes if w["update"] in keys)),
            )
            for c in loaded.conflicts.get(household_id, [])
        ),
    }
    for field, value in rebuilt.items():
        if current[field] != value:
            found.append(Difference(household_id, field, current[field], value))
    return found, rebuilt


def rebuild_many(household_ids: list[str], *, fix: bool = False) -> list[Difference]:
    """Rebuild these households (one batch: a few queries for all); with `fix`, write the
    rebuilt state back where it differs."""
    loaded = _Loaded.of(household_ids)
    found: list[Difference] = []
    for household_id in household_ids:
        if household_id not in loaded.live:  # merged away and gone meanwhile
            continue
        differences, rebuilt = _rebuild(household_id, loaded)
        found += differences
        if fix and differences:
            _repair(household_id, rebuilt, differences)
    return found


def communes() -> list[int]:
    """The checkpoint keys of a whole rebuild: every commune, and NO_COMMUNE."""
    ids = db.session.scalars(
        sa.select(AdminUnit.id).where(AdminUnit.level == UnitLevel.COMMUNE).order_by(AdminUnit.id)
    ).all()
    return [NO_COMMUNE, *ids]


@transactional
def begin(*, fix: bool = False, restart: bool = False) -> list[int]:
    """Start a rebuild, or continue the unfinished one (same `fix`); returns the communes
    still to do. A finished run, a `restart` or another `fix` starts again from nothing."""
    checkpoints = {c.commune_key: c for c in db.session.scalars(sa.select(RebuildCheckpoint))}
    unfinished = [c for c in checkpoints.values() if c.finished_at is None]
    if restart or not unfinished or any(c.fix != fix for c in checkpoints.values()):
        db.session.execute(sa.delete(RebuildDifference))
        db.session.execute(sa.delete(RebuildCheckpoint))
        checkpoints = {}
    now = utcnow()
    for key in communes():
        if key not in checkpoints:
            checkpoints[key] = RebuildCheckpoint(commune_key=key, fix=fix, started_at=now,
                                                 updated_at=now)  # fmt: skip
            db.session.add(checkpoints[key])
    db.session.flush()
    return sorted(k for k, c in checkpoints.items() if c.finished_at is None)


def rebuild_commune(commune_key: int, batch_size: int = BATCH) -> list[Difference]:
    """Rebuild the households of one commune from its checkpoint on, `batch_size` per
    transaction; returns the differences this call found (all of them are stored too)."""
    found: list[Difference] = []
    while True:
        batch = _rebuild_batch(commune_key, batch_size)
        if batch is None:
            return found
        found += batch


def _in_commune(commune_key: int):
    if commune_key == NO_COMMUNE:
        return Household.commune_id.is_(None)
    return Household.commune_id == commune_key


@transactional
def _rebuild_batch(commune_key: int, batch_size: int) -> list[Difference] | None:
    """The next batch of a commune (its checkpoint locked: one worker at a time per commune);
    None once the commune is done."""
    checkpoint = db.session.get(RebuildCheckpoint, commune_key, with_for_update=True)
    if checkpoint is None or checkpoint.finished_at is not None:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        # The rebuild is parallel by commune already (one job per worker process): a parallel
        # plan for a batch's reads only adds worker start-ups on the same cores.
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    ids = list(
        db.session.scalars(
            sa.select(Household.id)
            .where(_in_commune(commune_key), Household.id > checkpoint.after_id)
            .order_by(Household.id)
            .limit(batch_size)
        )
    )
    now = utcnow()
    checkpoint.updated_at = now
    if not ids:
        checkpoint.finished_at = now
        return None
    found = rebuild_many(ids, fix=checkpoint.fix)
    if found:
        db.session.execute(
            sa.insert(RebuildDifference),
            [
                {"commune_key": commune_key, "household_id": d.household_id, "field": d.field,
                 "live": _json(d.live), "rebuilt": _json(d.rebuilt)}
                for d in found
            ],
        )  # fmt: skip
    checkpoint.after_id = ids[-1]
    checkpoint.households += len(ids)
    checkpoint.differences += len(found)
    return found


def _json(value: object) -> object:
    """A difference's value as JSON (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


@dataclass(frozen=True)
class Progress:
    communes: int
    finished: int
    households: int
    differences: int
    fix: bool


def progress() -> Progress:
    """How far the current rebuild is (a count over the checkpoints: one row per commune)."""
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(RebuildCheckpoint.finished_at),
            sa.func.coalesce(sa.func.sum(RebuildCheckpoint.households), 0),
            sa.func.coalesce(sa.func.sum(RebuildCheckpoint.differences), 0),
            sa.func.coalesce(sa.func.max(sa.cast(RebuildCheckpoint.fix, sa.Integer)), 0),
        )
    ).one()
    return Progress(row[0], row[1], int(row[2]), int(row[3]), bool(row[4]))


def differences(page: int = 1000) -> Iterable[Difference]:
    """Every stored difference of the current rebuild, by commune and order found (keyset)."""
    after = (-1, 0)
    while True:
        rows = db.session.scalars(
            sa.select(RebuildDifference)
            .where(sa.tuple_(RebuildDifference.commune_key, RebuildDifference.id) > after)
            .order_by(RebuildDifference.commune_key, RebuildDifference.id)
            .limit(page)
        ).all()
        if not rows:
            return
        for r in rows:
            yield Difference(r.household_id, r.field, r.live, r.rebuilt)
        after = (rows[-1].commune_key, rows[-1].id)


def rebuild(*, fix: bool = False) -> list[Difference]:
    """Rebuild every household here, from nothing (every commune in turn); the differences."""
    found: list[Difference] = []
    for commune_key in begin(fix=fix, restart=True):
        found += rebuild_commune(commune_key)
    return found


@transactional
def _repair(household_id: str, rebuilt: dict, differences: list[Difference]) -> None:
    live = db.session.get(Household, household_id)
    live.properties = rebuilt["properties"]
    live.label = rebuilt["label"]
    live.status = HouseholdStatus(rebuilt["status"])
    live.merged_into_id = rebuilt["merged_into_id"]
    live.updated_at = utcnow()  # a changed household is a new entity list version (lists.py)
    audit.record(
        None,
        "household.rebuild_fix",
        live,
        fields=sorted({d.field for d in differences}),
    )
