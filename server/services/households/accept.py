"""A submission a reviewer accepts later takes its household effect then (sync contract R6).

A submission that breaks its form is stored with `has_issues` and changes no
household. When a reviewer approves it, its entity block is applied exactly
as ingest would have applied it on arrival: the payload is read again (the
same reading the rebuild uses, so H8 replays it the same way), then
`households.apply`, or `households.replace_edit` for an edit (R4).
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db
from server.models import HouseholdVersion, PendingHouseholdUpdate, Submission, User, instance_is
from server.services.forms import places
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from server.services.households.versions import HouseholdEffect
from server.services.programme import ledger


def already_applied(submission_id: int) -> bool:
    """Whether the submission made a household version or waits as a held update."""
    made = sa.select(HouseholdVersion.id).where(HouseholdVersion.submission_id == submission_id)
    held = sa.select(PendingHouseholdUpdate.id).where(
        PendingHouseholdUpdate.submission_id == submission_id
    )
    return bool(db.session.scalar(sa.select(sa.or_(sa.exists(made), sa.exists(held)))))


def apply_accepted(submission: Submission) -> HouseholdEffect | None:
    """Apply the household effect of a stored submission a reviewer accepted.

    Nothing happens for a superseded version, a form without entities, a
    submission that already took effect, or a payload that cannot be read
    again (then None; the reviewer sees the household unchanged).
    """
    if submission.superseded or already_applied(submission.id):
        return None
    found = household_rebuild.reread(submission.id, submission.form_version_id)
    if found is None:
        return None
    form, parsed, computed = found
    entity = parsed.entity if form.model.entity is not None else None
    if entity is None or not entity.id:
        return None
    properties = households.properties_of(form, parsed.root, computed)
    label = households.label_of(form, entity, computed)
    household = households.current(entity.id, lock=True) if entity.update else None
    place = places.of_household(household) if household else places.of_answers(form, parsed.root)
    if place.unit_id is None and not place.unknown:  # a form that names no place: its sender's
        place = places.Place(submission.village_id, submission.commune_id)
    effect = None
    if submission.deprecated_id:
        previous = db.session.scalar(
            sa.select(Submission.id).where(instance_is(submission.deprecated_id))
        )
        if previous is not None:
            effect = households.replace_edit(
                previous, submission.id, entity, properties, label, place
            )
    if effect is None:
        effect = households.apply(submission.id, entity, properties, label, place, household)
    # Its support entries count from now on, as they would have on arrival (ingest).
    ledger.entries_of_submission(
        submission.id,
        submission.answers,
        db.session.get(User, submission.submitter_id) if submission.submitter_id else None,
        effect.household_id if effect else None,
        place.commune_id,
        place.village_id,
        submission.received_at.date() if submission.received_at else None,
    )
    return effect
