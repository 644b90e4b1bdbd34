"""Resumable attachment uploads (sync contract C3): create, write chunks, ask the offset, finish.

The protocol, for one attachment of a submission the caller sent:

1. `create` names the submission (`instance_id`), the file name, its size and
   SHA-256. Creating it again returns the same session (and its offset), so a
   client that lost the answer simply asks again.
2. `write` appends a chunk at `offset`, which must equal the bytes the server
   holds: anything else is refused with the server's offset in the details,
   and the client continues from there. Each chunk is a file of the store every
   machine reaches (`server.storage`, key `uploads/<token>/<offset>`), so the next
   chunk may go to another machine. In the database store the chunk and the
   offset that counts it commit together; in an object store the chunk is written
   before the offset row is committed, so the row never claims bytes the store
   lacks, and a chunk left by a crash between the two is replaced by the next
   write at that offset (the file is read by walking the offsets, never by listing).
3. The write that brings the offset to the size (or `finish`, for an empty
   file or a client that lost that answer) checks the SHA-256 of the whole
   file, keeps it in the attachment store and adds it to the submission (or,
   for a payload held in quarantine, to the quarantine item). Finishing twice
   is harmless.

Only the user who created a session (and an administrator) can see it; a
session of anyone else answers as one that does not exist.

A session left unfinished for `UPLOAD_EXPIRY_DAYS` is deleted with its chunks (`sweep`, a
daily job): the tablet still holds the file, and asking for a session that is gone answers
404, on which a client opens a new one and sends the file again (giupho-sync does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator

import sqlalchemy as sa
from flask import current_app

from server import storage
from server.db import db
from server.models import Attachment, Device, QuarantineItem, Submission, User, instance_is
from server.models.base import utcnow
from server.models.uploads import UploadSession
from server.problems import Problem
from server.services import audit, transactional
from server.services.access.scope import is_admin
from server.services.receiving import attachments

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_SHA256_HEX = frozenset("0123456789abcdef")


def max_upload() -> int:
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def max_chunk() -> int:
    return int(current_app.config["UPLOAD_MAX_CHUNK"])


def _chunk_key(session: UploadSession, offset: int) -> str:
    return f"uploads/{session.token}/{offset:012d}"


def _chunks(session: UploadSession) -> Iterator[tuple[str, bytes]]:
    """The chunks received, in order: (key, bytes), from offset 0 to the session's offset."""
    store = storage.current()
    offset = 0
    while offset < session.offset:
        key = _chunk_key(session, offset)
        data = store.get(key)
        if not data:
            raise storage.MissingFile(key)
        yield key, data[: session.offset - offset]
        offset += len(data)


def _drop_chunks(session: UploadSession) -> None:
    """Delete the chunks received once the transaction commits: a failed commit leaves them,
    so the client's retry finds them (`storage.delete_after_commit`). The walk reads each
    chunk's size, not its bytes; a missing one ends it."""
    store, offset = storage.current(), 0
    while offset < session.offset:
        key = _chunk_key(session, offset)
        try:
            size = store.size(key)
        except storage.MissingFile:
            return
        if not size:
            return
        storage.delete_after_commit(key)
        offset += size


def _owned(user: User, instance_id: str) -> tuple[Submission | None, QuarantineItem | None]:
    """The submission (else quarantine item) `instance_id` that `user` may attach files to."""
    stmt = sa.select(Submission).where(instance_is(instance_id))
    if not is_admin(user):
        stmt = stmt.where(Submission.submitter_id == user.id)
    submission = db.session.scalar(stmt)
    if submission is not None:
        return submission, None
    stmt = (
        sa.select(QuarantineItem)
        .where(QuarantineItem.instance_id == instance_id)
        .order_by(QuarantineItem.id.desc())
        .limit(1)
    )
    if not is_admin(user):
        stmt = stmt.where(QuarantineItem.submitter_id == user.id)
    return None, db.session.scalar(stmt)


