"""Rebuild every household from the stored submissions and decisions (sync contract H8).

For each household, every version that came from a submission is read again
from the submission's raw payload (parsed, validated and computed as ingest
does), decision versions from their stored values; the set of updates is
merged (`sync.merge`), its derived properties recomputed (H6), and the result
compared with the live row: properties, label, version, status, redirect and
the open conflicts. Zero differences is the normal result; `fix=True` writes
the rebuilt state back (a repair, audited) where they differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from forms.errors import SubmissionError
from forms.instance import Submission as ParsedSubmission
from forms.instance import from_answers, parse_submission
from server.db import db
from server.models import Household, HouseholdConflict, HouseholdStatus, SubmissionPayload
from server.models.base import utcnow
from server.services import audit, transactional
from server.services.forms import loaded as form_models
from server.services.households import merge as merging
from server.services.households import versions as households


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
    found = reread(submission_id, form_version_id)
    if found is None:
        return None
    form, parsed, computed = found
    properties = households.properties_of(form, parsed.root, computed)
    label = households.label_of(form, parsed.entity, computed) if parsed.entity else None
    return households.values_of(properties, label)


def reread(submission_id: int, form_version_id: int):
    """(form, parsed submission, computed values) of a stored payload, read again as ingest
    read it; None when the payload cannot be read any more."""
    payload = db.session.get(SubmissionPayload, submission_id)
    if payload is None:
        return None
    form = form_models.loaded(form_version_id)
    try:
        if payload.content_type == "application/json":
            item = json.loads(payload.body)
            if isinstance(item.get("xml"), str):
                parsed = parse_submission(item["xml"].encode("utf-8"))
            else:
                root = from_answers(item["answers"], form.model)
                parsed = ParsedSubmission.from_root(root)
        else:
            parsed = parse_submission(payload.body)
    except (SubmissionError, ValueError, KeyError):
        return None
    return form, parsed, form.validator.validate(parsed.root).computed


def rebuild_one(household_id: str) -> tuple[list[Difference], dict]:
    """The differences between one household and its rebuild, and the rebuilt state."""
    live = db.session.get(Household, household_id)
    rows = merging.history(household_id)
    found: list[Difference] = []
    for row in rows:
        if row.submission_id is None:
            continue
        again = reparse(row.submission_id, row.form_version_id)
        if again is None:
            found.append(Difference(household_id, f"v{row.version}.payload", "stored", None))
            continue
        if row.extra.get("restricted"):
            again = {k: v for k, v in again.items() if k in row.values}  # redirected (H9)
        if again != row.values:
            found.append(Difference(household_id, f"v{row.version}.sent", row.values, again))
        row.values = again
    _, values, conflicts = merging.state_of(rows)
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
    open_rows = db.session.scalars(
        sa.select(HouseholdConflict).where(
            HouseholdConflict.household_id == household_id, HouseholdConflict.resolved_at.is_(None)
        )
    ).all()
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
            for c in open_rows
        ),
    }
    for field, value in rebuilt.items():
        if current[field] != value:
            found.append(Difference(household_id, field, current[field], value))
    return found, rebuilt


def rebuild(*, fix: bool = False) -> list[Difference]:
    """Rebuild every household (in id order); with `fix`, write the rebuilt state back."""
    found: list[Difference] = []
    ids = db.session.scalars(sa.select(Household.id).order_by(Household.id)).all()
    for household_id in ids:
        differences, rebuilt = rebuild_one(household_id)
        found += differences
        if fix and differences:
            _repair(household_id, rebuilt, differences)
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
