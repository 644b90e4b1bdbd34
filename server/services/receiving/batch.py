"""A JSON push batch through ingest with grouped writes: the same receipts, far fewer statements.

`receive_batch(items)` answers exactly what `ingest.receive_answers` would
answer item by item, in order, but a new submission no longer costs its own
SAVEPOINT and seven statements: the submissions of a batch are inserted with
one `INSERT ... ON CONFLICT (instance_id) DO NOTHING RETURNING`
(`ingest_store.insert_many`; a database constraint is still the guard, R7),
their payloads with one more, their audit rows with one more, and their
household effects with a few (`household_batch.apply_many`). The sync API's
push runs every batch through here (`server.services.sync.exchange`).

Items that depend on an earlier item of the same batch (the same instanceID
twice, two items for one household, edits) keep the one-by-one path, run
after the grouped ones; as no grouped item shares a submission or a
household with any other item, the outcome is the one of the item order.
If the grouped writes fail for any other reason, they are rolled back to a
savepoint and every item goes the one-by-one way.

Reading (parsing, hashing and validating: most of a push's CPU) writes
nothing, so `read_batch` runs before the transaction: on SQLite, whose one
write lock a push holds from its first statement, other workers' batches are
read while this one writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from forms.canonical import answers_hash
from forms.instance import to_answers
from forms.validation import ValidationResult
from server.db import db
from server.dedup.fingerprint import answers_fingerprint
from server.models import Device, SubmissionPayload, User
from server.models.base import utcnow
from server.services import transactional
from server.services.forms import loaded as form_models
from server.services.households import batch as household_batch
from server.services.households import versions as households
from server.services.monitoring import evidence as visit_evidence
from server.services.programme import ledger
from server.services.receiving import ingest
from server.services.receiving import store as ingest_store
from server.services.receiving.ingest import Delivery, Prepared, Receipt
from server.services.receiving.store import StoredSubmission, stored_submission, submission_values


@dataclass
class ReadItem:
    """One push item as reading found it, before any write (see `read_batch`)."""

    index: int
    item: Any
    d: Delivery
    read: Any  # (parsed, form or None), a refusal Receipt, or ingest.Unreadable
    digest: str | None = None
    validation: ValidationResult | None = None
    answers: dict | None = None  # the answers document a new submission stores
    fingerprint: str | None = None  # of the answers, for D4 when it applies to a household
    keys: frozenset = frozenset()  # the submissions and household it names
    household: str | None = None  # the household it updates


def read_batch(
    items: Sequence[Any], *, user: User, device: Device | None = None, lang: str = "vi"
) -> list[ReadItem]:
    """Read, hash and validate every item: the CPU-bound part of a push, which writes
    nothing and so runs before the write transaction (on SQLite, before the batch takes
    the database's one write lock while other workers wait for it)."""
    batch = []
    for index, item in enumerate(items):
        d = ingest.delivery_of_item(item, user, device, lang)
        read = ingest.read_item(item, d)
        one = ReadItem(index, item, d, read)
        batch.append(one)
        if isinstance(read, Receipt | ingest.Unreadable):
            continue
        parsed, form = read
        one.digest = answers_hash(parsed.root)
        instance_id = parsed.instance_id or ingest.derived_instance_id(one.digest)
        entity = parsed.entity
        household = households.normalise_id(entity.id) if entity and entity.id else None
        keys = {("instance", instance_id), ("instance", parsed.deprecated_id)}
        keys |= {("household", household)}
        one.keys = frozenset(keys - {("instance", None), ("household", None)})
        one.household = household if entity is not None and entity.update else None
        form = form or form_models.receiving(parsed.form_id, parsed.version)
        if form is not None and not parsed.deprecated_id:
            one.validation = form.validator.validate(parsed.root)
            one.answers = to_answers(parsed.root, form.model)
            if form.model.entity is not None:
                one.fingerprint = answers_fingerprint(one.answers)
            one.read = (parsed, form)
    return batch


def release(batch: list[ReadItem]) -> None:
    """Free the items' trees at once (`Node.release`) once the batch is answered."""
    for one in batch:
        if isinstance(one.read, tuple):
            one.read[0].root.release()


@transactional
def receive_batch(
    items: Sequence[Any] | list[ReadItem],
    *,
    user: User,
    device: Device | None = None,
    lang: str = "vi",
) -> list[Receipt]:
    """Receive a JSON push batch; one receipt per item, in order (see the module docstring).

    `items` are the push items, or what `read_batch` made of them.
    """
    if items and not isinstance(items[0], ReadItem):
        batch = read_batch(items, user=user, device=device, lang=lang)
        try:
            return receive_batch(batch, user=user, device=device, lang=lang)
        finally:
            release(batch)
    batch = items
    receipts: list[Receipt | None] = [None] * len(batch)
    grouped, later = _sort_out(batch, receipts, user, device, lang)
    locked = household_batch.current_many([one.household for one, _ in grouped if one.household])
    prepared: list[tuple[int, Prepared]] = []
    for one, (parsed, form) in grouped:
        found = ingest.prepare(
            parsed, one.d, form, digest=one.digest, locked=locked, validation=one.validation
        )
        if isinstance(found, Receipt):
            receipts[one.index] = found
        else:
            found.answers, found.fingerprint = one.answers, one.fingerprint
            prepared.append((one.index, found))
    _store_grouped(prepared, receipts)
    for index, item, d in later:
        receipts[index] = ingest._receive_item(item, d)
    return receipts


def _sort_out(batch: list[ReadItem], receipts, user, device, lang):
    """Keep the unreadable items in quarantine; put the independent ones in `grouped`, the
    rest in `later`."""
    grouped, later, seen = [], [], set()
    for one in batch:
        if isinstance(one.read, ingest.Unreadable):
            receipts[one.index] = one.read.kept(one.d)
            continue
        if isinstance(one.read, Receipt):
            receipts[one.index] = one.read
            continue
        parsed, _form = one.read
        if parsed.deprecated_id or one.keys & seen:
            # Read again from the item, so the one-by-one path sees it as if it came alone.
            d = ingest.delivery_of_item(one.item, user, device, lang)
            later.append((one.index, one.item, d))
        else:
            grouped.append((one, one.read))
        seen |= one.keys
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
    support_rows: list[dict] = []
    evidence_rows: list[dict] = []
    for (index, p, submission), effect in zip(new, effects, strict=True):
        if p.answers is not None:  # the ledger entries of the whole batch: one INSERT
            support_rows += ingest.support_rows(p, submission, effect, p.answers)
        receipts[index] = ingest.accepted(
            p, submission, effect, audit_rows, evidence_rows=evidence_rows
        )
    ingest_store.write_audit(audit_rows)
    visit_evidence.write(evidence_rows)  # the visits' monitoring evidence: one INSERT
    ledger.write_form_entries(support_rows)


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
    ingest_store.insert_rows(SubmissionPayload.__table__, payloads)
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
    answers = p.answers if p.answers is not None else to_answers(p.parsed.root, p.form.model)
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
                    submission.id, p.entity, props, label, p.place, p.household, p.fingerprint
                )
            )
            where.append(position)
    effects: list = [None] * len(new)
    for position, effect in zip(where, household_batch.apply_many(changes), strict=True):
        effects[position] = effect
    return effects
