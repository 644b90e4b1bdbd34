"""A JSON push batch through ingest with grouped writes: the same receipts, far fewer statements.

`receive_batch(items)` answers exactly what `ingest.receive_answers` would
answer item by item, in order, but a new submission no longer costs its own
SAVEPOINT and seven statements: the submissions of a batch are inserted with
one `INSERT ... ON CONFLICT (instance_id) DO NOTHING RETURNING`
(`ingest_store.insert_many`; the unique constraint is still the guard, R7),
their payloads with one more, their audit rows with one more, and their
household effects with a few (`household_batch.apply_many`). The sync API's
push runs every batch through here (`server.services.sync`).

Items that depend on an earlier item of the same batch (the same instanceID
twice, two items for one household, edits) keep the one-by-one path, run
after the grouped ones; as no grouped item shares a submission or a
household with any other item, the outcome is the one of the item order.
If the grouped writes fail for any other reason, they are rolled back to a
savepoint and every item goes the one-by-one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from forms.canonical import answers_hash
from forms.instance import to_answers
from server.db import db
from server.models import Device, SubmissionPayload, User
from server.models.base import utcnow
from server.services import household_batch, households, ingest, ingest_store, transactional
from server.services.ingest import Prepared, Receipt
from server.services.ingest_store import StoredSubmission, stored_submission, submission_values


@transactional
def receive_batch(
    items: Sequence[Any], *, user: User, device: Device | None = None, lang: str = "vi"
) -> list[Receipt]:
    """Receive a JSON push batch; one receipt per item, in order (see the module docstring)."""
    receipts: list[Receipt | None] = [None] * len(items)
    grouped, later = _sort_out(items, receipts, user, device, lang)
    locked = household_batch.current_many([h for *_, h in grouped if h])
    prepared: list[tuple[int, Prepared]] = []
    for index, parsed, d, form, digest, _ in grouped:
        found = ingest.prepare(parsed, d, form, digest=digest, locked=locked)
        if isinstance(found, Receipt):
            receipts[index] = found
        else:
            prepared.append((index, found))
    _store_grouped(prepared, receipts)
    for index, item, d in later:
        receipts[index] = ingest._receive_item(item, d)
    return receipts


def _sort_out(items, receipts, user, device, lang):
    """Read every item; put the independent ones in `grouped`, the rest in `later`."""
    grouped, later, seen = [], [], set()
    for index, item in enumerate(items):
        d = ingest.delivery_of_item(item, user, device, lang)
        readable = ingest.readable_item(item, d)
        if isinstance(readable, Receipt):
            receipts[index] = readable
            continue
        parsed, form = readable
        digest = answers_hash(parsed.root)
        instance_id = parsed.instance_id or ingest.derived_instance_id(digest)
        entity = parsed.entity
        household = households.normalise_id(entity.id) if entity and entity.id else None
        keys = {("instance", instance_id), ("instance", parsed.deprecated_id)}
        keys |= {("household", household)}
        keys -= {("instance", None), ("household", None)}
        if parsed.deprecated_id or keys & seen:
            # Read again from the item, so the one-by-one path sees it as if it came alone.
            later.append((index, item, ingest.delivery_of_item(item, user, device, lang)))
        else:
            updating = entity is not None and entity.update
            grouped.append((index, parsed, d, form, digest, household if updating else None))
        seen |= keys
    return grouped, later


def _store_grouped(prepared: list[tuple[int, Prepared]], receipts: list) -> None:
    """Insert the grouped submissions and apply their effects; one by one if that fails."""
    if not prepared:
        return
    conn = db.session.connection()
    savepoint = conn.begin_nested()
    try:
        inserted = _insert(prepared)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        for index, p in prepared:
            receipts[index] = ingest.store(p)
        return
    new = [(i, p, inserted[p.instance_id]) for i, p in prepared if p.instance_id in inserted]
    for index, p in prepared:
        if p.instance_id not in inserted:  # already stored: a resend or a conflict (R2, R3)
            stored = stored_submission(p.instance_id)
            receipts[index] = ingest.already_stored(stored, p.digest, p.parsed, p.d, p.instance_id)
    effects = _apply(new)
    audit_rows: list[dict] = []
    for (index, p, submission), effect in zip(new, effects, strict=True):
        receipts[index] = ingest.accepted(p, submission, effect, audit_rows)
    ingest_store.write_audit(audit_rows)


def _insert(prepared: list[tuple[int, Prepared]]) -> dict[str, StoredSubmission]:
    """One INSERT for the submissions, one for their payloads; the new ones by instanceID."""
    now = utcnow()
    rows = {}
    for _, p in sorted(prepared, key=lambda x: x[1].instance_id):  # one lock order: no deadlock
        rows[p.instance_id] = _row(p, now)
    ids = ingest_store.insert_many(list(rows.values()))
    if not ids:
        return {}
    by_id = {p.instance_id: p for _, p in prepared}
    payloads = [
        {
            "submission_id": ids[iid],
            "content_type": by_id[iid].d.content_type,
            "body": by_id[iid].d.payload,
        }
        for iid in ids
    ]
    db.session.connection().execute(sa.insert(SubmissionPayload.__table__), payloads)
    return {
        iid: StoredSubmission(
            sid,
            iid,
            iid,
            rows[iid]["review_state"].value,
            rows[iid]["issues"],
            now,
            rows[iid]["canonical_hash"],
        )
        for iid, sid in ids.items()
    }


def _row(p: Prepared, now) -> dict:
    # A batch only inserts new records (edits take the single path), so root = instance.
    answers = to_answers(p.parsed.root, p.form.model)
    return submission_values(
        p.d,
        p.parsed,
        p.form,
        p.instance_id,
        p.instance_id,
        answers,
        p.digest,
        p.validation,
        p.place,
        now,
    )


def _apply(new: list[tuple[int, Prepared, StoredSubmission]]) -> list:
    """The household effects of the new valid submissions, grouped."""
    changes, where = [], []
    for position, (_, p, submission) in enumerate(new):
        if p.validation.ok and p.entity is not None:
            props, label = ingest.entity_values(p)
            changes.append(
                household_batch.EntityChange(
                    submission.id, p.entity, props, label, p.place, p.household
                )
            )
            where.append(position)
    effects: list = [None] * len(new)
    for position, effect in zip(where, household_batch.apply_many(changes), strict=True):
        effects[position] = effect
    return effects