def _check_new(instance_id: str, filename: str, size: int, sha256: str) -> None:
    if not instance_id or len(instance_id) > 100:
        raise Problem("400.3", field="instance_id", reason="give the submission's instanceID")
    if size < 0:
        raise Problem("400.3", field="size", reason="must be 0 or more")
    if size > max_upload():
        raise Problem("413.1", limit=max_upload())
    if len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
        raise Problem("400.3", field="sha256", reason="64 lower-case hexadecimal digits")
    if not filename:
        raise Problem("400.2", field="filename")


@transactional
def create(
    user: User,
    device: Device | None,
    *,
    instance_id: str,
    filename: str,
    size: int,
    sha256: str,
    content_type: str | None = None,
) -> tuple[UploadSession, bool]:
    """The upload session of this attachment, created when there is none; (session, created).

    The submission must be on the server and the caller's own (push it first);
    otherwise Problem 404.1, as for something that does not exist.
    """
    sha256 = (sha256 or "").strip().lower()
    _check_new(instance_id, filename, size, sha256)
    name = attachments.safe_filename(filename)
    submission, item = _owned(user, instance_id)
    if submission is None and item is None:
        raise Problem("404.1")
    found = _find(user.id, instance_id, name, sha256)
    if found is not None:
        return found, False
    session = UploadSession(
        token=secrets.token_urlsafe(32),
        user_id=user.id,
        device_id=device.id if device is not None else None,
        instance_id=instance_id,
        filename=name,
        content_type=(content_type or DEFAULT_CONTENT_TYPE)[:120],
        size=size,
        sha256=sha256,
        offset=0,
    )
    try:
        with db.session.begin_nested():  # two requests creating the same session at once
            db.session.add(session)
    except sa.exc.IntegrityError:
        found = _find(user.id, instance_id, name, sha256)
        if found is None:
            raise
        return found, False
    return session, True


def _find(user_id: int, instance_id: str, filename: str, sha256: str) -> UploadSession | None:
    return db.session.scalar(
        sa.select(UploadSession).where(
            UploadSession.user_id == user_id,
            UploadSession.instance_id == instance_id,
            UploadSession.filename == filename,
            UploadSession.sha256 == sha256,
        )
    )


def get(user: User, token: str, *, for_update: bool = False) -> UploadSession:
    """The caller's session `token`; Problem 404.1 for anyone else's or an unknown one."""
    stmt = sa.select(UploadSession).where(UploadSession.token == token)
    if for_update:
        stmt = stmt.with_for_update()
    session = db.session.scalar(stmt)
    if session is None or (session.user_id != user.id and not is_admin(user)):
        raise Problem("404.1")
    return session


@transactional
def write(user: User, token: str, offset: int, data: bytes) -> UploadSession:
    """Append `data` at `offset` (which must be the server's offset); returns the session.

    An empty chunk at the current offset changes nothing (a client asking
    where to continue). A wrong offset is Problem 400.3 with the server's
    offset in the details.
    """
    session = get(user, token, for_update=True)
    if len(data) > max_chunk():
        raise Problem("413.1", limit=max_chunk())
    if offset != session.offset:
        raise Problem(
            "400.3",
            {
                "offset": session.offset,
                "size": session.size,
                "complete": session.completed_at is not None,
            },
            field="Upload-Offset",
            reason=f"the server holds {session.offset} bytes; continue from there",
        )
    if not data:
        return session
    if session.completed_at is not None or offset + len(data) > session.size:
        raise Problem(
            "400.3",
            {"offset": session.offset, "size": session.size},
            field="body",
            reason=f"the file has {session.size} bytes; this chunk goes past its end",
        )
    if offset == 0 and len(data) == session.size:
        _complete(user, session, data)  # the whole file in one chunk: no part file needed
        return session
    storage.current().put(_chunk_key(session, offset), data)
    session.offset = offset + len(data)
    session.updated_at = utcnow()
    if session.offset == session.size:
        _complete(user, session)  # the last chunk finishes the upload in the same request
    return session


