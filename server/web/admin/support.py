"""The support ledger's pages: entries with filters, recording support to a household or a
commune/village (an agency's road, lights, equipment, a production model), voiding with a
reason, loan repayments, a spreadsheet import, and the catalogue (administrators)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import AdminUnit, Submission
from server.models.support import SupportCategory, SupportSource
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.access import scope
from server.services.programme import agencies as agency_service
from server.services.programme import ledger
from server.services.programme import pairs as pair_service
from server.web.admin.access import (
    admin_required,
    back_on_problem,
    form_date,
    form_unit,
    history,
    import_page,
    unit_choices,
    upload_file,
)
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import N_, _

PAGE_SIZE = 50
#: The sources as the pages name them (`SupportSource` values).
SOURCES = {
    "cadre": N_("Cadre"),
    "agency": N_("Agency"),
    "local_government": N_("Local government"),
    "organisation": N_("Mass organisation"),
    "business": N_("Business"),
    "donor": N_("Donor"),
    "other": N_("Other source"),
}


def _date_arg(name: str):
    import datetime as dt

    text = request.args.get(name, "").strip()[:10]
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise Problem("400.3", field=name, reason=text) from None


def _rows(entries: list) -> list[dict]:
    """Entries with their recipient's and giver's names, for the tables."""
    names = ledger.names_of(entries)
    rows = []
    for e in entries:
        rows.append(
            {
                "entry": e,
                "place": names.place(e),
                "household": names.households.get(e.household_id) or e.household_id,
                "source": SOURCES.get(SupportSource(e.source_type).value, ""),
                "giver": names.giver(e),
            }
        )
    return rows


def _kind_arg():
    code = request.args.get("kind", "").strip()[:40]
    return ledger.find_kind(code) if code and not code.isdigit() else None


@bp.get("/support")
@admin_required
def support():
    user = signed_in_user()
    unit_id = ascii_int(request.args.get("unit", ""))
    unit = db.session.get(AdminUnit, unit_id) if unit_id is not None else None
    source = request.args.get("source", "")
    filters = ledger.Filters(
        unit=unit,
        kind=_kind_arg(),
        source_type=SupportSource(source) if source in SOURCES else None,
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        voided=request.args.get("voided") == "1",
    )
    page = ledger.listed(user, filters, ascii_int(request.args.get("after", "")), PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "admin/support.html",
        rows=_rows(page.items),
        next_after=page.next_after,
        args=args,
        filters=filters,
        kinds=ledger.kinds(),
        active_kinds=ledger.kinds(active_only=True),
        units=[u for u in unit_choices(user) if u.level.value in ("commune", "village")],
        sources=SOURCES,
        agencies=list(db.session.scalars(agency_service.listed(user).limit(500))),
        can_record=user.role in ledger.RECORDERS,
        is_admin=scope.is_admin(user),
    )


@bp.post("/support")
@admin_required
@back_on_problem
def record_support():
    user = signed_in_user()
    household_text = request.form.get("household", "").strip()
    household = pair_service.find_household(user, household_text) if household_text else None
    to = ledger.recipient(household=household, unit=None if household else form_unit("unit"))
    agency_code = request.form.get("agency", "").strip()
    entry = ledger.record(
        user,
        ledger.get_kind(request.form.get("kind", "")),
        to,
        quantity=_form_number("quantity"),
        value_vnd=_form_vnd("value_vnd"),
        given_on=form_date("given_on"),
        source_type=request.form.get("source") or None,
        source_agency=agency_service.get(agency_code) if agency_code else None,
        source_name=request.form.get("source_name", ""),
        pupils=_form_vnd("pupils"),
        unit=request.form.get("unit_of_quantity") or None,
        kind_other=request.form.get("kind_other", ""),
        description=request.form.get("description", ""),
    )
    flash(_("Support recorded for %(place)s.", place=to.name), "ok")
    return redirect(url_for("web.admin.support_entry", support_id=entry.id))


def _form_number(name: str) -> float | None:
    text = request.form.get(name, "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Problem("400.3", field=name, reason=text[:40]) from None
    if value != value or abs(value) > 1e12:
        raise Problem("400.3", field=name, reason=text[:40])
    return value


def _form_vnd(name: str) -> int | None:
    """A whole amount; the dots Vietnamese write between thousands are allowed."""
    text = request.form.get(name, "").strip().replace(".", "").replace(" ", "")
    if not text:
        return None
    value = ascii_int(text.lstrip("-"), maximum=10**15)
    if value is None:
        raise Problem("400.3", field=name, reason=text[:40])
    return -value if text.startswith("-") else value


@bp.get("/support/<int(max=9223372036854775807):support_id>")
@admin_required
def support_entry(support_id: int):
    user = signed_in_user()
    entry = ledger.readable(user, support_id)
    loan = SupportCategory(entry.kind.category) == SupportCategory.LOAN
    return render_template(
        "admin/support_entry.html",
        row=_rows([entry])[0],
        loan=loan,
        outstanding=ledger.outstanding(entry) if loan else None,
        repayments=[r for r in entry.repayments if r.voided_at is None],
        can_edit=user.role in ledger.RECORDERS,
        events=history(entry),
        instance_id=db.session.scalar(
            sa.select(Submission.instance_id).where(Submission.id == entry.submission_id)
        )
        if entry.submission_id
        else None,
    )


@bp.post("/support/<int(max=9223372036854775807):support_id>/void")
@admin_required
@back_on_problem
def void_support(support_id: int):
    user = signed_in_user()
    entry = ledger.readable(user, support_id)
    ledger.void(user, entry, request.form.get("reason", ""))
    flash(_("The entry was voided: it no longer counts."), "ok")
    return redirect(url_for("web.admin.support_entry", support_id=support_id))


@bp.post("/support/<int(max=9223372036854775807):support_id>/repayments")
@admin_required
@back_on_problem
def repay_support(support_id: int):
    user = signed_in_user()
    entry = ledger.readable(user, support_id)
    amount = _form_vnd("amount_vnd")
    if amount is None:
        raise Problem("400.2", field="amount_vnd")
    ledger.repay(user, entry, amount, form_date("paid_on"), request.form.get("note", ""))
    flash(_("Repayment recorded."), "ok")
    return redirect(url_for("web.admin.support_entry", support_id=support_id))


@bp.post("/support/import")
@admin_required
@back_on_problem
def import_support():
    data, filename = upload_file()
    report = ledger.import_entries(signed_in_user(), data, filename)
    created = [
        (str(e.id), url_for("web.admin.support_entry", support_id=e.id)) for e in report.created
    ]
    return import_page(report, _("Import support"), url_for("web.admin.support"), created)


@bp.get("/support/kinds")
@admin_required
def support_kinds():
    user = signed_in_user()
    return render_template(
        "admin/support_kinds.html",
        kinds=ledger.kinds(),
        categories=[c.value for c in SupportCategory],
        units=ledger.shipped.UNITS,
        is_admin=scope.is_admin(user),
    )


@bp.post("/support/kinds")
@admin_required
@back_on_problem
def create_support_kind():
    form = request.form
    kind = ledger.add_kind(
        form.get("code", ""),
        form.get("category", ""),
        form.get("unit", ""),
        form.get("name_vi", ""),
        form.get("name_en", ""),
        form.get("group", ""),
        form.get("counts_pupils") == "1",
        actor=signed_in_user(),
    )
    flash(_("Kind %(name)s added to the catalogue.", name=kind.name_vi), "ok")
    return redirect(url_for("web.admin.support_kinds"))


@bp.post("/support/kinds/<int(max=2147483647):kind_id>")
@admin_required
@back_on_problem
def update_support_kind(kind_id: int):
    kind = ledger.get_kind(kind_id)
    form = request.form
    changes = {
        "name_vi": form.get("name_vi", kind.name_vi),
        "name_en": form.get("name_en", kind.name_en),
        "active": form.get("active") == "1",
    }
    ledger.update_kind(kind, actor=signed_in_user(), **changes)
    flash(_("Kind %(name)s saved.", name=kind.name_vi), "ok")
    return redirect(url_for("web.admin.support_kinds"))
