"""The quarantine: payloads kept because they could not be stored, shown and run again.

Reviewers list and read what is kept (R3-R5: "visible to reviewers") through
`visible` and `item_for`, scoped by `scope.quarantine_items`. A submission
for a form version the server did not have (R5) is processed when that
version is published (`reprocess_form_version`, called by `forms.publish`);
a reviewer can run any item again (`reprocess_for`). The original sender's
rights apply, attachments come back from the attachment store, and nothing
is quarantined twice.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json

import sqlalchemy as sa
from sqlalchemy.orm import undefer

from server.db import db
from server.models import AdminUnit, Device, QuarantineItem, Submission, User
from server.models.base import utcnow
from server.models.people import user_scope
from server.problems import Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.paging import Page, keyset_page
from server.services.receiving import attachments as files
from server.services.receiving import ingest
from server.services.receiving.ingest import JSON_TYPE, Delivery, IncomingAttachment, Receipt


def visible(
    user: User,
    *,
    state: str = "open",
    reason: str | None = None,
    form_id: str | None = None,
    commune: AdminUnit | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """The quarantined items `user` may read, oldest first, one page at a time.

    `state`: open (not yet resolved), resolved, or all; `commune`: only the items
    that belong there (see `of_commune`).
    """
    stmt = scope.quarantine_items(user) if commune is None else of_commune(user, commune)
    if state == "open":
        stmt = stmt.where(QuarantineItem.resolved_at.is_(None))
    elif state == "resolved":
        stmt = stmt.where(QuarantineItem.resolved_at.is_not(None))
    if reason:
        stmt = stmt.where(QuarantineItem.reason_code == reason)
    if form_id:
        stmt = stmt.where(QuarantineItem.form_id == form_id)
    return keyset_page(stmt, QuarantineItem.id, after, limit)


def of_commune(user: User, commune: AdminUnit) -> sa.Select:
    """The quarantined payloads `user` may read that belong to `commune`: sent by someone
    working there, or linked to one of its submissions."""
    return scope.quarantine_items(user).where(in_commune(commune))


def in_commune(commune: AdminUnit) -> sa.ColumnElement[bool]:
    """SQL: a quarantined payload belongs to `commune`: sent by someone working there, or
    linked to one of its submissions (looked up per item, not by listing the commune's)."""
    units = sa.select(AdminUnit.id).where(
        sa.or_(AdminUnit.id == commune.id, AdminUnit.parent_id == commune.id)
    )
    senders = sa.select(user_scope.c.user_id).where(user_scope.c.unit_id.in_(units))
    linked = sa.exists().where(
        Submission.id == QuarantineItem.submission_id, Submission.commune_id == commune.id
    )
    return sa.or_(QuarantineItem.submitter_id.in_(senders), linked)


def item_for(user: User, item_id: int) -> QuarantineItem:
    """One item with its payload, or 404.1 when it does not exist or is outside `user`'s scope
    (the same answer for both, so nobody learns what is kept elsewhere)."""
    stmt = (
        scope.quarantine_items(user)
        .where(QuarantineItem.id == item_id)
        .options(undefer(QuarantineItem.payload))
    )
    item = db.session.scalar(stmt)
    if item is None:
        raise Problem("404.1")
    return item


def describe_all(items: list[QuarantineItem], lang: str) -> list[dict]:
    """`describe` for a page of items, reading their senders, devices and linked
    submissions in three queries for the page rather than three per item."""
    _load(User, {i for item in items for i in (item.submitter_id, item.resolved_by_id)})
    _load(Device, {item.device_id for item in items})
    _load(Submission, {item.submission_id for item in items})
    return [describe(item, lang) for item in items]


def _load(model, ids: set) -> None:
    """Bring the rows `ids` of `model` into the session, so `session.get` finds them there."""
    ids.discard(None)
    if ids:
        db.session.scalars(sa.select(model).where(model.id.in_(ids))).all()


def describe(item: QuarantineItem, lang: str, *, payload: bool = False) -> dict:
    """What a reviewer reads about `item` (see `server.schemas.quarantine`)."""
    details = item.details or {}
    submitter = db.session.get(User, item.submitter_id) if item.submitter_id else None
    resolver = db.session.get(User, item.resolved_by_id) if item.resolved_by_id else None
    found = {
        "id": item.id,
        "reason_code": item.reason_code,
        "message": (details.get("message_vi") or item.message) if lang == "vi" else item.message,
        "instance_id": item.instance_id,
        "form_id": item.form_id,
        "form_version": item.form_version,
        "linked_instance_id": item.submission.instance_id if item.submission else None,
        "submitter": submitter.username if submitter else None,
        "device": db.session.get(Device, item.device_id).name if item.device_id else None,
        "content_type": item.content_type,
        "sha256": details.get("sha256"),
        "attachments": details.get("attachments", []),
        "created_at": item.created_at,
        "resolved_at": item.resolved_at,
        "resolved_by": resolver.username if resolver else None,
    }
    if payload:
        found["payload"] = payload_text(item.payload or b"")
    return found


def payload_text(data: bytes) -> dict:
    """A payload as a reviewer reads it: text when it is UTF-8 (XML, JSON), else base64.

    A gzip body is shown unpacked (what the tablet meant to send); the stored
    bytes stay as they arrived.
    """
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):  # not gzip after all: show the bytes
            data = gzip.decompress(data)
    try:
        return {"encoding": "utf-8", "text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "text": base64.b64encode(data).decode("ascii")}


@transactional
def reprocess_for(user: User, item_id: int) -> Receipt:
    """A reviewer runs an item they may read through ingest again (see `reprocess_quarantine`)."""
    scope.require_role(user, *scope.REVIEWERS)
    item_for(user, item_id)
    return reprocess_quarantine(item_id, user)


@transactional
def reprocess_quarantine(item_id: int, actor: User | None = None) -> Receipt:
    """Run a quarantined payload through ingest again (its form version may now be loaded).

    When it is stored now (accepted, duplicate or invalid) the item is marked
    resolved and linked to the submission; otherwise it stays as it was and
    the receipt says why.
    """
    item = db.session.get(QuarantineItem, item_id)
    if item is None:
        raise Problem("404.1")
    d = _delivery_of(item)
    if item.content_type == JSON_TYPE:
        try:
            receipt = ingest._receive_item(json.loads(item.payload), d)
        except ValueError as exc:
            receipt = ingest._quarantine(d, Problem("400.7", reason=str(exc)))
    else:
        receipt = ingest._receive_xml(d)
    if receipt.stored and item.resolved_at is None:
        item.resolved_at = utcnow()
        item.resolved_by_id = actor.id if actor else None
        item.submission_id = receipt.submission_id
        audit.record(actor, "quarantine.resolve", item, submission_id=receipt.submission_id)
    return receipt


@transactional
def reprocess_form_version(form_id: str, version: str, actor: User | None = None) -> list[Receipt]:
    """Reprocess every unresolved item kept because this form version was unknown (R5)."""
    stmt = sa.select(QuarantineItem.id).where(
        QuarantineItem.form_id == form_id,
        QuarantineItem.form_version == version,
        QuarantineItem.reason_code == "404.5",
        QuarantineItem.resolved_at.is_(None),
    )
    return [reprocess_quarantine(i, actor) for i in db.session.scalars(stmt.order_by("id"))]


def _delivery_of(item: QuarantineItem) -> Delivery:
    """The delivery an item came as: its sender, device, bytes, attachments and clock."""
    details = item.details or {}
    kept = tuple(
        IncomingAttachment(a["filename"], a["content_type"], files.read(a["storage_path"]))
        for a in details.get("attachments", [])
    )
    return Delivery(
        db.session.get(User, item.submitter_id),
        db.session.get(Device, item.device_id) if item.device_id else None,
        item.payload,
        item.content_type,
        kept,
        bool(details.get("incomplete")),
        ingest._time(details.get("device_time")),
        ingest._number(details.get("clock_offset_ms")),
        details.get("lang", "vi"),
        requeued=item,
    )