@transactional
def finish(user: User, token: str) -> UploadSession:
    """Verify the whole file and attach it to its submission; returns the completed session.

    A file whose SHA-256 differs from the declared one is discarded and the
    session starts again at offset 0 (Problem 400.3): the client sends it again.
    """
    session = get(user, token, for_update=True)
    if session.completed_at is not None:
        return session
    if session.offset != session.size:
        raise Problem(
            "400.3",
            {"offset": session.offset, "size": session.size},
            field="offset",
            reason=f"{session.offset} of {session.size} bytes received; send the rest first",
        )
    _complete(user, session)
    return session


def _complete(user: User, session: UploadSession, data: bytes | None = None) -> None:
    """Check the received file against its SHA-256, keep it and attach it (see `finish`).

    The chunks are read twice, a chunk at a time (hash, then copy into the attachment's
    key), so a 50 MiB photo never sits whole in memory."""
    if data is None:
        digest = hashlib.sha256()
        for _key, chunk in _chunks(session):
            digest.update(chunk)
    else:
        digest = hashlib.sha256(data)
    if digest.hexdigest() != session.sha256:
        _drop_chunks(session)
        session.offset = 0
        session.updated_at = utcnow()
        db.session.commit()  # the reset must stick: the client starts again from 0
        raise Problem(
            "400.3",
            {"offset": 0, "size": session.size},
            field="sha256",
            reason="the bytes received do not match the checksum; send the file again",
        )
    if data is not None:
        kept = attachments.store(data)
    else:
        chunks = (chunk for _key, chunk in _chunks(session))
        kept = attachments.keep_verified(session.sha256, session.size, chunks)
    session.storage_path = kept.storage_path
    session.completed_at = utcnow()
    session.updated_at = session.completed_at
    session.offset = session.size
    _attach(user, session, kept)
    db.session.flush()
    _drop_chunks(session)


def _attach(user: User, session: UploadSession, kept: attachments.StoredFile) -> None:
    """Add the verified file to its submission (or quarantine item); a clash is audited."""
    owner = db.session.get(User, session.user_id) or user
    submission, item = _owned(owner, session.instance_id)
    if submission is not None:
        existing = db.session.scalar(
            sa.select(Attachment).where(
                Attachment.submission_id == submission.id,
                Attachment.filename == session.filename,
            )
        )
        if existing is not None:
            session.attachment_id = existing.id
            if existing.sha256 != kept.sha256:
                audit.record(
                    user,
                    "attachment.clash",
                    audit.Ref("submissions", str(submission.id)),
                    filename=session.filename,
                    sha256=kept.sha256,
                    storage_path=kept.storage_path,
                )
            return
        row = Attachment(
            submission_id=submission.id,
            filename=session.filename,
            content_type=session.content_type,
            size=kept.size,
            sha256=kept.sha256,
            storage_path=kept.storage_path,
        )
        db.session.add(row)
        db.session.flush()
        session.attachment_id = row.id
    elif item is not None:
        known = {a.get("filename") for a in item.details.get("attachments", [])}
        if session.filename not in known:
            entry = {
                "filename": session.filename,
                "content_type": session.content_type,
                "size": kept.size,
                "sha256": kept.sha256,
                "storage_path": kept.storage_path,
            }
            details = dict(item.details)
            details["attachments"] = [*details.get("attachments", []), entry]
            item.details = details


#: Abandoned sessions deleted per transaction by `sweep`.
SWEEP_BATCH = 100


def sweep(now: dt.datetime | None = None) -> int:
    """Delete the sessions nobody wrote to for `UPLOAD_EXPIRY_DAYS` and never finished, with
    their chunks in the store, `SWEEP_BATCH` per transaction; the number deleted."""
    days = float(current_app.config["UPLOAD_EXPIRY_DAYS"])
    before = (now or utcnow()) - dt.timedelta(days=days)
    swept = 0
    while done := _sweep_batch(before):
        swept += done
    return swept


@transactional
def _sweep_batch(before: dt.datetime) -> int:
    sessions = db.session.scalars(
        sa.select(UploadSession)
        .where(UploadSession.completed_at.is_(None), UploadSession.updated_at < before)
        .order_by(UploadSession.updated_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)  # a client writing to one now keeps it
    ).all()
    for session in sessions:
        _drop_chunks(session)
        db.session.delete(session)
    return len(sessions)
