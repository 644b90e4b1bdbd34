"""The quarantine, later: payloads kept because they could not be stored are run again.

A submission for a form version the server did not have (R5) is processed
when that version is published (`reprocess_form_version`, called by
`forms.publish`); any item can be retried by hand (`reprocess_quarantine`).
The original sender's rights apply, attachments come back from the
attachment store, and nothing is quarantined twice.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.db import db
from server.models import Device, QuarantineItem, User
from server.models.base import utcnow
from server.problems import Problem
from server.services import attachments as files
from server.services import audit, ingest, transactional
from server.services.ingest import JSON_TYPE, Delivery, IncomingAttachment, Receipt


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
            receipt = ingest._quarantine(d, Problem("400.7", reason=str(exc), reason_vi=str(exc)))
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
