"""The writes of ingest: the guarded submission insert, attachments, and the quarantine.

Split from `server.services.ingest` (which holds the rules) so each stays
readable. Everything here runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from forms.instance import Submission as ParsedSubmission
from forms.validation import ValidationResult
from server.db import db
from server.models import (
    Attachment,
    QuarantineItem,
    ReviewState,
    Submission,
    SubmissionPayload,
    User,
)
from server.models.base import utcnow
from server.problems import Problem
from server.services import attachments as files
from server.services import audit
from server.services.form_models import LoadedForm
from server.services.submission_places import Place

if TYPE_CHECKING:
    from server.services.ingest import Delivery

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class IncomingAttachment:
    """A file that came with a submission (an OpenRosa multipart part)."""

    filename: str
    content_type: str
    data: bytes


class Stale(Exception):
    """The version an edit replaces was superseded by another edit meanwhile (R4)."""


@dataclass(frozen=True)
class StoredSubmission:
    """What ingest needs of a stored submission (new or found): its identity and state."""

    id: int
    instance_id: str
    root_id: str
    review_state: str
    issues: list[dict] | None
    received_at: dt.datetime
    canonical_hash: str
    superseded: bool = False


_SUBMISSIONS = Submission.__table__
_STORED = sa.select(
    _SUBMISSIONS.c.id,
    _SUBMISSIONS.c.instance_id,
    _SUBMISSIONS.c.root_id,
    _SUBMISSIONS.c.review_state,
    _SUBMISSIONS.c.issues,
    _SUBMISSIONS.c.received_at,
    _SUBMISSIONS.c.canonical_hash,
    _SUBMISSIONS.c.superseded,
).where(_SUBMISSIONS.c.instance_id == sa.bindparam("instance_id"))
_INSERT = sa.insert(_SUBMISSIONS).returning(_SUBMISSIONS.c.id)
_INSERT_PAYLOAD = sa.insert(SubmissionPayload.__table__)
_SUPERSEDE = (
    sa.update(_SUBMISSIONS)
    .where(_SUBMISSIONS.c.id == sa.bindparam("sid"), _SUBMISSIONS.c.superseded.is_(False))
    .values(superseded=True)
)


def stored_submission(instance_id: str) -> StoredSubmission | None:
    """The stored submission with this instanceID, or None."""
    row = db.session.connection().execute(_STORED, {"instance_id": instance_id}).first()
    if row is None:
        return None
    found = row._asdict()
    found["review_state"] = ReviewState(found["review_state"]).value
    return StoredSubmission(**found)


def insert_submission(
    d: Delivery,
    form: LoadedForm,
    parsed: ParsedSubmission,
    instance_id: str,
    digest: str,
    validation: ValidationResult,
    place: Place,
    previous: StoredSubmission | None,
    answers: dict,
) -> StoredSubmission | None:
    """Store a new submission, or return None when its instanceID is already stored.

    The UNIQUE constraint on instance_id is the guard (R7): the INSERT says
    ON CONFLICT DO NOTHING, so a concurrent or earlier delivery of the same
    instance makes it insert nothing, without spoiling the caller's
    transaction. For an edit, marking the replaced version superseded and
    inserting run in one SAVEPOINT, the UPDATE conditional on the version
    still being current, so two edits of one version cannot both win: the
    loser raises `Stale`.

    Written with Core statements on the session's connection: this runs for
    every submission, and the ORM's unit of work costs more than the inserts.
    """
    root_id = previous.root_id if previous is not None else instance_id
    now = utcnow()
    values = submission_values(
        d, parsed, form, instance_id, root_id, answers, digest, validation, place, now
    )
    issues, state = values["issues"], values["review_state"]
    conn = db.session.connection()
    payload = {"content_type": d.content_type, "body": d.payload}
    if previous is None:
        # ON CONFLICT DO NOTHING: a known instanceID inserts nothing and fails nothing,
        # so no savepoint is needed (a concurrent delivery makes this wait, then skip).
        submission_id = conn.execute(create_statement(conn.dialect.name), values).scalar()
        if submission_id is None:
            return None
        conn.execute(_INSERT_PAYLOAD, {"submission_id": submission_id, **payload})
        return StoredSubmission(
            submission_id, instance_id, root_id, state.value, issues, now, digest
        )
    savepoint = conn.begin_nested()  # an edit: superseding and inserting stand or fall together
    try:
        if conn.execute(_SUPERSEDE, {"sid": previous.id}).rowcount != 1:
            savepoint.rollback()
            raise Stale
        submission_id = conn.execute(_INSERT, values).scalar_one()
        conn.execute(_INSERT_PAYLOAD, {"submission_id": submission_id, **payload})
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        if stored_submission(instance_id) is None:
            raise  # another constraint failed: a bug, not a resend
        return None
    return StoredSubmission(submission_id, instance_id, root_id, state.value, issues, now, digest)


def submission_values(
    d: Delivery,
    parsed: ParsedSubmission,
    form: LoadedForm,
    instance_id: str,
    root_id: str,
    answers: dict,
    digest: str,
    validation: ValidationResult,
    place: Place,
    now: dt.datetime,
) -> dict:
    """The columns of a new submission row: one place for the single and the batch insert."""
    issues = [issue.to_dict() for issue in validation.issues] or None
    offset = d.clock_offset_ms
    return {
        "instance_id": instance_id,
        "root_id": root_id,
        "deprecated_id": parsed.deprecated_id,
        "instance_name": (parsed.instance_name or "")[:300] or None,
        "form_version_id": form.version_id,
        "answers": answers,
        "canonical_hash": digest,
        "review_state": ReviewState.RECEIVED if validation.ok else ReviewState.HAS_ISSUES,
        "issues": issues,
        "superseded": False,
        "submitter_id": d.user.id,
        "device_id": d.device.id if d.device is not None else None,
        "device_time": d.device_time,
        "received_at": now,
        "clock_offset_seconds": offset / 1000 if offset is not None else None,
        "commune_id": place.commune_id,
        "village_id": place.village_id,
    }


_CREATE: dict[str, sa.Insert] = {}


def create_statement(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (instance_id) DO NOTHING RETURNING id, instance_id."""
    if dialect not in _CREATE:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(_SUBMISSIONS).on_conflict_do_nothing(index_elements=["instance_id"])
        _CREATE[dialect] = statement.returning(_SUBMISSIONS.c.id, _SUBMISSIONS.c.instance_id)
    return _CREATE[dialect]


