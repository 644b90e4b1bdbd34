"""The support ledger: entries from visit forms and from the site, voids, loan repayments.

`live_entries()` is the one definition of "what counts": an entry not voided, and, when it
came from a visit form, from a submission that is neither superseded by an edit nor
rejected by a reviewer. Reports and exports start from it.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.models import ReviewState, Submission, SupportEntry


def live_entries() -> sa.Select:
    """A select of the `SupportEntry` rows that count (filter it further by place and date)."""
    counted = (
        sa.select(Submission.id)
        .where(
            Submission.id == SupportEntry.submission_id,
            Submission.superseded.is_(False),
            Submission.review_state != ReviewState.REJECTED,
        )
        .exists()
    )
    return sa.select(SupportEntry).where(
        SupportEntry.voided_at.is_(None),
        sa.or_(SupportEntry.submission_id.is_(None), counted),
    )
