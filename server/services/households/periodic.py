"""The periodic household work, in small transactions: held updates whose wait is over
(H5) and the duplicate recheck of recent registrations (D2).

Run by the job worker's periodic tasks (`server.jobs.tasks`), or by `giupho periodic` from
cron where no worker runs; each transaction handles a small batch, so neither holds locks
that ingest, decisions or pulls would wait on for longer than a batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models.base import utcnow
from server.services import transactional
from server.services.duplicates import detection as dedup
from server.services.households import versions as households

#: Households whose held updates are released per transaction.
RELEASE_BATCH = 100
#: How far back the periodic duplicate recheck looks (longer than any sensible period).
RECHECK_HOURS = 24.0


@dataclass(frozen=True)
class Done:
    released: int
    opened: int


def release_in_batches(now: dt.datetime | None = None) -> int:
    """`households.release_timed_out`, `RELEASE_BATCH` households per transaction."""
    now = now or utcnow()
    hours = float(current_app.config.get("HOLD_TIMEOUT_HOURS", 120.0))
    cutoff = now - dt.timedelta(hours=hours)
    applied, after = 0, ""
    while True:
        ids = _timed_out(cutoff, after)
        if not ids:
            return applied
        applied += transactional(_release)(ids, now)
        after = ids[-1]


def _timed_out(cutoff: dt.datetime, after: str) -> list[str]:
    pending = households.PENDING
    ids = db.session.scalars(
        sa.select(pending.c.household_id)
        .where(
            pending.c.resolved_at.is_(None),
            pending.c.reason.in_(households.WAITING),
            pending.c.created_at <= cutoff,
            pending.c.household_id > after,
        )
        .distinct()
        .order_by(pending.c.household_id)
        .limit(RELEASE_BATCH)
    ).all()
    return list(ids)


def _release(ids: list[str], now: dt.datetime) -> int:
    return sum(len(households.release(hid, now=now)) for hid in ids)


def recheck(hours: float = RECHECK_HOURS) -> int:
    """Possible duplicates among the registrations of the last `hours`, a batch per
    transaction; the cases opened."""
    return dedup.recheck_in_batches(utcnow() - dt.timedelta(hours=hours))


def run_all() -> Done:
    """Both, as cron or the worker runs them."""
    return Done(release_in_batches(), recheck())