def record_audit(actor: User | None, action: str, submission_id: int, **details) -> None:
    """The audit row of a submission (held as an id here, not as an ORM object)."""
    audit.record(actor, action, audit.Ref(_SUBMISSIONS.name, str(submission_id)), **details)


def add_attachments(
    submission_id: int, incoming: tuple[IncomingAttachment, ...], actor: User | None
) -> int:
    """Add the attachments submission `submission_id` lacks (multi-POST, R2); returns how many.

    A file whose name is already stored with other bytes is not swapped in:
    its bytes are kept on disk and the clash is audited for a reviewer.
    """
    if not incoming:
        return 0
    stmt = sa.select(Attachment).where(Attachment.submission_id == submission_id)
    have = {a.filename: a for a in db.session.scalars(stmt)}
    added = 0
    for part in incoming:
        name = files.safe_filename(part.filename)
        kept = files.store(part.data)
        if name in have:
            if have[name].sha256 != kept.sha256:
                record_audit(
                    actor,
                    "attachment.clash",
                    submission_id,
                    filename=name,
                    sha256=kept.sha256,
                    storage_path=kept.storage_path,
                )
            continue
        row = Attachment(
            submission_id=submission_id,
            filename=name,
            content_type=(part.content_type or DEFAULT_CONTENT_TYPE)[:120],
            size=kept.size,
            sha256=kept.sha256,
            storage_path=kept.storage_path,
        )
        try:
            with db.session.begin_nested():  # another POST of the same split may add it too
                db.session.add(row)
        except IntegrityError:
            continue
        have[name] = row
        added += 1
    return added


def keep_in_quarantine(
    d: Delivery,
    problem: Problem,
    instance_id: str | None,
    form_id: str | None,
    version: str | None,
    linked: int | None,
) -> QuarantineItem:
    """Keep a payload the server could not store as a submission, with the reason.

    The same payload quarantined again for the same reason (Collect retrying)
    is kept once: its item gains the attachments it lacked.
    """
    sha = hashlib.sha256(d.payload).hexdigest()
    kept = [_kept(a) for a in d.attachments]
    item = _same_item(instance_id, problem.code, sha)
    if item is not None:
        known = {a["filename"] for a in item.details.get("attachments", [])}
        new = [a for a in kept if a["filename"] not in known]
        if new:
            item.details = {**item.details, "attachments": [*item.details["attachments"], *new]}
        return item
    item = QuarantineItem(
        reason_code=problem.code,
        message=problem.message("en"),
        content_type=d.content_type,
        payload=d.payload,
        instance_id=(instance_id or "")[:100] or None,
        submission_id=linked,
        form_id=(form_id or "")[:200] or None,
        form_version=(version or "")[:100] or None,
        submitter_id=d.user.id,
        device_id=d.device.id if d.device is not None else None,
        details={
            "sha256": sha,
            "message_vi": problem.message("vi"),
            "attachments": kept,
            "incomplete": d.incomplete,
            "device_time": d.device_time.isoformat() if d.device_time else None,
            "clock_offset_ms": d.clock_offset_ms,
            "lang": d.lang,
        },
    )
    db.session.add(item)
    audit.record(
        d.user,
        "submission.quarantine",
        item,
        code=problem.code,
        instance_id=instance_id,
        form_id=form_id,
        version=version,
    )
    return item


def _kept(part: IncomingAttachment) -> dict:
    stored = files.store(part.data)
    return {
        "filename": files.safe_filename(part.filename),
        "content_type": (part.content_type or DEFAULT_CONTENT_TYPE)[:120],
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_path": stored.storage_path,
    }


def _same_item(instance_id: str | None, code: str, sha: str) -> QuarantineItem | None:
    if not instance_id:
        return None
    stmt = sa.select(QuarantineItem).where(
        QuarantineItem.instance_id == instance_id,
        QuarantineItem.reason_code == code,
        QuarantineItem.resolved_at.is_(None),
    )
    return next((i for i in db.session.scalars(stmt) if i.details.get("sha256") == sha), None)
