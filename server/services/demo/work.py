"""Review work in the demo (issue 20, point 8): so that every page of the review site starts
with something to do, a few households get, through ingest like any tablet's data,
conflicting offline visits (a conflict to resolve), a visit that lifts them out of poverty
(an exit to certify) and a visit sent twice with different answers under one instance id
(a quarantine item). The duplicates come from the registrations sent twice
(`households.registered_again`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from forms.library import VISIT_FORM_ID
from forms.model import FormModel
from server.db import db
from server.models import Device, Form, FormState, FormVersion, Household, Pair, User
from server.services.demo import households as demo_households
from server.services.forms import loaded as form_models
from server.services.receiving import ingest

_ZONE = dt.timezone(dt.timedelta(hours=7))


def visit_model() -> FormModel | None:
    """The published shipped visit form the demo's visits are filled in (None: not shipped)."""
    version_id = db.session.scalar(
        sa.select(FormVersion.id)
        .join(Form)
        .where(Form.form_id == VISIT_FORM_ID, FormVersion.state == FormState.PUBLISHED)
        .order_by(FormVersion.id.desc())
    )
    return form_models.loaded(version_id).model if version_id is not None else None


def add_review_work(tablets: dict[int, tuple[User, Device]]) -> None:
    """Conflicts, exits and a quarantine item on households nobody is paired with."""
    model = visit_model()
    if model is None:
        return  # the shipped visit form is not in this build
    paired = sa.select(Pair.household_id).where(Pair.household_id.is_not(None))
    rows = db.session.execute(
        sa.select(Household.id, Household.version, Household.village_id)
        .where(Household.id.not_in(paired), Household.village_id.in_(list(tablets)))
        .order_by(Household.created_at, Household.id)
        .limit(5)
    ).all()
    if len(rows) < 5:
        return

    def send(household_id, base, village, income, day, instance_id=None) -> str:
        user, device = tablets[village]
        answers = demo_households.visit_answers(
            model, household_id, base, income=income, username=user.username,
            when=dt.datetime(2026, 11, day, 9, 0, tzinfo=_ZONE), instance_id=instance_id,
        )  # fmt: skip
        receipt = ingest.receive_xml(
            demo_households.to_submission_xml(model, answers), user=user, device=device
        )
        return receipt.result

    # Two offline visits from the same version disagree on the income: a conflict, twice.
    for household_id, version, village in rows[:2]:
        send(household_id, version, village, 1_300_000, 23)
        send(household_id, version, village, 1_450_000, 24)
    # Incomes well above the lines: exits for the commune to certify.
    for household_id, version, village in rows[2:4]:
        send(household_id, version, village, 5_500_000, 25)
    # One visit sent twice with different answers under the same instance id: quarantined.
    household_id, version, village = rows[4]
    instance = "uuid:0d3f5a8e-6c2b-4e71-9a4d-2f1e8b7c5d60"
    send(household_id, version, village, 1_200_000, 26, instance_id=instance)
    send(household_id, version, village, 1_250_000, 26, instance_id=instance)
