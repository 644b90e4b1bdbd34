"""Quarantine: what the server kept but could not store (R3-R5), for reviewers to read and retry."""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api.auth import current_user, login_required
from server.errors import negotiate_language
from server.schemas.quarantine import (
    QuarantineDetailSchema,
    QuarantinePageSchema,
    QuarantineQuerySchema,
    ReprocessSchema,
)
from server.services.receiving import quarantine

bp = Blueprint("quarantine", __name__)


@bp.get("/quarantine")
@login_required()
def list_items():
    """The kept payloads in the caller's scope, oldest first, paged (`after`, `limit`).

    `state`: open (default), resolved or all; `reason` filters by problem code,
    `form_id` by the form the payload names. A cadre sees what they sent.
    """
    query = params.load(QuarantineQuerySchema(), request.args.to_dict())
    page = quarantine.visible(current_user(), **query)
    lang = negotiate_language()
    return QuarantinePageSchema().dump(
        {
            "items": quarantine.describe_all(page.items, lang),
            "next_after": page.next_after,
        }
    )


@bp.get("/quarantine/<int:item_id>")
@login_required()
def show_item(item_id: int):
    """One kept payload with its body as received, its reason and its attachments."""
    item = quarantine.item_for(current_user(), item_id)
    return QuarantineDetailSchema().dump(
        quarantine.describe(item, negotiate_language(), payload=True)
    )


@bp.post("/quarantine/<int:item_id>/reprocess")
@login_required()
def reprocess_item(item_id: int):
    """Run a kept payload through ingest again (say, once its form version is loaded).

    Reviewers only. When it is stored now the item is resolved and linked to
    the submission; otherwise it stays open and `code`/`message` say why.
    """
    user, lang = current_user(), negotiate_language()
    receipt = quarantine.reprocess_for(user, item_id)
    problem = receipt.problem
    item = quarantine.item_for(user, item_id)
    return ReprocessSchema().dump(
        {
            "result": receipt.result,
            "status": receipt.status,
            "code": problem.code if problem else None,
            "message": problem.message(lang) if problem else None,
            "item": quarantine.describe(item, lang),
        }
    )
