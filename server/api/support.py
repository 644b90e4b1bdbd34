"""The support ledger: entries (list, record, void, repayments, import) and the catalogue.

Admins, coordinators and commune officials record support in their area, agency leads where
their agency is assigned; cadres record it in the visit form. The catalogue is the admins'.
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.db import db
from server.models import AdminUnit, SupportEntry, User
from server.models.programme import Agency
from server.models.support import SupportCategory, SupportSource
from server.schemas.support import (
    EntryCreateSchema,
    EntryPageSchema,
    EntryQuerySchema,
    EntrySchema,
    KindCreateSchema,
    KindListSchema,
    KindSchema,
    RepayCreateSchema,
    RepaymentSchema,
    VoidSchema,
)
from server.services.programme import ledger, pairs

bp = Blueprint("support", __name__)
_ID = "<int(max=9223372036854775807):support_id>"


def _path(unit_id: int | None) -> str | None:
    unit = db.session.get(AdminUnit, unit_id) if unit_id else None
    return unit.path if unit is not None else None


def _username(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user is not None else None


def shown(entry: SupportEntry, *, details: bool = False) -> dict:
    agency = db.session.get(Agency, entry.source_agency_id) if entry.source_agency_id else None
    loan = SupportCategory(entry.kind.category) == SupportCategory.LOAN
    live = [r for r in entry.repayments if r.voided_at is None] if details and loan else []
    return {
        "id": entry.id,
        "kind": entry.kind.code,
        "kind_name": entry.kind.name_vi,
        "kind_other": entry.kind_other,
        "description": entry.description,
        "household": entry.household_id,
        "commune": _path(entry.commune_id),
        "village": _path(entry.village_id),
        "quantity": entry.quantity,
        "unit": entry.unit,
        "value_vnd": entry.value_vnd,
        "pupils": entry.pupils,
        "given_on": entry.given_on,
        "source": SupportSource(entry.source_type).value,
        "source_agency": agency.code if agency is not None else None,
        "source_user": _username(entry.source_user_id),
        "source_name": entry.source_name,
        "submission_id": entry.submission_id,
        "item_index": entry.item_index,
        "recorded_by": _username(entry.recorded_by_id),
        "recorded_at": entry.recorded_at,
        "voided_at": entry.voided_at,
        "void_reason": entry.void_reason,
        "outstanding_vnd": ledger.outstanding(entry) if details and loan else None,
        "repayments": [
            {"id": r.id, "paid_on": r.paid_on, "amount_vnd": r.amount_vnd, "note": r.note}
            for r in live
        ],
    }


@bp.get("/support")
@login_required()
def list_entries():
    """The entries the caller may read, newest first, paged; filters `unit` (a commune or
    village path), `household`, `kind`, `source`, `agency`, `date_from`, `date_to` (inclusive)
    and `voided` (include voided entries)."""
    query = params.load(EntryQuerySchema(), request.args.to_dict())
    actor = current_user()
    household = None
    if query.get("household"):
        household = pairs.find_household(actor, query["household"]).id
    agency = lookups.agency(query.get("agency"))
    filters = ledger.Filters(
        unit=lookups.unit(query.get("unit")),
        household_id=household,
        kind=ledger.get_kind(query["kind"]) if query.get("kind") else None,
        source_type=SupportSource(query["source"]) if query.get("source") else None,
        source_agency_id=agency.id if agency is not None else None,
        date_from=query.get("date_from"),
        date_to=query.get("date_to"),
        voided=query["voided"],
    )
    page = ledger.listed(actor, filters, query.get("after"), query["limit"])
    return EntryPageSchema().dump(
        {"entries": [shown(e) for e in page.items], "next_after": page.next_after}
    )


@bp.post("/support")
@login_required()
def record_entry():
    """Record support to a household (`household`: id or code) or a commune or village
    (`unit`: its path): 201 with the entry."""
    body = params.load(EntryCreateSchema(), request.get_json(silent=True))
    actor = current_user()
    household = pairs.find_household(actor, body["household"]) if body.get("household") else None
    to = ledger.recipient(household=household, unit=lookups.unit(body.get("unit")))
    made = ledger.record(
        actor,
        ledger.get_kind(body["kind"]),
        to,
        quantity=body.get("quantity"),
        value_vnd=body.get("value_vnd"),
        given_on=body.get("given_on"),
        source_type=body.get("source"),
        source_agency=lookups.agency(body.get("agency")),
        source_name=body.get("source_name"),
        pupils=body.get("pupils"),
        unit=body.get("unit_of_quantity"),
        kind_other=body.get("kind_other"),
        description=body.get("description"),
    )
    return EntrySchema().dump(shown(made, details=True)), 201


@bp.get(f"/support/{_ID}")
@login_required()
def show_entry(support_id: int):
    """One entry, with its repayments and what is still owed when it is a loan."""
    return EntrySchema().dump(shown(ledger.readable(current_user(), support_id), details=True))


@bp.post(f"/support/{_ID}/void")
@login_required()
def void_entry(support_id: int):
    """Void an entry with a `reason`: it stops counting; the row stays."""
    body = params.load(VoidSchema(), request.get_json(silent=True))
    entry = ledger.readable(current_user(), support_id)
    voided = ledger.void(current_user(), entry, body["reason"])
    return EntrySchema().dump(shown(voided, details=True))


@bp.post(f"/support/{_ID}/repayments")
@login_required()
def repay_entry(support_id: int):
    """Record a repayment of a loan entry (`amount_vnd`, `paid_on` today by default): 201."""
    body = params.load(RepayCreateSchema(), request.get_json(silent=True))
    entry = ledger.readable(current_user(), support_id)
    made = ledger.repay(
        current_user(), entry, body["amount_vnd"], body.get("paid_on"), body.get("note")
    )
    return RepaymentSchema().dump(made), 201


@bp.get("/support/kinds")
@login_required()
def list_kinds():
    """The catalogue of support kinds, in its order (inactive ones included, marked)."""
    return KindListSchema().dump({"kinds": ledger.kinds()})


@bp.post("/support/kinds")
@login_required()
def create_kind():
    """Add a kind to the catalogue (administrators): 201."""
    body = params.load(KindCreateSchema(), request.get_json(silent=True))
    made = ledger.add_kind(
        body["code"],
        body["category"],
        body["unit"],
        body["name_vi"],
        body.get("name_en") or "",
        body.get("group"),
        body.get("counts_pupils", False),
        actor=current_user(),
    )
    return KindSchema().dump(made), 201


@bp.post("/support/import")
@login_required()
def import_entries():
    """Entries from an XLSX or CSV file (multipart field `file`; columns kind, household or
    unit, quantity, value_vnd, given_on, source, source_name, pupils, kind_other,
    description): all or nothing (400.23, or 403.16, every row's error listed)."""
    data, filename = lookups.uploaded_file()
    return lookups.import_answer(ledger.import_entries(current_user(), data, filename))
